// LedgerStore on IndexedDB through Dexie 4. Dexie sets durability per connection, so the store
// holds two connections to one database: a strict one for local writes, compaction and
// identity (the write-ahead rule), and a relaxed one for replicated batches (refetchable).
import Dexie, { type DexieOptions, type Table } from 'dexie';
import { toHex } from '../core/bytes.js';
import { StorageTimeoutError } from '../core/errors.js';
import type {
  Compaction,
  IngestResult,
  LedgerStore,
  MetaValue,
  SeqVector,
  StorageEstimate,
  StoreDataLoss,
  WriteTagRow
} from '../core/storage.js';
import {
  COMPACTION_ID,
  fromStored,
  fromStoredFork,
  IDENTITY_ID,
  batchAuthors,
  ingestKeys,
  mayBeStored,
  planAppend,
  planAppendBatch,
  planCompactionHeads,
  planWriteTags,
  planIngest,
  pruneLimit,
  toStoredFork,
  type StoredEntry
} from '../core/storage-rules.js';
import type { FeedHead, ForkEvidence, HashedEntry, IdentityKeys } from '../core/types.js';
import { runTx, storageError } from './dexie-ops.js';
import { LedgerDb } from './dexie-schema.js';
import { watchDataLoss } from './idb-data-loss.js';
import { bounded, DEFAULT_STORAGE_TIMEOUTS, type Deadline, type StorageTimeouts } from './storage-deadline.js';

export interface DexieStoreOptions {
  /** Database name; use ledgerDbName(networkId). */
  name: string;
  /** IndexedDB implementation (tests: fake-indexeddb); defaults to the global one. */
  indexedDB?: DexieOptions['indexedDB'];
  IDBKeyRange?: DexieOptions['IDBKeyRange'];
  /** Dexie addons applied to both connections (e.g. DBCore middleware; tests inject faults). */
  addons?: DexieOptions['addons'];
  /** Time bounds of every operation (default DEFAULT_STORAGE_TIMEOUTS; tests shorten them). */
  timeouts?: Partial<StorageTimeouts>;
}

const EMPTY_INGEST: IngestResult = { added: 0, duplicates: 0, conflicts: [] };

/**
 * Failure model (every method): a quota failure of any shape rejects with StorageQuotaError, a
 * closed database with StorageClosedError, other platform failures with Dexie's named error. No
 * operation outlives its deadline (DexieStoreOptions.timeouts): a transaction that does not
 * settle in time is aborted and the call rejects with StorageTimeoutError, so a caller's queue
 * never stalls behind a hung transaction. See StorageTimeoutError.rolledBack for what it left.
 */
export class DexieLedgerStore implements LedgerStore {
  /** Per author, the top seq of the last drop of old write tags (planWriteTags). */
  private readonly tagDrops = new Map<string, number>();
  private constructor(
    private readonly db: LedgerDb,
    private readonly bulk: LedgerDb,
    private readonly timeouts: StorageTimeouts,
    private readonly loss: { seen: StoreDataLoss | null }
  ) {}

  /**
   * What IndexedDB reported lost when it opened this store (Chromium: a corrupt backing store
   * deleted), or on a reopen Dexie made since (after the browser closed the connection).
   */
  get dataLoss(): StoreDataLoss | null {
    return this.loss.seen;
  }

  /** Opens (creating or upgrading) the database; rejects with the typed open error, or StorageTimeoutError. */
  static async open(opts: DexieStoreOptions): Promise<DexieLedgerStore> {
    // Only set keys: an explicit `undefined` would override Dexie's defaults.
    const base: DexieOptions = {};
    const loss: { seen: StoreDataLoss | null } = { seen: null };
    const factory = opts.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (factory) base.indexedDB = watchDataLoss(factory, (l) => (loss.seen ??= l));
    if (opts.IDBKeyRange) base.IDBKeyRange = opts.IDBKeyRange;
    if (opts.addons) base.addons = opts.addons;
    const timeouts = { ...DEFAULT_STORAGE_TIMEOUTS, ...opts.timeouts };
    const db = new LedgerDb(opts.name, { ...base, chromeTransactionDurability: 'strict' });
    const bulk = new LedgerDb(opts.name, { ...base, chromeTransactionDurability: 'relaxed' });
    const openBoth = async () => {
      await db.open();
      await bulk.open();
    };
    const expired = () => {
      db.close();
      bulk.close();
      return new StorageTimeoutError('opening the store did not finish in time', { rolledBack: true });
    };
    try {
      await bounded(timeouts, openBoth, expired);
    } catch (e) {
      db.close();
      bulk.close();
      throw storageError(e);
    }
    return new DexieLedgerStore(db, bulk, timeouts, loss);
  }

  get name(): string {
    return this.db.name;
  }

  /** One bounded transaction on the strict connection (or `bulk`, relaxed durability). */
  private tx<T>(
    what: string,
    mode: 'r' | 'rw',
    tables: (db: LedgerDb) => Table[],
    fn: (db: LedgerDb, deadline: Deadline) => PromiseLike<T>,
    db: LedgerDb = this.db
  ): Promise<T> {
    return runTx({ db, mode, tables: tables(db), timeouts: this.timeouts, what }, (d) => fn(db, d));
  }

  async loadIdentity(): Promise<IdentityKeys | undefined> {
    const row = await this.tx(
      'loadIdentity',
      'r',
      (db) => [db.identity],
      (db) => db.identity.get(IDENTITY_ID)
    );
    return row && { seed: row.seed, publicKey: row.publicKey };
  }

  async saveIdentity(keys: IdentityKeys): Promise<void> {
    const row = { id: IDENTITY_ID, seed: keys.seed, publicKey: keys.publicKey };
    await this.tx(
      'saveIdentity',
      'rw',
      (db) => [db.identity],
      (db) => db.identity.put(row)
    );
  }

  /** Resolves after the strict transaction committed (Dexie resolves on IDB `complete`). */
  async appendLocal(h: HashedEntry, tag?: string): Promise<void> {
    await this.tx(
      'appendLocal',
      'rw',
      (db) => (tag === undefined ? [db.entries, db.heads] : [db.entries, db.heads, db.writeTags]),
      async (db) => {
        const plan = planAppend(h, await db.heads.get(toHex(h.entry.author)));
        if (plan === 'noop') return;
        // Every request at once (IndexedDB runs them in order): one round trip less per commit. If
        // any fails, the transaction aborts and none is stored.
        await Promise.all([
          db.entries.add(plan.entry),
          db.heads.put(plan.head),
          tag === undefined ? undefined : putWriteTags(db, [h], [tag], this.tagDrops)
        ]);
      }
    );
  }

  /** Every entry in one strict transaction; resolves after it committed, or stores nothing. */
  async appendLocalBatch(batch: readonly HashedEntry[], tags?: readonly (string | undefined)[]): Promise<void> {
    if (batch.length === 0) return;
    const write = async (db: LedgerDb, deadline: Deadline) => {
      deadline.extend(batch.length);
      const authors = batchAuthors(batch);
      const heads = new Map<string, FeedHead>();
      for (const s of await db.heads.bulkGet(authors)) if (s) heads.set(s.author, s);
      const plan = planAppendBatch(batch, heads);
      await Promise.all([
        plan.entries.length ? db.entries.bulkAdd(plan.entries) : undefined,
        plan.heads.length ? db.heads.bulkPut(plan.heads) : undefined,
        tagged ? putWriteTags(db, batch, tags, this.tagDrops) : undefined
      ]);
    };
    const tagged = tags?.some((t) => t !== undefined) === true;
    const scope = (db: LedgerDb) => (tagged ? [db.entries, db.heads, db.writeTags] : [db.entries, db.heads]);
    await this.tx('appendLocalBatch', 'rw', scope, write);
  }

  async writeTag(tag: string): Promise<WriteTagRow | undefined> {
    return this.tx(
      'writeTag',
      'r',
      (db) => [db.writeTags],
      (db) => db.writeTags.get(tag)
    );
  }

  async ingest(batch: readonly HashedEntry[]): Promise<IngestResult> {
    if (batch.length === 0) return { ...EMPTY_INGEST, conflicts: [] };
    const write = async (db: LedgerDb, deadline: Deadline) => {
      deadline.extend(batch.length);
      const keys = ingestKeys(batch);
      const stored = await db.heads.bulkGet(keys.authors);
      const heads = new Map<string, FeedHead>();
      for (const s of stored) if (s) heads.set(s.author, s);
      // Keys above their author's head cannot be stored: look up only the others.
      const check = mayBeStored(batch, heads);
      const found = check.length > 0 ? await db.entries.bulkGet(check.map((i) => keys.entries[i])) : [];
      const existing = new Array<StoredEntry | undefined>(batch.length);
      check.forEach((i, j) => (existing[i] = found[j]));
      const plan = planIngest(batch, existing, heads);
      await Promise.all([
        plan.entries.length ? db.entries.bulkAdd(plan.entries) : undefined,
        plan.heads.length ? db.heads.bulkPut(plan.heads) : undefined
      ]);
      return plan.result;
    };
    return this.tx('ingest', 'rw', (db) => [db.entries, db.heads], write, this.bulk);
  }

  heads(): Promise<FeedHead[]> {
    return this.tx(
      'heads',
      'r',
      (db) => [db.heads],
      async (db, deadline) => {
        deadline.extend(await db.heads.count());
        return db.heads.toArray();
      }
    );
  }

  getHead(author: string): Promise<FeedHead | undefined> {
    return this.tx(
      'getHead',
      'r',
      (db) => [db.heads],
      (db) => db.heads.get(author)
    );
  }

  async getEntry(author: string, seq: number): Promise<HashedEntry | undefined> {
    const r = await this.tx(
      'getEntry',
      'r',
      (db) => [db.entries],
      (db) => db.entries.get([author, seq])
    );
    return r && fromStored(r);
  }

  async getRange(author: string, fromSeq: number, toSeq: number, limit = Infinity): Promise<HashedEntry[]> {
    if (!(limit > 0) || toSeq < fromSeq) return [];
    const read = async (db: LedgerDb, deadline: Deadline) => {
      let upTo = toSeq;
      if (!Number.isFinite(Math.min(limit, toSeq - fromSeq))) upTo = (await db.heads.get(author))?.seq ?? fromSeq;
      deadline.extend(Math.min(limit, upTo - fromSeq + 1));
      const q = db.entries.where('[author+seq]').between([author, fromSeq], [author, toSeq], true, true);
      return (Number.isFinite(limit) ? q.limit(limit) : q).toArray();
    };
    const rows = await this.tx('getRange', 'r', (db) => [db.entries, db.heads], read);
    return rows.map(fromStored);
  }

  async entriesAfter(after: SeqVector): Promise<HashedEntry[]> {
    const from = new Map(after.map((v) => [v.author, v.seq]));
    // Every stored entry's author has a head (write rules), so heads enumerate the feeds.
    const read = async (db: LedgerDb, deadline: Deadline) => {
      const feeds = (await db.heads.toArray()).map((h) => ({
        author: h.author,
        lower: (from.get(h.author) ?? 0) + 1,
        seq: h.seq
      }));
      deadline.extend(feeds.reduce((n, f) => n + Math.max(0, f.seq - f.lower + 1), 0));
      const out = [];
      for (const { author, lower } of feeds) {
        out.push(
          ...(await db.entries.where('[author+seq]').between([author, lower], [author, Infinity], true, true).toArray())
        );
      }
      return out;
    };
    const rows = await this.tx('entriesAfter', 'r', (db) => [db.entries, db.heads], read);
    return rows.map(fromStored);
  }

  count(): Promise<number> {
    return this.tx(
      'count',
      'r',
      (db) => [db.entries],
      (db) => db.entries.count()
    );
  }

  async putFork(ev: ForkEvidence): Promise<void> {
    const row = toStoredFork(ev);
    await this.tx(
      'putFork',
      'rw',
      (db) => [db.forks],
      async (db) => {
        if (!(await db.forks.get(row.id))) await db.forks.add(row);
      }
    );
  }

  async forks(): Promise<ForkEvidence[]> {
    const read = async (db: LedgerDb, deadline: Deadline) => {
      deadline.extend(2 * (await db.forks.count()));
      return db.forks.toArray();
    };
    return (await this.tx('forks', 'r', (db) => [db.forks], read)).map(fromStoredFork);
  }

  async saveCompaction(c: Compaction): Promise<void> {
    const write = async (db: LedgerDb, deadline: Deadline) => {
      deadline.extend(c.heads.length, c.state.length);
      const stored = await db.heads.bulkGet(c.heads.map((h) => h.author));
      const heads = new Map<string, FeedHead>();
      for (const s of stored) if (s) heads.set(s.author, s);
      const raised = planCompactionHeads(c, heads);
      await db.compaction.put({
        id: COMPACTION_ID,
        state: c.state,
        heads: c.heads,
        at: c.at,
        digest: c.digest,
        mac: c.mac
      });
      if (raised.length) await db.heads.bulkPut(raised);
    };
    await this.tx('saveCompaction', 'rw', (db) => [db.compaction, db.heads], write);
  }

  async loadCompaction(): Promise<Compaction | undefined> {
    const row = await this.tx(
      'loadCompaction',
      'r',
      (db) => [db.compaction],
      (db) => db.compaction.get(COMPACTION_ID)
    );
    return row && { state: row.state, heads: row.heads, at: row.at, digest: row.digest, mac: row.mac };
  }

  pruneBefore(author: string, beforeSeq: number): Promise<number> {
    const prune = async (db: LedgerDb, deadline: Deadline) => {
      const head = await db.heads.get(author);
      const limit = pruneLimit(beforeSeq, head);
      deadline.extend(Math.min(limit, head?.seq ?? 0));
      return db.entries.where('[author+seq]').between([author, -Infinity], [author, limit], true, false).delete();
    };
    return this.tx('pruneBefore', 'rw', (db) => [db.entries, db.heads], prune, this.bulk);
  }

  async getMeta(key: string): Promise<MetaValue | undefined> {
    return (
      await this.tx(
        'getMeta',
        'r',
        (db) => [db.meta],
        (db) => db.meta.get(key)
      )
    )?.value;
  }

  async setMeta(key: string, value: MetaValue): Promise<void> {
    await this.tx(
      'setMeta',
      'rw',
      (db) => [db.meta],
      (db) => db.meta.put({ key, value })
    );
  }

  async deleteMeta(key: string): Promise<void> {
    await this.tx(
      'deleteMeta',
      'rw',
      (db) => [db.meta],
      (db) => db.meta.delete(key)
    );
  }

  /** Usage and quota from navigator.storage, or undefined (no API, failure, or no answer in time). */
  async estimate(): Promise<StorageEstimate | undefined> {
    const storage = (globalThis as { navigator?: { storage?: { estimate?: () => Promise<StorageEstimate> } } })
      .navigator?.storage;
    if (!storage?.estimate) return undefined;
    try {
      const e = await bounded(
        this.timeouts,
        () => storage.estimate!(),
        () => new StorageTimeoutError('storage estimate timed out')
      );
      return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.bulk.close();
    this.db.close();
  }

  /** Closes and deletes the database; StorageTimeoutError if the deletion stays blocked past the deadline. */
  async destroy(): Promise<void> {
    this.bulk.close();
    const expired = () => new StorageTimeoutError('deleting the store did not finish in time (it may still happen)');
    await bounded(this.timeouts, () => this.db.delete(), expired).catch((e: unknown) => {
      throw storageError(e);
    });
  }
}

/** Stores a local append's write tags and drops those of its authors' older writes (planWriteTags). */
async function putWriteTags(
  db: LedgerDb,
  batch: readonly HashedEntry[],
  tags: readonly (string | undefined)[] | undefined,
  dropped: Map<string, number>
): Promise<void> {
  const { rows, drop } = planWriteTags(batch, tags, dropped);
  await Promise.all([
    rows.length > 0 ? db.writeTags.bulkPut(rows) : undefined,
    ...drop.map((d) =>
      db.writeTags.where('[author+seq]').between([d.author, Dexie.minKey], [d.author, d.upTo], true, true).delete()
    )
  ]);
}
