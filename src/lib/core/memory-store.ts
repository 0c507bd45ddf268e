// In-memory LedgerStore for tests, the simulator and the relay. A MemoryDisk outlives the
// stores opened on it, so "reopen after a crash" can be simulated. Writes are staged and
// applied only when the whole transaction succeeded: a failing write changes nothing.
import { toHex } from './bytes.js';
import { StorageClosedError, StorageQuotaError } from './errors.js';
import type {
  Compaction,
  IngestResult,
  LedgerStore,
  MetaValue,
  SeqVector,
  StorageEstimate,
  WriteTagRow
} from './storage.js';
import {
  COMPACTION_ID,
  fromStored,
  fromStoredFork,
  batchAuthors,
  ingestKeys,
  planAppend,
  planAppendBatch,
  planWriteTags,
  planCompactionHeads,
  planIngest,
  pruneLimit,
  storedSize,
  toStorageError,
  toStoredFork,
  type StoredCompaction,
  type StoredEntry,
  type StoredFork
} from './storage-rules.js';
import type { FeedHead, ForkEvidence, HashedEntry, IdentityKeys } from './types.js';

/** The persistent part: what survives closing and reopening a MemoryLedgerStore. */
export class MemoryDisk {
  identity: IdentityKeys | undefined;
  readonly entries = new Map<string, Map<number, StoredEntry>>();
  readonly heads = new Map<string, FeedHead>();
  readonly forks = new Map<string, StoredFork>();
  compaction: StoredCompaction | undefined;
  readonly meta = new Map<string, unknown>();
  /** Write tags (LedgerStore.writeTag) by tag. */
  readonly writeTags = new Map<string, WriteTagRow>();
  /** Approximate bytes of stored entries and compacted state. */
  usage = 0;

  /** A copy of everything on this disk, as a backup of the store would be (rows deep-copied). */
  copy(): MemoryDisk {
    const c = new MemoryDisk();
    const x = structuredClone(this);
    c.identity = x.identity;
    for (const [k, v] of x.entries) c.entries.set(k, v);
    for (const [k, v] of x.heads) c.heads.set(k, v);
    for (const [k, v] of x.forks) c.forks.set(k, v);
    for (const [k, v] of x.meta) c.meta.set(k, v);
    for (const [k, v] of x.writeTags) c.writeTags.set(k, v);
    c.compaction = x.compaction;
    c.usage = x.usage;
    return c;
  }
}

/** Test fault injector; change its fields at any time. */
export interface MemoryFaults {
  /** Row writes that still succeed; the one after fails its whole transaction. */
  failAfterWrites?: number;
  /** The next write to this table ('entries', 'heads', 'forks', 'compaction', 'meta', 'identity') fails. */
  failOnTable?: string;
  /** What the failing write throws: a platform quota error (default) or the given error. */
  error?: 'quota' | Error;
  /** Keep failing every later write once tripped (a dying disk); default: fail once. */
  sticky?: boolean;
}

export interface MemoryStoreOptions {
  disk?: MemoryDisk;
  /** Emulated quota over stored entry and state bytes; exceeding it fails the transaction. */
  quotaBytes?: number;
  faults?: MemoryFaults;
}

type Op = () => void;

/** Collects a transaction's writes; `commit` applies them only if every one was allowed. */
class Tx {
  private readonly ops: Op[] = [];
  delta = 0;
  constructor(private readonly store: MemoryLedgerStore) {}
  write(table: string, op: Op, bytes = 0): void {
    this.store.beforeWrite(table);
    this.ops.push(op);
    this.delta += bytes;
  }
  commit(): void {
    this.store.checkQuota(this.delta);
    for (const op of this.ops) op();
  }
}

export class MemoryLedgerStore implements LedgerStore {
  /** Per author, the top seq of the last drop of old write tags (planWriteTags). */
  private readonly tagDrops = new Map<string, number>();
  readonly disk: MemoryDisk;
  faults: MemoryFaults;
  quotaBytes: number | undefined;
  private closed = false;
  private tripped = false;

  constructor(opts: MemoryStoreOptions = {}) {
    this.disk = opts.disk ?? new MemoryDisk();
    this.faults = opts.faults ?? {};
    this.quotaBytes = opts.quotaBytes;
  }

  /** @internal Called by Tx before each row write: the fault injector's hook. */
  beforeWrite(table: string): void {
    const f = this.faults;
    let fail = this.tripped && f.sticky === true;
    if (f.failOnTable === table) {
      f.failOnTable = undefined;
      fail = true;
    } else if (f.failAfterWrites !== undefined && f.failAfterWrites-- <= 0) {
      f.failAfterWrites = undefined;
      fail = true;
    }
    if (!fail) return;
    this.tripped = true;
    throw this.faultError();
  }

  /** @internal */
  checkQuota(delta: number): void {
    if (this.quotaBytes !== undefined && delta > 0 && this.disk.usage + delta > this.quotaBytes) {
      throw new StorageQuotaError(`storage quota exceeded (${this.disk.usage + delta} > ${this.quotaBytes} bytes)`);
    }
  }

  private faultError(): Error {
    const e = this.faults.error ?? 'quota';
    return e === 'quota' ? new DOMException('injected quota failure', 'QuotaExceededError') : e;
  }

  /** Runs one transaction: `body` reads the disk and stages writes; all of them apply or none. */
  private async tx<T>(body: (tx: Tx) => T): Promise<T> {
    this.open();
    const tx = new Tx(this);
    try {
      const out = body(tx);
      tx.commit();
      return out;
    } catch (e) {
      throw toStorageError(e);
    }
  }

  private open(): void {
    if (this.closed) throw new StorageClosedError();
  }

  private async read<T>(fn: () => T): Promise<T> {
    this.open();
    return structuredClone(fn());
  }

  private putEntry(tx: Tx, r: StoredEntry): void {
    const rec = structuredClone(r);
    tx.write(
      'entries',
      () => {
        let feed = this.disk.entries.get(rec.author);
        if (!feed) this.disk.entries.set(rec.author, (feed = new Map()));
        const old = feed.get(rec.seq);
        this.disk.usage += storedSize(rec) - (old ? storedSize(old) : 0);
        feed.set(rec.seq, rec);
      },
      storedSize(rec)
    );
  }

  private putWriteTags(tx: Tx, batch: readonly HashedEntry[], tags: readonly (string | undefined)[]): void {
    const { rows, drop } = planWriteTags(batch, tags, this.tagDrops);
    if (rows.length === 0) return;
    tx.write('writeTags', () => {
      for (const r of rows) this.disk.writeTags.set(r.tag, { ...r });
      for (const d of drop)
        for (const [tag, r] of this.disk.writeTags)
          if (r.author === d.author && r.seq <= d.upTo) this.disk.writeTags.delete(tag);
    });
  }

  writeTag(tag: string): Promise<WriteTagRow | undefined> {
    return this.read(() => this.disk.writeTags.get(tag));
  }

  private putHead(tx: Tx, h: FeedHead): void {
    const head = { ...h };
    tx.write('heads', () => this.disk.heads.set(head.author, head));
  }

  private feed(author: string): StoredEntry[] {
    const feed = this.disk.entries.get(author);
    return feed ? [...feed.values()].sort((a, b) => a.seq - b.seq) : [];
  }

  loadIdentity(): Promise<IdentityKeys | undefined> {
    return this.read(() => this.disk.identity);
  }

  saveIdentity(keys: IdentityKeys): Promise<void> {
    const copy = structuredClone(keys);
    return this.tx((tx) => tx.write('identity', () => (this.disk.identity = copy)));
  }

  appendLocal(h: HashedEntry, tag?: string): Promise<void> {
    return this.tx((tx) => {
      const plan = planAppend(h, this.disk.heads.get(toHex(h.entry.author)));
      if (plan === 'noop') return;
      this.putEntry(tx, plan.entry);
      this.putHead(tx, plan.head);
      if (tag !== undefined) this.putWriteTags(tx, [h], [tag]);
    });
  }

  appendLocalBatch(batch: readonly HashedEntry[], tags?: readonly (string | undefined)[]): Promise<void> {
    return this.tx((tx) => {
      if (tags !== undefined) this.putWriteTags(tx, batch, tags);
      const stored = new Map<string, FeedHead>();
      for (const a of batchAuthors(batch)) {
        const h = this.disk.heads.get(a);
        if (h) stored.set(a, h);
      }
      const plan = planAppendBatch(batch, stored);
      for (const r of plan.entries) this.putEntry(tx, r);
      for (const h of plan.heads) this.putHead(tx, h);
    });
  }

  ingest(batch: readonly HashedEntry[]): Promise<IngestResult> {
    return this.tx((tx) => {
      const keys = ingestKeys(batch);
      const existing = keys.entries.map(([a, s]) => this.disk.entries.get(a)?.get(s));
      const heads = new Map<string, FeedHead>();
      for (const a of keys.authors) {
        const h = this.disk.heads.get(a);
        if (h) heads.set(a, h);
      }
      const plan = planIngest(batch, existing, heads);
      for (const r of plan.entries) this.putEntry(tx, r);
      for (const h of plan.heads) this.putHead(tx, h);
      return plan.result;
    });
  }

  heads(): Promise<FeedHead[]> {
    return this.read(() => [...this.disk.heads.values()].sort((a, b) => (a.author < b.author ? -1 : 1)));
  }

  getHead(author: string): Promise<FeedHead | undefined> {
    return this.read(() => this.disk.heads.get(author));
  }

  getEntry(author: string, seq: number): Promise<HashedEntry | undefined> {
    return this.read(() => {
      const r = this.disk.entries.get(author)?.get(seq);
      return r && fromStored(r);
    });
  }

  getRange(author: string, fromSeq: number, toSeq: number, limit = Infinity): Promise<HashedEntry[]> {
    return this.read(() =>
      this.feed(author)
        .filter((r) => r.seq >= fromSeq && r.seq <= toSeq)
        .slice(0, Math.max(0, limit))
        .map(fromStored)
    );
  }

  entriesAfter(after: SeqVector): Promise<HashedEntry[]> {
    const from = new Map(after.map((v) => [v.author, v.seq]));
    return this.read(() =>
      [...this.disk.entries.keys()]
        .sort()
        .flatMap((a) => this.feed(a).filter((r) => r.seq > (from.get(a) ?? 0)))
        .map(fromStored)
    );
  }

  count(): Promise<number> {
    return this.read(() => {
      let n = 0;
      for (const feed of this.disk.entries.values()) n += feed.size;
      return n;
    });
  }

  putFork(ev: ForkEvidence): Promise<void> {
    return this.tx((tx) => {
      const f = structuredClone(toStoredFork(ev));
      tx.write('forks', () => {
        if (!this.disk.forks.has(f.id)) this.disk.forks.set(f.id, f);
      });
    });
  }

  forks(): Promise<ForkEvidence[]> {
    return this.read(() => [...this.disk.forks.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(fromStoredFork));
  }

  saveCompaction(c: Compaction): Promise<void> {
    return this.tx((tx) => {
      const raised = planCompactionHeads(c, this.disk.heads);
      const copy = structuredClone({
        id: COMPACTION_ID as typeof COMPACTION_ID,
        state: c.state,
        heads: c.heads,
        at: c.at,
        digest: c.digest,
        mac: c.mac
      });
      const delta = copy.state.length - (this.disk.compaction?.state.length ?? 0);
      tx.write(
        'compaction',
        () => {
          this.disk.compaction = copy;
          this.disk.usage += delta;
        },
        delta
      );
      for (const h of raised) this.putHead(tx, h);
    });
  }

  loadCompaction(): Promise<Compaction | undefined> {
    return this.read(() => {
      const c = this.disk.compaction;
      return c && { state: c.state, heads: c.heads, at: c.at, digest: c.digest, mac: c.mac };
    });
  }

  pruneBefore(author: string, beforeSeq: number): Promise<number> {
    return this.tx((tx) => {
      const limit = pruneLimit(beforeSeq, this.disk.heads.get(author));
      const doomed = this.feed(author).filter((r) => r.seq < limit);
      for (const r of doomed) {
        tx.write('entries', () => {
          this.disk.entries.get(author)?.delete(r.seq);
          this.disk.usage -= storedSize(r);
        });
      }
      return doomed.length;
    });
  }

  getMeta(key: string): Promise<MetaValue | undefined> {
    return this.read(() => this.disk.meta.get(key));
  }

  setMeta(key: string, value: MetaValue): Promise<void> {
    const copy = structuredClone(value);
    return this.tx((tx) => tx.write('meta', () => this.disk.meta.set(key, copy)));
  }

  deleteMeta(key: string): Promise<void> {
    return this.tx((tx) => tx.write('meta', () => this.disk.meta.delete(key)));
  }

  estimate(): Promise<StorageEstimate | undefined> {
    return this.read(() => ({ usage: this.disk.usage, quota: this.quotaBytes ?? Number.MAX_SAFE_INTEGER }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async destroy(): Promise<void> {
    this.closed = true;
    const d = this.disk;
    d.identity = undefined;
    d.compaction = undefined;
    d.entries.clear();
    d.heads.clear();
    d.forks.clear();
    d.meta.clear();
    d.usage = 0;
  }
}
