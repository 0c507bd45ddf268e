// DBCore middleware that makes chosen writes of a Dexie store fail inside their transaction, in
// the shapes browsers report storage failures:
// - 'quota': the write request fails with a DOMException named QuotaExceededError;
// - 'abort': the IDB transaction is aborted with no cause (the process dies mid-transaction);
// - 'abort-quota': what Chromium often does on a full disk: the transaction aborts with
//   `tx.error` = QuotaExceededError, and the pending request only gets an AbortError;
// - 'hang': the request is issued but never settles and the transaction stays open (kept alive
//   by reads) until somebody aborts it;
// - 'hang-commit': the request's result is never reported, yet its transaction commits (the
//   write lands although the caller never hears of it).
import type Dexie from 'dexie';
import type { DBCore, DBCoreMutateRequest, DBCoreTable } from 'dexie';

export type DexieFaultMode = 'quota' | 'abort' | 'abort-quota' | 'hang' | 'hang-commit';

export interface DexieFaultPlan {
  /** The next write to this table fails (once). */
  failOnTable?: string;
  /** Mutations that still succeed (counted over all tables); then every later one fails. */
  failAfterMutations?: number;
  /** How failing mutations fail (default 'quota'); see the file comment. */
  mode?: DexieFaultMode;
  /** Mutations that passed so far. */
  mutations?: number;
  /** Mutations that were made to hang so far ('hang' and 'hang-commit'). */
  hung?: number;
}

function shouldFail(plan: DexieFaultPlan, table: string): boolean {
  if (plan.failOnTable === table) {
    plan.failOnTable = undefined;
    return true;
  }
  if (plan.failAfterMutations === undefined) return false;
  if ((plan.mutations ?? 0) >= plan.failAfterMutations) return true;
  plan.mutations = (plan.mutations ?? 0) + 1;
  return false;
}

/** fake-indexeddb's internal "abort a transaction with this error name" step (IndexedDB spec). */
interface FakeTransaction extends IDBTransaction {
  _abort(errName: string | null): void;
}

/** Keeps an IDB transaction from auto-committing: one read after another until it finishes. */
function keepAlive(trans: IDBTransaction, table: string): void {
  const spin = (): void => {
    let r: IDBRequest;
    try {
      r = trans.objectStore(table).get(-Infinity);
    } catch {
      return; // the transaction finished (aborted): stop
    }
    r.onsuccess = spin;
    r.onerror = (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
    };
  };
  spin();
}

function injected(plan: DexieFaultPlan, t: DBCoreTable, name: string, req: DBCoreMutateRequest) {
  switch (plan.mode ?? 'quota') {
    case 'abort':
      // The process dies mid-transaction: IndexedDB rolls the transaction back.
      req.trans.abort();
      return t.mutate(req);
    case 'abort-quota': {
      const p = t.mutate(req);
      (req.trans as unknown as FakeTransaction)._abort('QuotaExceededError');
      return p;
    }
    case 'hang':
      plan.hung = (plan.hung ?? 0) + 1;
      void t.mutate(req).catch(() => undefined);
      keepAlive(req.trans as unknown as IDBTransaction, name);
      return new Promise<never>(() => undefined);
    case 'hang-commit':
      plan.hung = (plan.hung ?? 0) + 1;
      void t.mutate(req).catch(() => undefined);
      return new Promise<never>(() => undefined);
    default:
      return Promise.reject(new DOMException(`injected quota failure on ${name}`, 'QuotaExceededError'));
  }
}

export function faultAddon(plan: DexieFaultPlan): (db: Dexie) => void {
  return (db) => {
    db.use({
      stack: 'dbcore',
      name: 'test-faults',
      create: (down: DBCore): DBCore => ({
        ...down,
        table: (name: string): DBCoreTable => {
          const t = down.table(name);
          return {
            ...t,
            mutate: (req: DBCoreMutateRequest) =>
              shouldFail(plan, name) ? injected(plan, t, name, req) : t.mutate(req)
          };
        }
      })
    });
  };
}
