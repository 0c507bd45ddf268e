// A store the browser reset: when IndexedDB reports at open that it lost the origin's data
// (Chromium deletes a backing store it finds corrupt), the node notes when and why in the new
// store's meta, so this and every later start can tell the user (status.storeReset).
import type { LedgerStore } from '../core/storage.js';
import { DATA_LOSS_AMOUNT_MAX, DATA_LOSS_MESSAGE_MAX } from '../platform/idb-data-loss.js';

/** Meta key of the last reset the platform reported. */
export const STORE_RESET_META = 'storeReset';

/** A reset of this profile's store: when the node saw it (ms since the epoch), and what the platform said. */
export interface StoreReset {
  at: number;
  /** IndexedDB's dataLoss: 'total' (Chromium deleted the origin's backing store). */
  amount: string;
  /** The platform's reason, e.g. Chromium's dataLossMessage; may be empty. */
  message: string;
}

function isStoreReset(v: unknown): v is StoreReset {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return Number.isFinite(r.at) && typeof r.amount === 'string' && typeof r.message === 'string';
}

/**
 * Records the loss `store` reported at this open (if any) under STORE_RESET_META and returns
 * it; otherwise returns the one recorded earlier, or null.
 */
export async function noteStoreReset(store: LedgerStore, now: number): Promise<StoreReset | null> {
  if (store.dataLoss) {
    const reset: StoreReset = { at: now, amount: store.dataLoss.amount, message: store.dataLoss.message };
    await store.setMeta(STORE_RESET_META, reset);
    return reset;
  }
  const saved = await store.getMeta(STORE_RESET_META);
  if (!isStoreReset(saved)) return null;
  // Bounded again when read: the row is this profile's own, but nothing shown is unbounded.
  return {
    at: saved.at,
    amount: saved.amount.slice(0, DATA_LOSS_AMOUNT_MAX),
    message: saved.message.slice(0, DATA_LOSS_MESSAGE_MAX)
  };
}
