// The profile's storage as the page sees it: the node's IndexedDB lives in the same origin, so
// the page's navigator.storage answers for the node. persist() exists only on pages (not workers).

export interface StorageInfo {
  /** Bytes used by this origin; null where the browser does not say. */
  usage: number | null;
  /** Bytes this origin may use; null where the browser does not say. */
  quota: number | null;
  /** Whether the browser promised not to evict this origin's data under storage pressure. */
  persisted: boolean;
  /** False where navigator.storage is missing (old browsers, insecure contexts). */
  supported: boolean;
}

type StorageLike = Pick<StorageManager, 'estimate' | 'persisted' | 'persist'>;

function manager(): StorageLike | undefined {
  return typeof navigator === 'undefined' ? undefined : navigator.storage;
}

const num = (v: number | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** navigator.storage.estimate() and persisted(), never throws. */
export async function storageInfo(storage: StorageLike | undefined = manager()): Promise<StorageInfo> {
  if (storage === undefined) return { usage: null, quota: null, persisted: false, supported: false };
  const [est, persisted] = await Promise.all([
    storage.estimate().catch((): StorageEstimate => ({})),
    storage.persisted().catch(() => false)
  ]);
  return { usage: num(est.usage), quota: num(est.quota), persisted, supported: true };
}

/** Asks the browser to keep this origin's data (navigator.storage.persist()); resolves to the answer. */
export async function requestPersistence(storage: StorageLike | undefined = manager()): Promise<boolean> {
  if (storage === undefined) return false;
  return storage.persist().catch(() => false);
}
