// DBCore middleware that makes chosen writes of a Dexie store fail inside their transaction,
// the way IndexedDB reports a full disk (a DOMException named QuotaExceededError) or a kill.
import type Dexie from 'dexie';
import type { DBCore, DBCoreMutateRequest, DBCoreTable } from 'dexie';

export interface DexieFaultPlan {
  /** The next write to this table fails (once). */
  failOnTable?: string;
  /** Mutations that still succeed (counted over all tables); then every later one fails. */
  failAfterMutations?: number;
  /** How failing mutations fail: throw a quota error, or abort the IDB transaction (a kill). */
  mode?: 'quota' | 'abort';
  /** Mutations that passed so far. */
  mutations?: number;
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
            mutate: (req: DBCoreMutateRequest) => {
              if (!shouldFail(plan, name)) return t.mutate(req);
              if (plan.mode === 'abort') {
                // The process dies mid-transaction: IndexedDB rolls the transaction back.
                req.trans.abort();
                return t.mutate(req);
              }
              return Promise.reject(new DOMException(`injected quota failure on ${name}`, 'QuotaExceededError'));
            }
          };
        }
      })
    });
  };
}
