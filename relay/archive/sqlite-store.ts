// LedgerStore on SQLite (better-sqlite3) for the relay's archive replica. Every write method is
// one SQLite transaction committed with synchronous=FULL before its promise resolves, so an
// acknowledged write survives a SIGKILL of the process (and a power cut). better-sqlite3 is
// synchronous: a call runs to completion before the next one starts, so no transaction can
// interleave with another and none can hang (no time bounds needed, unlike Dexie).
import { statfsSync, statSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { toHex } from '../../src/lib/core/bytes.js';
import { CorruptStoreError, StorageClosedError, StorageQuotaError, LedgerError } from '../../src/lib/core/errors.js';
import type {
  Compaction,
  IngestResult,
  LedgerStore,
  MetaValue,
  SeqVector,
  StorageEstimate,
  WriteTagRow
} from '../../src/lib/core/storage.js';
import {
  COMPACTION_ID,
  fromStored,
  fromStoredFork,
  IDENTITY_ID,
  batchAuthors,
  ingestKeys,
  planAppend,
  planAppendBatch,
  planWriteTags,
  planCompactionHeads,
  planIngest,
  pruneLimit,
  toStoredFork,
  type StoredEntry,
  type StoredFork
} from '../../src/lib/core/storage-rules.js';
import type { FeedHead, ForkEvidence, HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { decodeRow, encodeRow } from './row-codec.js';
import { openDb } from './sqlite-schema.js';
import { prepareStatements, type Statements } from './sqlite-statements.js';

/** Tables a write can touch (fault injection names them). */
export type SqliteTable = 'entries' | 'heads' | 'forks' | 'compaction' | 'meta' | 'identity' | 'write_tags';

/** Test fault injector: the next write to `failOnTable` fails like a full disk (once). */
export interface SqliteFaults {
  failOnTable?: SqliteTable;
}

export interface SqliteStoreOptions {
  /** Database file; its `-wal` and `-shm` companions live beside it. */
  path: string;
  /** Open without write access (e.g. a backup export while the relay runs). */
  readonly?: boolean;
  faults?: SqliteFaults;
}

/** SQLite result codes that mean "no space": the disk, or the database's max_page_count. */
const FULL_CODES = new Set(['SQLITE_FULL']);
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/**
 * Maps SQLite failures to the store's typed errors: no space → StorageQuotaError, a damaged file →
 * CorruptStoreError (both keep the original as `cause`); core errors and others unchanged.
 */
export function sqliteStorageError(e: unknown): unknown {
  if (e instanceof LedgerError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && FULL_CODES.has(code)) {
    return new StorageQuotaError('disk full: the write was not stored', { cause: e });
  }
  if (typeof code === 'string' && CORRUPT_CODES.has(code)) {
    return new CorruptStoreError('the archive database is damaged', { cause: e });
  }
  return e;
}

function headRow(r: { author: string; seq: number; hash: string } | undefined): FeedHead | undefined {
  return r && { author: r.author, seq: r.seq, hash: r.hash };
}

export class SqliteLedgerStore implements LedgerStore {
  private closed = false;
  private readonly st: Statements;
  private tags: Record<'put' | 'get' | 'drop', Database.Statement> | undefined;
  /** Per author, the top seq of the last drop of old write tags (planWriteTags). */
  private readonly tagDrops = new Map<string, number>();

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly faults: SqliteFaults
  ) {
    this.st = prepareStatements(db);
  }

  /** Opens (creating when missing) the archive at `opts.path`; throws CorruptStoreError on a foreign file. */
  static open(opts: SqliteStoreOptions): SqliteLedgerStore {
    let db: Database.Database;
    try {
      db = openDb(opts.path, { readonly: opts.readonly });
    } catch (e) {
      throw sqliteStorageError(e);
    }
    return new SqliteLedgerStore(db, opts.path, opts.faults ?? {});
  }

  /** Runs `body` as one transaction (all of it commits, or none), mapping errors. */
  private tx<T>(body: () => T): Promise<T> {
    return this.run(() => this.db.transaction(body).immediate());
  }

  private async run<T>(fn: () => T): Promise<T> {
    if (this.closed) throw new StorageClosedError();
    try {
      return fn();
    } catch (e) {
      throw sqliteStorageError(e);
    }
  }

  /** Called before each row write: the fault injector's hook. */
  private write(table: SqliteTable): void {
    if (this.faults.failOnTable !== table) return;
    this.faults.failOnTable = undefined;
    throw new Database.SqliteError('injected: database or disk is full', 'SQLITE_FULL');
  }

  private putEntry(r: StoredEntry): void {
    this.write('entries');
    const body = encodeRow(r);
    this.st.insertEntry.run(r.author, r.seq, r.hash, body.length, body);
  }

  private putHead(h: FeedHead): void {
    this.write('heads');
    this.st.upsertHead.run(h.author, h.seq, h.hash);
  }

  private storedEntry(author: string, seq: number): StoredEntry | undefined {
    const row = this.st.getEntry.get(author, seq) as { body: Uint8Array } | undefined;
    return row && decodeRow<StoredEntry>(row.body, `entry ${author.slice(0, 8)}:${seq}`);
  }

  private entries(rows: unknown[]): HashedEntry[] {
    return (rows as { body: Uint8Array }[]).map((r) => fromStored(decodeRow<StoredEntry>(r.body, 'entry')));
  }

  loadIdentity(): Promise<IdentityKeys | undefined> {
    return this.run(() => {
      const row = this.st.getIdentity.get(IDENTITY_ID) as { seed: Uint8Array; public_key: Uint8Array } | undefined;
      return row && { seed: new Uint8Array(row.seed), publicKey: new Uint8Array(row.public_key) };
    });
  }

  saveIdentity(keys: IdentityKeys): Promise<void> {
    return this.tx(() => {
      this.write('identity');
      this.st.putIdentity.run(IDENTITY_ID, keys.seed, keys.publicKey);
    });
  }

  appendLocal(h: HashedEntry, tag?: string): Promise<void> {
    return this.tx(() => {
      const plan = planAppend(h, this.headOf(toHex(h.entry.author)));
      if (plan === 'noop') return;
      this.putEntry(plan.entry);
      this.putHead(plan.head);
      if (tag !== undefined) this.putWriteTags([h], [tag]);
    });
  }

  /** Stores a local append's write tags; drops those of its authors' older writes (planWriteTags). */
  private putWriteTags(batch: readonly HashedEntry[], tags: readonly (string | undefined)[]): void {
    const { rows, drop } = planWriteTags(batch, tags, this.tagDrops);
    if (rows.length === 0) return;
    this.write('write_tags');
    const st = this.tagStatements();
    for (const r of rows) st.put.run(r.tag, r.author, r.seq);
    for (const d of drop) st.drop.run(d.author, d.upTo);
  }

  /** Prepared on first use: a file opened read-only before write tags existed has no such table. */
  private tagStatements() {
    this.tags ??= {
      put: this.db.prepare('INSERT OR REPLACE INTO write_tags (tag, author, seq) VALUES (?, ?, ?)'),
      get: this.db.prepare('SELECT tag, author, seq FROM write_tags WHERE tag = ?'),
      drop: this.db.prepare('DELETE FROM write_tags WHERE author = ? AND seq <= ?')
    };
    return this.tags;
  }

  writeTag(tag: string): Promise<WriteTagRow | undefined> {
    return this.run(() => {
      const has = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'write_tags'").get();
      if (has === undefined) return undefined;
      const row = this.tagStatements().get.get(tag) as WriteTagRow | undefined;
      return row && { tag: row.tag, author: row.author, seq: row.seq };
    });
  }

  appendLocalBatch(batch: readonly HashedEntry[], tags?: readonly (string | undefined)[]): Promise<void> {
    return this.tx(() => {
      if (tags !== undefined) this.putWriteTags(batch, tags);
      const stored = new Map<string, FeedHead>();
      for (const a of batchAuthors(batch)) {
        const h = this.headOf(a);
        if (h) stored.set(a, h);
      }
      const plan = planAppendBatch(batch, stored);
      for (const r of plan.entries) this.putEntry(r);
      for (const h of plan.heads) this.putHead(h);
    });
  }

  ingest(batch: readonly HashedEntry[]): Promise<IngestResult> {
    return this.tx(() => {
      const keys = ingestKeys(batch);
      const existing = keys.entries.map(([a, s]) => this.storedEntry(a, s));
      const heads = new Map<string, FeedHead>();
      for (const a of keys.authors) {
        const h = this.headOf(a);
        if (h) heads.set(a, h);
      }
      const plan = planIngest(batch, existing, heads);
      for (const r of plan.entries) this.putEntry(r);
      for (const h of plan.heads) this.putHead(h);
      return plan.result;
    });
  }

  private headOf(author: string): FeedHead | undefined {
    return headRow(this.st.getHead.get(author) as FeedHead | undefined);
  }

  heads(): Promise<FeedHead[]> {
    return this.run(() => (this.st.allHeads.all() as FeedHead[]).map((r) => headRow(r)!));
  }

  getHead(author: string): Promise<FeedHead | undefined> {
    return this.run(() => this.headOf(author));
  }

  getEntry(author: string, seq: number): Promise<HashedEntry | undefined> {
    return this.run(() => {
      const r = this.storedEntry(author, seq);
      return r && fromStored(r);
    });
  }

  getRange(author: string, fromSeq: number, toSeq: number, limit = Infinity): Promise<HashedEntry[]> {
    return this.run(() => {
      if (!(limit > 0) || toSeq < fromSeq) return [];
      // SQLite's LIMIT -1 means none.
      const n = Number.isFinite(limit) ? Math.floor(limit) : -1;
      return this.entries(this.st.range.all(author, fromSeq, toSeq, n));
    });
  }

  entriesAfter(after: SeqVector): Promise<HashedEntry[]> {
    const from = new Map(after.map((v) => [v.author, v.seq]));
    // Every stored entry's author has a head (write rules), so heads enumerate the feeds. One
    // read transaction, so the result is one consistent state.
    return this.run(() =>
      this.db.transaction(() =>
        (this.st.allHeads.all() as FeedHead[]).flatMap((h) =>
          this.entries(this.st.after.all(h.author, from.get(h.author) ?? 0))
        )
      )()
    );
  }

  count(): Promise<number> {
    return this.run(() => (this.st.count.get() as { n: number }).n);
  }

  putFork(ev: ForkEvidence): Promise<void> {
    const f = toStoredFork(ev);
    return this.tx(() => {
      this.write('forks');
      this.st.insertFork.run(f.id, encodeRow(f));
    });
  }

  forks(): Promise<ForkEvidence[]> {
    return this.run(() =>
      (this.st.allForks.all() as { body: Uint8Array }[]).map((r) =>
        fromStoredFork(decodeRow<StoredFork>(r.body, 'fork'))
      )
    );
  }

  saveCompaction(c: Compaction): Promise<void> {
    return this.tx(() => {
      const stored = new Map<string, FeedHead>();
      for (const h of c.heads) {
        const s = this.headOf(h.author);
        if (s) stored.set(h.author, s);
      }
      const raised = planCompactionHeads(c, stored);
      this.write('compaction');
      const row = { state: c.state, heads: c.heads, at: c.at, digest: c.digest, mac: c.mac };
      this.st.putCompaction.run(COMPACTION_ID, encodeRow(row));
      for (const h of raised) this.putHead(h);
    });
  }

  loadCompaction(): Promise<Compaction | undefined> {
    return this.run(() => {
      const row = this.st.getCompaction.get(COMPACTION_ID) as { body: Uint8Array } | undefined;
      if (!row) return undefined;
      const c = decodeRow<Compaction>(row.body, 'compaction');
      return { state: c.state, heads: c.heads, at: c.at, digest: c.digest, mac: c.mac };
    });
  }

  pruneBefore(author: string, beforeSeq: number): Promise<number> {
    return this.tx(() => {
      const limit = pruneLimit(beforeSeq, this.headOf(author));
      this.write('entries');
      return this.st.prune.run(author, limit).changes;
    });
  }

  getMeta(key: string): Promise<MetaValue | undefined> {
    return this.run(() => {
      const row = this.st.getMeta.get(key) as { body: Uint8Array } | undefined;
      return row && decodeRow<MetaValue>(row.body, `meta ${key}`);
    });
  }

  setMeta(key: string, value: MetaValue): Promise<void> {
    return this.tx(() => {
      this.write('meta');
      this.st.putMeta.run(key, encodeRow(value));
    });
  }

  deleteMeta(key: string): Promise<void> {
    return this.tx(() => {
      this.write('meta');
      this.st.deleteMeta.run(key);
    });
  }

  /** Bytes of the database and its WAL; quota: those plus the free space of the file system. */
  estimate(): Promise<StorageEstimate | undefined> {
    return this.run(() => {
      const usage = this.bytesOnDisk();
      const fs = statfsSync(this.path);
      return { usage, quota: usage + fs.bavail * fs.bsize };
    });
  }

  /** Size of the database file plus its WAL, bytes. */
  bytesOnDisk(): number {
    let n = 0;
    for (const suffix of ['', '-wal']) {
      try {
        n += statSync(this.path + suffix).size;
      } catch {
        // No WAL yet.
      }
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** Closes and deletes the database file and its WAL and shared-memory files. */
  async destroy(): Promise<void> {
    await this.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(this.path + suffix, { force: true });
  }
}
