// LedgerStore on IndexedDB through Dexie 4. Dexie sets durability per connection, so the store
// holds two connections to one database: a strict one for local writes, compaction and
// identity (the write-ahead rule), and a relaxed one for replicated batches (refetchable).
import type { DexieOptions } from 'dexie';
import { toHex } from '../core/bytes.js';
import { StorageClosedError } from '../core/errors.js';
import type { Compaction, IngestResult, LedgerStore, MetaValue, SeqVector, StorageEstimate } from '../core/storage.js';
import {
  COMPACTION_ID,
  fromStored,
  fromStoredFork,
  IDENTITY_ID,
  ingestKeys,
  planAppend,
  planCompactionHeads,
  planIngest,
  pruneLimit,
  toStorageError,
  toStoredFork
} from '../core/storage-rules.js';
import type { FeedHead, ForkEvidence, HashedEntry, IdentityKeys } from '../core/types.js';
import { LedgerDb } from './dexie-schema.js';

export interface DexieStoreOptions {
  /** Database name; use ledgerDbName(networkId). */
  name: string;
  /** IndexedDB implementation (tests: fake-indexeddb); defaults to the global one. */
  indexedDB?: DexieOptions['indexedDB'];
  IDBKeyRange?: DexieOptions['IDBKeyRange'];
  /** Dexie addons applied to both connections (e.g. DBCore middleware; tests inject faults). */
  addons?: DexieOptions['addons'];
}

/** Maps platform failures to the store's typed errors. */
function storageError(e: unknown): unknown {
  const name = (e as { name?: unknown } | null)?.name;
  if (name === 'DatabaseClosedError') return new StorageClosedError(`storage is closed: ${(e as Error).message}`);
  return toStorageError(e);
}

async function guard<T>(fn: () => PromiseLike<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw storageError(e);
  }
}

const EMPTY_INGEST: IngestResult = { added: 0, duplicates: 0, conflicts: [] };

export class DexieLedgerStore implements LedgerStore {
  private constructor(
    private readonly db: LedgerDb,
    private readonly bulk: LedgerDb
  ) {}

  /** Opens (creating or upgrading) the database; rejects with the platform's open error. */
  static async open(opts: DexieStoreOptions): Promise<DexieLedgerStore> {
    // Only set keys: an explicit `undefined` would override Dexie's defaults.
    const base: DexieOptions = {};
    if (opts.indexedDB) base.indexedDB = opts.indexedDB;
    if (opts.IDBKeyRange) base.IDBKeyRange = opts.IDBKeyRange;
    if (opts.addons) base.addons = opts.addons;
    const db = new LedgerDb(opts.name, { ...base, chromeTransactionDurability: 'strict' });
    const bulk = new LedgerDb(opts.name, { ...base, chromeTransactionDurability: 'relaxed' });
    await guard(() => db.open());
    await guard(() => bulk.open()).catch((e) => {
      db.close();
      throw e;
    });
    return new DexieLedgerStore(db, bulk);
  }

  get name(): string {
    return this.db.name;
  }

  async loadIdentity(): Promise<IdentityKeys | undefined> {
    const row = await guard(() => this.db.identity.get(IDENTITY_ID));
    return row && { seed: row.seed, publicKey: row.publicKey };
  }

  async saveIdentity(keys: IdentityKeys): Promise<void> {
    await guard(() => this.db.identity.put({ id: IDENTITY_ID, seed: keys.seed, publicKey: keys.publicKey }));
  }

  /** Resolves after the strict transaction committed (Dexie resolves on IDB `complete`). */
  async appendLocal(h: HashedEntry): Promise<void> {
    const { db } = this;
    await guard(() =>
      db.transaction('rw', [db.entries, db.heads], async () => {
        const plan = planAppend(h, await db.heads.get(toHex(h.entry.author)));
        if (plan === 'noop') return;
        await db.entries.add(plan.entry);
        await db.heads.put(plan.head);
      })
    );
  }

  async ingest(batch: readonly HashedEntry[]): Promise<IngestResult> {
    if (batch.length === 0) return { ...EMPTY_INGEST, conflicts: [] };
    const db = this.bulk;
    return guard(() =>
      db.transaction('rw', [db.entries, db.heads], async () => {
        const keys = ingestKeys(batch);
        const existing = await db.entries.bulkGet(keys.entries);
        const stored = await db.heads.bulkGet(keys.authors);
        const heads = new Map<string, FeedHead>();
        for (const s of stored) if (s) heads.set(s.author, s);
        const plan = planIngest(batch, existing, heads);
        if (plan.entries.length) await db.entries.bulkAdd(plan.entries);
        if (plan.heads.length) await db.heads.bulkPut(plan.heads);
        return plan.result;
      })
    );
  }

  heads(): Promise<FeedHead[]> {
    return guard(() => this.db.heads.toArray());
  }

  getHead(author: string): Promise<FeedHead | undefined> {
    return guard(() => this.db.heads.get(author));
  }

  async getEntry(author: string, seq: number): Promise<HashedEntry | undefined> {
    const r = await guard(() => this.db.entries.get([author, seq]));
    return r && fromStored(r);
  }

  async getRange(author: string, fromSeq: number, toSeq: number, limit = Infinity): Promise<HashedEntry[]> {
    if (!(limit > 0) || toSeq < fromSeq) return [];
    const q = this.db.entries.where('[author+seq]').between([author, fromSeq], [author, toSeq], true, true);
    const rows = await guard(() => (Number.isFinite(limit) ? q.limit(limit) : q).toArray());
    return rows.map(fromStored);
  }

  async entriesAfter(after: SeqVector): Promise<HashedEntry[]> {
    const from = new Map(after.map((v) => [v.author, v.seq]));
    const { db } = this;
    // Every stored entry's author has a head (write rules), so heads enumerate the feeds.
    const rows = await guard(() =>
      db.transaction('r', [db.entries, db.heads], async () => {
        const out = [];
        for (const author of (await db.heads.toCollection().primaryKeys()) as string[]) {
          const lower = (from.get(author) ?? 0) + 1;
          out.push(
            ...(await db.entries
              .where('[author+seq]')
              .between([author, lower], [author, Infinity], true, true)
              .toArray())
          );
        }
        return out;
      })
    );
    return rows.map(fromStored);
  }

  count(): Promise<number> {
    return guard(() => this.db.entries.count());
  }

  async putFork(ev: ForkEvidence): Promise<void> {
    const { db } = this;
    const row = toStoredFork(ev);
    await guard(() =>
      db.transaction('rw', db.forks, async () => {
        if (!(await db.forks.get(row.id))) await db.forks.add(row);
      })
    );
  }

  async forks(): Promise<ForkEvidence[]> {
    return (await guard(() => this.db.forks.toArray())).map(fromStoredFork);
  }

  async saveCompaction(c: Compaction): Promise<void> {
    const { db } = this;
    await guard(() =>
      db.transaction('rw', [db.compaction, db.heads], async () => {
        const stored = await db.heads.bulkGet(c.heads.map((h) => h.author));
        const heads = new Map<string, FeedHead>();
        for (const s of stored) if (s) heads.set(s.author, s);
        const raised = planCompactionHeads(c, heads);
        await db.compaction.put({ id: COMPACTION_ID, state: c.state, heads: c.heads, at: c.at });
        if (raised.length) await db.heads.bulkPut(raised);
      })
    );
  }

  async loadCompaction(): Promise<Compaction | undefined> {
    const row = await guard(() => this.db.compaction.get(COMPACTION_ID));
    return row && { state: row.state, heads: row.heads, at: row.at };
  }

  pruneBefore(author: string, beforeSeq: number): Promise<number> {
    const db = this.bulk;
    return guard(() =>
      db.transaction('rw', [db.entries, db.heads], async () => {
        const limit = pruneLimit(beforeSeq, await db.heads.get(author));
        return db.entries.where('[author+seq]').between([author, -Infinity], [author, limit], true, false).delete();
      })
    );
  }

  async getMeta(key: string): Promise<MetaValue | undefined> {
    return (await guard(() => this.db.meta.get(key)))?.value;
  }

  async setMeta(key: string, value: MetaValue): Promise<void> {
    await guard(() => this.db.meta.put({ key, value }));
  }

  async deleteMeta(key: string): Promise<void> {
    await guard(() => this.db.meta.delete(key));
  }

  async estimate(): Promise<StorageEstimate | undefined> {
    const storage = (globalThis as { navigator?: { storage?: { estimate?: () => Promise<StorageEstimate> } } })
      .navigator?.storage;
    if (!storage?.estimate) return undefined;
    try {
      const e = await storage.estimate();
      return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.bulk.close();
    this.db.close();
  }

  async destroy(): Promise<void> {
    this.bulk.close();
    await guard(() => this.db.delete());
  }
}
