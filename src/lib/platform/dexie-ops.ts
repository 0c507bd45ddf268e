// One bounded, typed store operation on Dexie: an explicit transaction that rejects within its
// deadline (aborting the IndexedDB transaction) and maps every failure shape to a typed error.
import type Dexie from 'dexie';
import type { Table, Transaction } from 'dexie';
import { LedgerError, StorageClosedError, StorageQuotaError, StorageTimeoutError } from '../core/errors.js';
import { isQuotaError } from '../core/storage-rules.js';
import { bounded, type Deadline, type StorageTimeouts } from './storage-deadline.js';

/** The IDB transaction's own error: where Chromium puts the cause of an abort (e.g. quota). */
function transactionError(tx: Transaction | undefined): unknown {
  try {
    return tx?.idbtrans?.error ?? undefined;
  } catch {
    return undefined; // some engines throw while the transaction is unfinished
  }
}

/**
 * Maps a platform failure to the store's typed errors:
 * - a quota failure of any shape (QuotaExceededError directly or wrapped in Dexie's AbortError
 *   `inner` or a BulkError's `failures`, or an AbortError whose transaction's `error` is quota)
 *   → StorageQuotaError (`cause`: the original);
 * - Dexie's DatabaseClosedError → StorageClosedError;
 * - core errors (LedgerError) as they are; anything else as the platform's named error
 *   (Dexie errors carry a stable `name` such as AbortError, ConstraintError, UnknownError).
 */
export function storageError(e: unknown, tx?: Transaction): unknown {
  if (e instanceof LedgerError) return e;
  if (isQuotaError(e)) return new StorageQuotaError('storage quota exceeded: the write was not stored', { cause: e });
  const txError = transactionError(tx);
  if (isQuotaError(txError)) {
    return new StorageQuotaError('storage quota exceeded: the transaction was aborted, nothing was stored', {
      cause: txError
    });
  }
  const name = (e as { name?: unknown } | null)?.name;
  if (name === 'DatabaseClosedError') return new StorageClosedError(`storage is closed: ${(e as Error).message}`);
  return e;
}

/**
 * Aborts a transaction that outlived its deadline. True when it can no longer commit: it never
 * started (its scope refuses to run once expired) or IndexedDB accepted the abort. False when it
 * had already finished or begun committing (abort() throws then): its writes may still land.
 */
function abortExpired(tx: Transaction | undefined): boolean {
  if (!tx) return true;
  try {
    tx.idbtrans.abort();
    return true;
  } catch {
    return false;
  }
}

export interface TxSpec {
  db: Dexie;
  mode: 'r' | 'rw';
  tables: Table[];
  timeouts: StorageTimeouts;
  /** What the operation does, for error messages ("appendLocal"). */
  what: string;
}

/**
 * Runs `fn` in one explicit transaction. Resolves with its result after commit; rejects with a
 * typed error (see storageError), or with StorageTimeoutError once the deadline passes (then
 * the transaction is aborted; see StorageTimeoutError.rolledBack). `fn` may extend the deadline
 * by the work it finds (entries to read) and must only await Dexie operations of `tables`.
 */
export function runTx<T>(spec: TxSpec, fn: (deadline: Deadline) => PromiseLike<T>): Promise<T> {
  let tx: Transaction | undefined;
  const expired = (): StorageTimeoutError => {
    const rolledBack = abortExpired(tx);
    const outcome = spec.mode === 'r' ? 'aborted' : rolledBack ? 'nothing was stored' : 'it may still commit';
    return new StorageTimeoutError(`storage ${spec.what} did not settle in time; ${outcome}`, { rolledBack });
  };
  const work = (d: Deadline) => {
    return spec.db.transaction(spec.mode, spec.tables, (t) => {
      if (d.expired)
        throw new StorageTimeoutError(`storage ${spec.what} started after its deadline`, { rolledBack: true });
      tx = t;
      return fn(d);
    });
  };
  return bounded(spec.timeouts, work, expired).catch((e: unknown) => {
    throw storageError(e, tx);
  });
}
