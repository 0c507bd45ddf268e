// A store the browser reset: when IndexedDB reports at open that it lost the origin's data
// (Chromium deletes a backing store it finds corrupt), the node notes when and why in the new
// store's meta, so this and every later start can tell the user (status.storeReset).
import type { LedgerStore } from '../core/storage.js';
import type { OwnCopyRestore } from './own-copy.js';
import { DATA_LOSS_AMOUNT_MAX, DATA_LOSS_MESSAGE_MAX } from '../platform/idb-data-loss.js';

/** Meta key of the last reset the platform reported. */
export const STORE_RESET_META = 'storeReset';

/** A reset of this profile's store: when the node saw it (ms since the epoch), and what the platform said. */
export interface StoreReset {
  at: number;
  /** IndexedDB's dataLoss: 'total' (Chromium deleted the origin's backing store); 'unreported' when the
   * store lost what the own copy held without the browser saying so (recordRestore). */
  amount: string;
  /** The platform's reason, e.g. Chromium's dataLossMessage; may be empty. */
  message: string;
  /** What came back from the own copy at that start (worker/own-copy.ts), if anything did. */
  restored?: OwnCopyRestore;
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
  const r = saved.restored as Partial<OwnCopyRestore> | undefined;
  const restored =
    typeof r === 'object' && r !== null && typeof r.identity === 'boolean' && Number.isSafeInteger(r.entries)
      ? {
          identity: r.identity,
          entries: r.entries as number,
          ...(Number.isSafeInteger(r.waiting) ? { waiting: r.waiting as number } : {})
        }
      : undefined;
  return {
    at: saved.at,
    amount: saved.amount.slice(0, DATA_LOSS_AMOUNT_MAX),
    message: saved.message.slice(0, DATA_LOSS_MESSAGE_MAX),
    ...(restored === undefined ? {} : { restored })
  };
}

/** `amount` of a reset no platform reported: the store came back without what the own copy held. */
export const UNREPORTED_LOSS = 'unreported';

/**
 * Notes what the own copy restored at this start (if anything) on the reset the platform reported
 * at this open, or, with none reported, as a reset of its own (the store lost own entries or the
 * identity without a word). Returns the reset to show.
 */
export async function recordRestore(
  store: LedgerStore,
  at: { reset: StoreReset | null; reported: boolean },
  restored: OwnCopyRestore | null,
  now: number
): Promise<StoreReset | null> {
  // Entries only waiting again after a reload (nothing the store lacked came back): no new loss.
  if (restored === null || (!restored.identity && restored.entries === 0)) return at.reset;
  const base: StoreReset =
    at.reported && at.reset !== null
      ? at.reset
      : {
          at: now,
          amount: UNREPORTED_LOSS,
          message: "the store came back without this device's latest entries or its identity"
        };
  const reset: StoreReset = { ...base, restored };
  await store.setMeta(STORE_RESET_META, reset);
  return reset;
}
