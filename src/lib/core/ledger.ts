// The ledger of one node: identity, store, feeds and state tied together. Pure core.
//
// Every mutation (local write, ingest, compaction, reload, close) runs one at a time on a
// promise chain, so local seqs are consecutive and the FeedSet, the store and the state move
// together. Reads are synchronous, from memory.
//
// Local write: stamp → change the Yjs doc → sign → store.appendLocal (strict durability) →
// FeedSet → change events → onAppend. The write's record/conflict events are held until the
// store committed, so subscribers never see a value that is not durable. If signing or storing
// fails the doc already holds the change, so the state is rebuilt from the store (subscribers
// stay attached and are never shown the value) and the original error is rethrown.
//
// Forks: the first-seen entry of an (author, seq) stays in the feed and in the state; the
// other one is kept only as evidence, its payload is never applied.
import type * as Y from 'yjs';
import type {
  Conflict,
  Removal,
  Entry,
  EntryDep,
  FeedHead,
  ForkEvidence,
  Genesis,
  HashedEntry,
  IdentityKeys
} from './types.js';
import type { Compaction, LedgerStore } from './storage.js';
import { FeedSet } from './feeds.js';
import { networkId as networkIdOf } from './genesis.js';
import { toHex } from './bytes.js';
import { CorruptStoreError, LedgerError, StateUsageError, StorageClosedError } from './errors.js';
import { LEDGER_COMPACT_EVERY } from './constants.js';
import type { LedgerState, SharedTypeKind, SharedTypeOf, WriteStamp } from './state/doc.js';
import type { RecordChange, RecordEntry } from './state/records.js';
import type { JsonValue } from './state/record-value.js';
import {
  checkIdentityAndNetwork,
  HEAD_HEADERS_META,
  loadLedger,
  storeLightState,
  type LightStateInput
} from './ledger-replay.js';
import type { HeadHeader } from './snapshot/format.js';
import { atomicFailure, checkBatch, commitPlan, planFeeds, signLocal } from './ledger-ingest.js';
import { checkCausal, GENESIS_HEADER, nextLamport, referencedClients, type EntryHeader } from './causal.js';
import { parsePayload } from './payload.js';
import { sealCompaction } from './compaction-seal.js';
import { checkRecordDeletes, checkRecordWrites } from './state/records-rules.js';
import { clientIdOf } from './state/client-id.js';
import { MAX_ENTRY_DEPS } from './constants.js';
import type { IncomingEntry, IngestReport } from './ledger-ingest.js';
import { Listeners, StateView } from './ledger-view.js';

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
  /** Entries held for a missing predecessor or dependency (FeedSet). */
  pending: number;
  /** Bytes the pending entries count against the pending budget (payload + fixed overhead each). */
  pendingBytes: number;
  /** Pending entries evicted to give another author its fair share of the budget (since open). */
  pendingEvicted: number;
  /** Yjs structs or deletes parked for missing items: never expected (the causal rules prevent it); shown so it cannot hide. */
  yjsPending: boolean;
  lastCompactionAt: number | null;
  stateDigest: string;
  /** Stored, verified entries whose payload the state refused (see ledger-replay.ts). */
  skippedPayloads: number;
  /** The state came from an unverified light snapshot (storeLightState); false normally. */
  unverified: boolean;
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
  private unverified = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** The record write in progress: its key's durable entry and the durable conflicts, for reads. */
  private inFlight: { key: string; before: RecordEntry | undefined; conflicts: Conflict[] } | null = null;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Set when a failure could not be undone: memory may differ from the store (until a rebuild works). */
  private broken: unknown = null;
  private readonly appendListeners = new Listeners<[HashedEntry, AppendOrigin]>();
  private readonly forkListeners = new Listeners<[ForkEvidence]>();

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
    return this.write(() => this.view.records.put(key, value), false, key) as Promise<HashedEntry>;
  }

  /** Deletes a record (an authored tombstone); null when there was nothing to delete. */
  delete(key: string): Promise<HashedEntry | null> {
    return this.write(() => this.view.records.delete(key), false, key);
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

  /** The durable value of `key`: a write still in flight is not visible (reads return durable state only). */
  get(key: string): JsonValue | undefined {
    const o = this.inFlight;
    if (o !== null && o.key === key) return o.before === undefined ? undefined : structuredClone(o.before.value);
    return this.view.records.get(key);
  }

  /** Every durable record, sorted by key (a record write still in flight shows its previous value). */
  records(): RecordEntry[] {
    const list = this.view.records.list();
    const o = this.inFlight;
    if (o === null) return list;
    const out = list.filter((r) => r.key !== o.key);
    if (o.before !== undefined) out.push(structuredClone(o.before));
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  conflicts(): Conflict[] {
    return this.inFlight?.conflicts ?? this.view.records.conflicts();
  }

  /** Sequential overwrites and deletes of other authors' records: who removed what, when. */
  removals(): Removal[] {
    return this.view.records.removals();
  }

  conflictCount(): number {
    return this.inFlight?.conflicts.length ?? this.view.records.conflictCount();
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

  /**
   * Counts and the state digest. `digest: false` skips the digest (it re-encodes the whole state
   * after every change: O(state)) and returns the last one computed, possibly stale; the worker's
   * frequent status pushes use it and refresh the digest on their own schedule.
   */
  stats(opts: { digest?: boolean } = {}): LedgerStats {
    const heads = this.feeds.heads();
    return {
      entries: heads.reduce((n, h) => n + h.seq, 0),
      authors: heads.length,
      forkedAuthors: this.feeds.forkedAuthors().length,
      pending: this.feeds.pendingCount(),
      pendingBytes: this.feeds.pendingByteCount(),
      pendingEvicted: this.feeds.pendingEvictedCount(),
      yjsPending: this.view.state.hasPending(),
      lastCompactionAt: this.lastCompactionAt,
      stateDigest: opts.digest === false ? this.view.state.lastDigest() : this.view.state.digest(),
      skippedPayloads: this.skipped,
      unverified: this.unverified
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
    return this.appendListeners.add(cb);
  }

  /** Called after fork evidence found by ingest is stored (the author is then marked forked). */
  onFork(cb: (ev: ForkEvidence) => void): () => void {
    return this.forkListeners.add(cb);
  }

  // ---- replication ----

  /** Verifies, stores and applies replicated entries. Storage failures throw; bad entries are reported. */
  async ingest(batch: readonly IncomingEntry[], opts: { atomic?: boolean } = {}): Promise<IngestReport> {
    // Signatures are checked concurrently (in bounded chunks) and outside the queue: local writes
    // need not wait. (A snapshot import verified them already; they are checked again here.)
    const { verified, report } = await checkBatch(batch, this.networkId, this.genesis);
    if (opts.atomic === true && report.rejected.length > 0) throw atomicFailure(report);
    if (verified.length === 0) return report;
    return this.serial(() => this.ingestVerified(verified, report, opts.atomic === true));
  }

  /**
   * The causal verdict on a verified entry, without storing or applying it: 'refused' when the
   * entry's predecessor and dependencies are here and it breaks the rules of PROTOCOL.md §5.3
   * (every node that can judge it refuses it), 'ok' when it passes them, 'unknown' when something
   * it names is missing. For gossip: refused entries are not forwarded.
   */
  async precheck(h: HashedEntry): Promise<'ok' | 'refused' | 'unknown'> {
    const author = toHex(h.entry.author);
    const prev = await this.header(author, h.entry.seq - 1);
    if (prev === undefined) return 'unknown';
    const deps: EntryHeader[] = [];
    for (const d of h.entry.deps) {
      const hd = await this.header(d.author, d.seq);
      if (hd === undefined) return 'unknown';
      deps.push(hd);
    }
    try {
      const parsed = parsePayload(h.entry.payload, this.genesis.maxEntryBytes);
      checkCausal(h.entry, author, parsed, prev, deps);
      this.view.state.checkIntegrable(parsed);
      checkRecordDeletes(this.view.state.doc, parsed);
      checkRecordWrites(this.view.state.doc, parsed);
      return 'ok';
    } catch (e) {
      if (e instanceof LedgerError) return 'refused';
      throw e;
    }
  }

  /**
   * Hex hashes of the entries held at (author, seq): the stored entry, or a head bootstrapped
   * from a light snapshot; empty when none. For gossip: an entry is forwarded only when its
   * `prev` is one of these at seq - 1 (core/chain-links.ts).
   */
  async entryHashes(author: string, seq: number): Promise<string[]> {
    const h = this.feeds.recentEntry(author, seq) ?? (await this.store.getEntry(author, seq));
    if (h !== undefined) return [toHex(h.hash)];
    const head = this.feeds.head(author);
    return head !== undefined && head.seq === seq ? [head.hash] : [];
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

  /**
   * Bootstraps a ledger with NO history from a light snapshot's state and heads, then rebuilds:
   * in the queue, so no compaction slips in between. Refused with LightSnapshotRefusedError
   * otherwise (see storeLightState). Marks the state unverified. Returns the entries covered.
   */
  mergeLightSnapshot(snapshot: Omit<LightStateInput, 'author' | 'at' | 'seal'>): Promise<number> {
    return this.serial(async () => {
      if (this.broken !== null) throw this.broken;
      const at = Math.floor(this.now());
      const seal = (c: Omit<Compaction, 'mac'>) => sealCompaction(c, this.keys.seed);
      const covered = await storeLightState(this.store, { ...snapshot, author: this.author, at, seal });
      if (covered > 0) await this.rebuildAfterFailure();
      if (this.broken !== null) throw this.broken; // stored, but memory could not load it
      return covered;
    });
  }

  /** Waits for queued work, then closes the store. Later calls fail with StorageClosedError. */
  close(): Promise<void> {
    this.closing ??= this.serial(async () => {
      this.closed = true;
      this.view.destroy();
      this.appendListeners.clear();
      this.forkListeners.clear();
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

  private write(change: () => Uint8Array | null, rebuildOnThrow: boolean, key?: string): Promise<HashedEntry | null> {
    return this.serial(async () => {
      if (this.broken !== null) throw this.broken;
      // Until the commit, reads see the record (and the conflicts) as they were before the change.
      if (key !== undefined) this.inFlight = { key, before: this.view.records.entry(key), conflicts: this.conflicts() };
      try {
        return await this.writeNow(change, rebuildOnThrow);
      } finally {
        this.inFlight = null;
      }
    });
  }

  private async writeNow(change: () => Uint8Array | null, rebuildOnThrow: boolean): Promise<HashedEntry | null> {
    const head = this.feeds.head(this.author);
    const prevHeader = head ? await this.header(this.author, head.seq) : GENESIS_HEADER;
    if (prevHeader === undefined) throw new StateUsageError('own head entry is not in the store');
    // Provisional lamport for record metadata; the entry's lamport follows from its deps.
    const stamp = { time: Math.floor(this.now()), lamport: prevHeader.lamport + 1 };
    let payload: Uint8Array | null;
    this.stamp = stamp;
    this.view.holdEvents();
    try {
      payload = change();
    } catch (e) {
      // Records validate before touching the doc; an app's fn may throw half-way through.
      this.view.discardEvents();
      if (rebuildOnThrow) await this.rebuildAfterFailure();
      throw e;
    } finally {
      this.stamp = null;
    }
    if (payload === null) {
      this.view.commitEvents();
      return null;
    }

    let h: HashedEntry;
    try {
      const local = await this.localStamp(payload, prevHeader, stamp.time);
      h = await signLocal(this.keys, head, local, payload, this.networkId, this.genesis.maxEntryBytes);
      await this.store.appendLocal(h);
    } catch (e) {
      this.view.discardEvents();
      await this.rebuildAfterFailure();
      throw e;
    }
    this.feeds.ingest(h);
    this.clock = Math.max(this.clock, h.entry.lamport);
    this.view.commitEvents(); // durable now
    this.appended(1);
    this.appendListeners.emit(h, 'local');
    return h;
  }

  private async ingestVerified(verified: HashedEntry[], report: IngestReport, atomic: boolean): Promise<IngestReport> {
    if (this.broken !== null) throw this.broken;
    const progress = { stored: false };
    let done;
    try {
      const plan = await planFeeds(this.feeds, this.store, verified, report);
      const lookup = (a: string, seq: number) => this.header(a, seq);
      const max = this.genesis.maxEntryBytes;
      done = await commitPlan(this.store, this.view.state, plan, report, this.now, lookup, max, progress, atomic);
    } catch (e) {
      // Not stored: only the FeedSet (moved by planFeeds) is ahead of the store. Stored: the
      // state may lack some of the stored entries, so everything is rebuilt from the store.
      if (progress.stored) await this.rebuildAfterFailure();
      else await this.resyncFeeds();
      throw e;
    }
    if (done.feedsStale) await this.resyncFeeds();
    this.clock = Math.max(this.clock, done.lamport);
    this.skipped += done.skipped;
    this.appended(done.stored.length);
    for (const h of done.stored) this.appendListeners.emit(h, 'remote');
    for (const ev of done.forks) this.forkListeners.emit(ev);
    if (done.forkError !== undefined) throw done.forkError;
    return report;
  }

  /**
   * Lamport, Yjs clock and deps of a local payload: every other author whose items it references
   * becomes a dependency at that author's current head. Checked with the same rules a receiver
   * applies, so this node never signs an entry it would refuse.
   */
  private async localStamp(
    payload: Uint8Array,
    prev: EntryHeader,
    time: number
  ): Promise<{ time: number; lamport: number; clock: number; deps: EntryDep[] }> {
    // Parsed at the payload bound: an entry over the genesis limit fails as OversizedEntryError when signed.
    const parsed = parsePayload(payload);
    const deps: EntryDep[] = [];
    for (const client of referencedClients(parsed, clientIdOf(this.author)).keys()) {
      const author = this.view.state.authorOf(client);
      const head = author === undefined ? undefined : this.feeds.head(author);
      if (author === undefined || head === undefined)
        throw new StateUsageError(`the change references items of unknown client ${client}`);
      deps.push({ author, seq: head.seq });
    }
    if (deps.length > MAX_ENTRY_DEPS)
      throw new StateUsageError(`one write may reference at most ${MAX_ENTRY_DEPS} other authors' items`);
    deps.sort((a, b) => (a.author < b.author ? -1 : 1));
    const headers: EntryHeader[] = [];
    for (const d of deps) {
      const hd = await this.header(d.author, d.seq);
      if (hd === undefined) throw new StateUsageError(`dependency ${d.author.slice(0, 16)}…:${d.seq} is not stored`);
      headers.push(hd);
    }
    const clock = parsed.structs.reduce((n, st) => n + st.length, prev.clock);
    const stamp = { time, lamport: nextLamport(prev, headers), clock, deps };
    const probe = { ...stamp, payload } as Pick<Entry, 'lamport' | 'clock' | 'deps'> as Entry;
    checkCausal(probe, this.author, parsed, prev, headers);
    // The document already holds the change, so the placement and records rules see it as a
    // receiver that applied the dependencies would.
    this.view.state.checkIntegrable(parsed);
    checkRecordDeletes(this.view.state.doc, parsed);
    checkRecordWrites(this.view.state.doc, parsed);
    return stamp;
  }

  /** Lamport and Yjs clock of `author`'s entry at `seq` (seq 0: the empty feed); undefined if absent. */
  private async header(author: string, seq: number): Promise<EntryHeader | undefined> {
    if (seq === 0) return GENESIS_HEADER;
    const h = this.feeds.recentEntry(author, seq) ?? (await this.store.getEntry(author, seq));
    if (h !== undefined) return { lamport: h.entry.lamport, clock: h.entry.clock };
    // A head bootstrapped from a light snapshot: its entry is not held, its header is.
    const base = (await this.store.getMeta(HEAD_HEADERS_META)) as HeadHeader[] | undefined;
    const x = base?.find((b) => b.author === author && b.seq === seq);
    return x === undefined ? undefined : { lamport: x.lamport, clock: x.clock };
  }

  /** Lamport and Yjs clock of each given head's entry (for light snapshots). */
  async headHeaders(heads: readonly FeedHead[]): Promise<HeadHeader[]> {
    const out: HeadHeader[] = [];
    for (const h of heads) {
      const x = await this.header(h.author, h.seq);
      if (x === undefined) throw new StateUsageError(`no entry header for head ${h.author.slice(0, 16)}…:${h.seq}`);
      out.push({ author: h.author, seq: h.seq, ...x });
    }
    return out;
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
    if (this.broken !== null) throw this.broken; // memory may differ from the store: never persist it
    if (this.sinceCompaction === 0 && this.lastCompactionAt !== null) return;
    const at = Math.floor(this.now());
    const c = { state: this.view.state.encodeState(), heads: this.feeds.heads(), at, digest: this.view.state.digest() };
    await this.store.saveCompaction({ ...c, mac: sealCompaction(c, this.keys.seed) });
    this.lastCompactionAt = at;
    this.sinceCompaction = 0;
  }

  /** Open's replay: a new state and FeedSet from the store, every replayed entry verified. */
  private async replay(): Promise<{ state: LedgerState; feeds: FeedSet }> {
    const r = await loadLedger({
      store: this.store,
      genesis: this.genesis,
      networkId: this.networkId,
      author: this.author,
      seed: this.keys.seed,
      now: this.now,
      stamp: () => this.stamp,
      clock: () => this.clock
    });
    this.clock = Math.max(this.clock, r.lamport, r.state.lamport);
    this.lastCompactionAt = r.compaction?.at ?? null;
    this.sinceCompaction = r.applied + r.skipped.length;
    this.skipped = r.skipped.length;
    this.unverified = r.unverified !== undefined;
    return r;
  }

  /** Memory again from the store; success means memory equals the store, so `broken` is cleared. */
  private async rebuild(): Promise<void> {
    const before = this.feeds?.head(this.author)?.seq ?? 0;
    const { state, feeds } = await this.replay();
    // A store that went backwards under the running node (cleared by the browser, deleted,
    // replaced) would make this node sign an old seq again: a fork of its own feed. Refuse.
    const after = feeds.head(this.author)?.seq ?? 0;
    if (after < before) {
      state.destroy();
      throw new CorruptStoreError(
        `the store lost this node's entries ${after + 1}..${before}: it was cleared or replaced while the node ran`,
        { author: this.author, seq: after + 1 }
      );
    }
    this.feeds = feeds;
    this.view.replace(state);
    this.broken = null;
  }

  /** After a failure: memory again from the store. If even that fails, refuse further work (broken). */
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
}
