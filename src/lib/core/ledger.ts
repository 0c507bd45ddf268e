// The ledger of one node: identity, store, feeds and state tied together. Pure core.
//
// Every mutation (local write, ingest, compaction, reload, close) runs one at a time on a
// promise chain, so local seqs are consecutive and the FeedSet, the store and the state move
// together. Reads are synchronous, from memory.
//
// Local write: stamp → change the Yjs doc → sign → store.appendLocal (strict durability) →
// FeedSet → onAppend. If signing or storing fails the doc already holds the change, so the
// state is rebuilt from the store (subscribers stay attached and see the value go away) and
// the original error is rethrown.
//
// Forks: the first-seen entry of an (author, seq) stays in the feed and in the state; the
// other one is kept only as evidence, its payload is never applied.
import type * as Y from 'yjs';
import type { Conflict, FeedHead, ForkEvidence, Genesis, HashedEntry, IdentityKeys } from './types.js';
import type { LedgerStore } from './storage.js';
import { FeedSet } from './feeds.js';
import { createEntry, encodeEntry } from './entry.js';
import { networkId as networkIdOf } from './genesis.js';
import { fromHex, toHex } from './bytes.js';
import { OversizedEntryError, StorageClosedError } from './errors.js';
import { HASH_BYTES, LEDGER_COMPACT_EVERY } from './constants.js';
import { LedgerState, type SharedTypeKind, type SharedTypeOf, type WriteStamp } from './state/doc.js';
import type { RecordChange, RecordEntry } from './state/records.js';
import type { JsonValue } from './state/record-value.js';
import { checkIdentityAndNetwork, replayStore } from './ledger-replay.js';
import {
  commitPlan,
  emptyReport,
  planFeeds,
  rejectionOf,
  verifyIncoming,
  type IncomingEntry,
  type IngestReport
} from './ledger-ingest.js';
import { StateView } from './ledger-view.js';

export type { IngestReport, Rejection, IncomingEntry } from './ledger-ingest.js';

export interface LedgerOptions {
  store: LedgerStore;
  genesis: Genesis;
  keys: IdentityKeys;
  /** Wall clock, ms since the epoch; default Date.now. */
  now?: () => number;
  /** Entries applied since the last compaction before compacting on its own (0: never). */
  compactEvery?: number;
}

export interface LedgerStats {
  /** Entries in the contiguous feeds (sum of head seqs; pruned history included). */
  entries: number;
  authors: number;
  forkedAuthors: number;
  pending: number;
  lastCompactionAt: number | null;
  stateDigest: string;
  /** Stored, verified entries whose payload the state refused (see ledger-replay.ts). */
  skippedPayloads: number;
}

export type AppendOrigin = 'local' | 'remote';

export class Ledger {
  readonly author: string;
  readonly networkId: Uint8Array;
  readonly networkIdHex: string;
  readonly genesis: Genesis;
  readonly store: LedgerStore;
  private readonly keys: IdentityKeys;
  private readonly now: () => number;
  private readonly compactEvery: number;
  private view!: StateView;
  private feeds!: FeedSet;
  /** Highest lamport seen (the compacted state forgets lamports; stored heads do not). */
  private clock = 0;
  /** Stamp of the write in progress, handed to the state so record metadata equals the entry's. */
  private stamp: WriteStamp | null = null;
  private sinceCompaction = 0;
  private compactQueued = false;
  private lastCompactionAt: number | null = null;
  private skipped = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Set when a failed write could not be undone: memory may differ from the store. */
  private broken: unknown = null;
  private readonly appendListeners = new Set<(h: HashedEntry, origin: AppendOrigin) => void>();

  private constructor(opts: LedgerOptions, id: Uint8Array) {
    this.store = opts.store;
    this.genesis = opts.genesis;
    this.keys = opts.keys;
    this.networkId = id;
    this.networkIdHex = toHex(id);
    this.author = toHex(opts.keys.publicKey);
    this.now = opts.now ?? Date.now;
    this.compactEvery = Math.max(0, opts.compactEvery ?? LEDGER_COMPACT_EVERY);
  }

  /** Checks identity and network, then rebuilds memory from the store (verifying every entry replayed). */
  static async open(opts: LedgerOptions): Promise<Ledger> {
    const id = networkIdOf(opts.genesis); // validates the genesis
    await checkIdentityAndNetwork(opts.store, opts.keys, id);
    const ledger = new Ledger(opts, id);
    const { state, feeds } = await ledger.replay();
    ledger.view = new StateView(state);
    ledger.feeds = feeds;
    return ledger;
  }

  // ---- local writes ----

  /** Writes a record; resolves with the entry once it is durably stored. */
  put(key: string, value: unknown): Promise<HashedEntry> {
    return this.write(() => this.view.records.put(key, value), false) as Promise<HashedEntry>;
  }

  /** Deletes a record (an authored tombstone); null when there was nothing to delete. */
  delete(key: string): Promise<HashedEntry | null> {
    return this.write(() => this.view.records.delete(key), false);
  }

  /** Runs `fn` on the document (app types from registerType); null when it changed nothing. */
  transact(fn: (doc: Y.Doc) => void): Promise<HashedEntry | null> {
    return this.write(() => this.view.state.transactLocal(fn), true);
  }

  /** Registers an app's root type; after onReset, fetch it again (the document was replaced). */
  registerType<K extends SharedTypeKind>(name: string, kind: K): SharedTypeOf<K> {
    return this.view.registerType(name, kind);
  }

  // ---- reads ----

  get(key: string): JsonValue | undefined {
    return this.view.records.get(key);
  }

  records(): RecordEntry[] {
    return this.view.records.list();
  }

  conflicts(): Conflict[] {
    return this.view.records.conflicts();
  }

  /** The current document (replaced after a failed write or a reload; see onReset). */
  get doc(): Y.Doc {
    return this.view.state.doc;
  }

  /** The whole state as one Yjs update (what compaction stores). */
  encodeState(): Uint8Array {
    return this.view.state.encodeState();
  }

  heads(): FeedHead[] {
    return this.feeds.heads();
  }

  forks(): ForkEvidence[] {
    return this.feeds.forks();
  }

  isForked(author: string): boolean {
    return this.feeds.isForked(author);
  }

  stats(): LedgerStats {
    const heads = this.feeds.heads();
    return {
      entries: heads.reduce((n, h) => n + h.seq, 0),
      authors: heads.length,
      forkedAuthors: heads.filter((h) => this.feeds.isForked(h.author)).length,
      pending: this.feeds.pendingCount(),
      lastCompactionAt: this.lastCompactionAt,
      stateDigest: this.view.state.digest(),
      skippedPayloads: this.skipped
    };
  }

  // ---- events (survive state rebuilds) ----

  subscribe(cb: (changes: RecordChange[]) => void): () => void {
    return this.view.subscribe(cb);
  }

  subscribeConflicts(cb: (conflicts: Conflict[]) => void): () => void {
    return this.view.subscribeConflicts(cb);
  }

  onReset(cb: (doc: Y.Doc) => void): () => void {
    return this.view.onReset(cb);
  }

  /** Called after an entry is durably stored (local: strict; remote: relaxed). For gossip. */
  onAppend(cb: (h: HashedEntry, origin: AppendOrigin) => void): () => void {
    this.appendListeners.add(cb);
    return () => void this.appendListeners.delete(cb);
  }

  // ---- replication ----

  /** Verifies, stores and applies replicated entries. Storage failures throw; bad entries are reported. */
  async ingest(batch: readonly IncomingEntry[]): Promise<IngestReport> {
    const report = emptyReport();
    if (!Array.isArray(batch)) {
      report.rejected.push(rejectionOf(new TypeError('ingest expects an array')));
      return report;
    }
    // Signatures are checked concurrently and outside the queue: local writes need not wait.
    const checked = await Promise.all(batch.map((item) => verifyIncoming(item, this.networkId, this.genesis)));
    const verified: HashedEntry[] = [];
    for (const c of checked) {
      if (c.ok) verified.push(c.h);
      else report.rejected.push(c.rejection);
    }
    if (verified.length === 0) return report;
    return this.serial(() => this.ingestVerified(verified, report));
  }

  // ---- maintenance ----

  /** Stores the current state with the heads it covers; replay starts from there. */
  compact(): Promise<void> {
    return this.serial(() => this.compactNow());
  }

  /** Rebuilds memory from the store (e.g. after a snapshot import wrote to it). */
  reload(): Promise<void> {
    return this.serial(() => this.rebuild());
  }

  /** Waits for queued work, then closes the store. Later calls fail with StorageClosedError. */
  close(): Promise<void> {
    this.closing ??= this.serial(async () => {
      this.closed = true;
      this.view.destroy();
      this.appendListeners.clear();
      await this.store.close();
    });
    return this.closing;
  }

  // ---- internals ----

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new StorageClosedError('ledger is closed');
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private write(change: () => Uint8Array | null, rebuildOnThrow: boolean): Promise<HashedEntry | null> {
    return this.serial(async () => {
      if (this.broken !== null) throw this.broken;
      const head = this.feeds.head(this.author);
      const seq = (head?.seq ?? 0) + 1;
      const prev = head ? fromHex(head.hash) : new Uint8Array(HASH_BYTES);
      // lamport >= seq: the entry codec requires it.
      const stamp = {
        time: Math.floor(this.now()),
        lamport: Math.max(this.view.state.lamport, this.clock, seq - 1) + 1
      };
      let payload: Uint8Array | null;
      this.stamp = stamp;
      try {
        payload = change();
      } catch (e) {
        // Records validate before touching the doc; an app's fn may throw half-way through.
        if (rebuildOnThrow) await this.rebuildAfterFailure();
        throw e;
      } finally {
        this.stamp = null;
      }
      if (payload === null) return null;

      let h: HashedEntry;
      try {
        h = await createEntry(
          { keys: this.keys, seq, prev, lamport: stamp.lamport, time: stamp.time, payload },
          this.networkId
        );
        const size = encodeEntry(h.entry).length;
        if (size > this.genesis.maxEntryBytes) {
          throw new OversizedEntryError(`entry is ${size} bytes, limit ${this.genesis.maxEntryBytes}`);
        }
        await this.store.appendLocal(h);
      } catch (e) {
        await this.rebuildAfterFailure();
        throw e;
      }
      this.feeds.ingest(h);
      this.clock = Math.max(this.clock, stamp.lamport);
      this.appended(1);
      this.emitAppend(h, 'local');
      return h;
    });
  }

  private async ingestVerified(verified: HashedEntry[], report: IngestReport): Promise<IngestReport> {
    let done;
    try {
      const plan = await planFeeds(this.feeds, this.store, verified, report);
      done = await commitPlan(this.store, this.view.state, plan, report, this.now);
    } catch (e) {
      // Nothing was stored, but planFeeds moved the FeedSet ahead of the store.
      await this.resyncFeeds();
      throw e;
    }
    if (done.feedsStale) await this.resyncFeeds();
    this.clock = Math.max(this.clock, done.lamport);
    this.skipped += done.skipped;
    this.appended(done.stored.length);
    for (const h of done.stored) this.emitAppend(h, 'remote');
    if (done.forkError !== undefined) throw done.forkError;
    return report;
  }

  /** Counts applied entries and queues one compaction (after the current task) when due. */
  private appended(n: number): void {
    this.sinceCompaction += n;
    if (this.compactEvery === 0 || this.sinceCompaction < this.compactEvery || this.compactQueued) return;
    this.compactQueued = true;
    this.serial(() => this.compactNow())
      .catch(() => undefined) // a failed auto-compaction changes nothing; later entries retry
      .finally(() => (this.compactQueued = false));
  }

  private async compactNow(): Promise<void> {
    if (this.sinceCompaction === 0 && this.lastCompactionAt !== null) return;
    const at = Math.floor(this.now());
    await this.store.saveCompaction({ state: this.view.state.encodeState(), heads: this.feeds.heads(), at });
    this.lastCompactionAt = at;
    this.sinceCompaction = 0;
  }

  private makeState(): LedgerState {
    const state: LedgerState = new LedgerState({
      author: this.author,
      stamp: () => this.stamp ?? { time: Math.floor(this.now()), lamport: Math.max(state.lamport, this.clock) + 1 },
      maxPayloadBytes: this.genesis.maxEntryBytes
    });
    return state;
  }

  /** Open's replay: a new state and FeedSet from the store, every replayed entry verified. */
  private async replay(): Promise<{ state: LedgerState; feeds: FeedSet }> {
    const state = this.makeState();
    try {
      const r = await replayStore({
        store: this.store,
        genesis: this.genesis,
        networkId: this.networkId,
        state,
        feedOptions: { now: this.now }
      });
      this.clock = Math.max(this.clock, r.lamport, state.lamport);
      this.lastCompactionAt = r.compaction?.at ?? null;
      this.sinceCompaction = r.applied + r.skipped.length;
      this.skipped = r.skipped.length;
      return { state, feeds: r.feeds };
    } catch (e) {
      state.destroy();
      throw e;
    }
  }

  private async rebuild(): Promise<void> {
    const { state, feeds } = await this.replay();
    this.feeds = feeds;
    this.view.replace(state);
  }

  /** After a failed write: drop the non-durable change. If even that fails, refuse further writes. */
  private async rebuildAfterFailure(): Promise<void> {
    try {
      await this.rebuild();
    } catch (e) {
      this.broken = e;
    }
  }

  /** The FeedSet again from the stored heads and forks (pending entries are dropped). */
  private async resyncFeeds(): Promise<void> {
    try {
      const [heads, forks] = await Promise.all([this.store.heads(), this.store.forks()]);
      this.feeds = FeedSet.fromHeads({ heads, forks }, { now: this.now });
    } catch (e) {
      this.broken = e;
    }
  }

  private emitAppend(h: HashedEntry, origin: AppendOrigin): void {
    for (const cb of [...this.appendListeners]) {
      try {
        cb(h, origin);
      } catch (e) {
        console.error('ledger onAppend listener failed', e);
      }
    }
  }
}
