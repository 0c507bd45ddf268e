// What IndexedDB says it lost when it opened a database. Chromium deletes an origin's whole
// backing store when it finds it corrupt at open, then treats the open as a first open and
// says so on the upgrade event: `IDBVersionChangeEvent.dataLoss` ('none' | 'total') and
// `dataLossMessage` (a Chromium extension: https://github.com/w3c/IndexedDB/issues/30).
// Dexie does not expose that event, so the factory it gets is wrapped to listen for it.
import type { StoreDataLoss } from '../core/storage.js';

/** The Chromium-only fields of an upgrade event, absent elsewhere. */
interface DataLossEvent extends Event {
  dataLoss?: unknown;
  dataLossMessage?: unknown;
}

/** Longest message kept, characters (Chromium's are one line; the rest is dropped). */
export const DATA_LOSS_MESSAGE_MAX = 500;
/** Longest `amount` kept, characters (Chromium says 'none' or 'total'). */
export const DATA_LOSS_AMOUNT_MAX = 16;

/** The loss an upgrade event reports, or null when it reports none (or is not Chromium's). */
export function dataLossOf(ev: Event): StoreDataLoss | null {
  const { dataLoss, dataLossMessage } = ev as DataLossEvent;
  if (typeof dataLoss !== 'string' || dataLoss === 'none') return null;
  const message = typeof dataLossMessage === 'string' ? dataLossMessage.slice(0, DATA_LOSS_MESSAGE_MAX) : '';
  return { amount: dataLoss.slice(0, DATA_LOSS_AMOUNT_MAX), message };
}

/**
 * `factory` with `open` watched: every open request reports the loss its upgrade event carries
 * to `seen` (before the caller's own handlers, which are set after `open` returns). Every other
 * member is the factory's own, bound to it.
 */
export function watchDataLoss<F extends object>(factory: F, seen: (loss: StoreDataLoss) => void): F {
  const idb = factory as unknown as IDBFactory;
  const open = (name: string, version?: number): IDBOpenDBRequest => {
    const req = version === undefined ? idb.open(name) : idb.open(name, version);
    req.addEventListener('upgradeneeded', (ev) => {
      const loss = dataLossOf(ev);
      if (loss !== null) seen(loss);
    });
    return req;
  };
  return new Proxy(factory, {
    get(target, prop) {
      if (prop === 'open') return open;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    }
  });
}
