// The ledger of one node: identity, store, feeds and state tied together. Pure core.
//
// Every mutation (local write, ingest, compaction, reload, close) runs one at a time on a
// promise chain, so local seqs are consecutive and the FeedSet, the store and the state move
// together. Reads are synchronous, from memory.
//
// Local write: stamp → change the Yjs doc → sign → store.appendLocal (strict durability) →
// FeedSet → change events → onAppend. Writes requested while the ledger is busy are grouped
// (write-groups.ts): applied and signed in order, then stored in ONE strict transaction
// (appendLocalBatch); each caller's promise settles once its entry is durable. A write may join
// the open group across replicated ingest steps queued after it, never across other work. The
// group's record/conflict events are held until the store committed, so subscribers never see a value
// that is not durable, and reads show durable values only. If storing fails, every write of the
// group rejects with that error and the state is rebuilt from the store (subscribers stay
// attached and are never shown the values); seqs are taken from the durable head, so the next
// write continues the stored chain. If one write's signing fails (the doc holds its change), the
// writes prepared before it are stored first, then the state is rebuilt and that write rejects.
//
// Forks: a forked author's feed is void from the lowest forked seq (void.ts, PROTOCOL.md §6.1):
// neither variant is applied, whatever arrived first; a new void rebuilds the state.
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
import { FeedSet, type FeedSetOptions } from './feeds.js';
import { networkId as networkIdOf } from './genesis.js';
import { toHex } from './bytes.js';
import {
  CorruptStoreError,
  InvalidWriteTagError,
  LedgerError,
  MalformedPayloadError,
  StateUsageError,
  OwnFeedBehindError,
  StorageClosedError
} from './errors.js';
import type { LedgerState, LoadedState, SharedTypeKind, SharedTypeOf, WriteStamp } from './state/doc.js';
import type { RecordChange, RecordEntry } from './state/records.js';
import type { JsonValue } from './state/record-value.js';
import {
  bootstrappedVoids,
  topOfHeader,
  checkIdentityAndNetwork,
  HEAD_HEADERS_META,
  loadLedger,
  markStoreVerified,
  readHeadHeaders,
  storeLightState,
  type LightStateInput
} from './ledger-replay.js';
import { storeCompactedTops } from './bootstrapped-voids.js';
import { NO_TOP_HASH, type HeadHeader } from './snapshot/format.js';
import {
  atomicFailure,
  CausalBatch,
  checkBatch,
  checkEvidence,
  commitPlan,
  emptyReport,
  judgeCausal,
  mergeCarried,
  planFeeds,
  signLocal,
  verifyIncoming
} from './ledger-ingest.js';
import {
  checkCausal,
  GENESIS_HEADER,
  nextLamport,
  referencedClients,
  voidedHeader,
  type EntryHeader
} from './causal.js';
import { parsePayload } from './payload.js';
import { sealCompaction, type SealBinding } from './compaction-seal.js';
import { checkRecordDeletes, checkRecordWrites } from './state/records-rules.js';
import { clientIdOf } from './state/client-id.js';
import {
  LEDGER_REJUDGE_DELAY_MS,
  LEDGER_REJUDGE_PER_STEP,
  MAX_ENTRY_DEPS,
  MAX_WRITE_TAG_LENGTH,
  REFUSED_VARIANTS_MAX_BYTES
} from './constants.js';
import type { CommitProgress, IncomingEntry, IngestReport } from './ledger-ingest.js';
import { Listeners, StateView } from './ledger-view.js';
import { isVoidSeq, type VoidTop } from './void.js';
import { isCollision } from './collision.js';
import { RefusedVariants } from './refused-variants.js';
import { EntryBudget, type BudgetStatus, type ReplicaRole } from './light-budget.js';
import { PrunedHeaders } from './pruned-headers.js';
import {
  LEDGER_CARRY_DEPTH,
  LEDGER_STEP_SLICE_MS,
  LIGHT_BUDGET_BYTES,
  VOID_REBUILD_RETRY_MAX_MS,
  VOID_REBUILD_RETRY_MS,
  VOID_REBUILD_SHARE,
  VOID_REBUILD_WINDOW_MS
} from './constants.js';
import { RebuildBudget } from './rebuild-budget.js';
import { OrderRepair } from './order-repair.js';
import { affectedRefusals, gcGrowth, gcUnits, RejudgeQueue, type VoidChange } from './rejudge.js';
import type { CoverageException } from './sync/messages.js';
import { DurableOverlay, WriteGroups, type PendingWrite, type PreparedWrite } from './write-groups.js';
import { compactionDue, compactionPolicy, type CompactionPolicy } from './compaction-policy.js';
import { compareKeys } from './state/conflicts.js';
import { QueueClock, type QueueTimings } from './write-timings.js';
import { LoopSlicer } from './loop-slice.js';
import { StepQueue, type StepKind } from './step-queue.js';
import { ENTRY_HEADROOM_BYTES, UntrackedWrites, type UntrackedCounts } from './untracked-writes.js';

/** readConsistent: queue steps tried before giving up while direct changes keep arriving. */
const READ_CONSISTENT_ATTEMPTS = 8;

export type { IngestReport, Rejection, IncomingEntry } from './ledger-ingest.js';

/** Options of a local record write (Ledger.put, Ledger.delete). */
export interface WriteOptions {
  /**
   * The write's idempotency key (1 to MAX_WRITE_TAG_LENGTH UTF-16 units; a tab's call id, see
   * client/tab-broker.ts), stored with its entry in the same transaction (LedgerStore.writeTag).
   * Errors: InvalidWriteTagError.
   */
  tag?: string;
  /**
   * The tagged write may have been made already (a tab re-sends a call its old leader never
   * answered): when this node stored an entry with its tag, among its last WRITE_TAGS_KEPT writes,
   * the write is not made again and resolves with that entry (a delete too, where it would
   * otherwise answer null or delete a newer value). Fresh writes skip the lookup.
   */
  retry?: boolean;
}

export interface LedgerOptions {
  store: LedgerStore;
  genesis: Genesis;
  keys: IdentityKeys;
  /** Wall clock, ms since the epoch; default Date.now. */
  now?: () => number;
  /**
   * Compacts on its own after exactly this many applied entries (0: never). Without it the
   * default policy applies (compaction-policy.ts: by bytes applied relative to the state's size).
   */
  compactEvery?: number;
  /**
   * 'full' (default) keeps every entry; 'light' keeps the state, every head and recent entries
   * within `budgetBytes`, pruning older entries behind its compaction (light-budget.ts).
   */
  role?: ReplicaRole;
  /** Light replicas: budget for stored entries, bytes (default LIGHT_BUDGET_BYTES). */
  budgetBytes?: number;
  /** Tunes the default compaction policy (ignored when compactEvery is given). */
  compaction?: Partial<CompactionPolicy>;
  /** Time budget of void rebuilds (default VOID_REBUILD_SHARE of VOID_REBUILD_WINDOW_MS; rebuild-budget.ts). */
  voidRebuild?: { share?: number; windowMs?: number; now?: () => number };
  /**
   * Called with each write group's local entries, in seq order, once the store holds them and
   * before they are announced or the writes resolve (the worker keeps a second copy of the own
   * feed with it: own-copy.ts). It reports its own failures: a throw is ignored, since the
   * entries are durable in the store either way.
   */
  afterLocalStored?: (entries: readonly HashedEntry[]) => void | Promise<void>;
  /**
   * The highest own seq signed before, as a copy kept elsewhere knows (the worker's own copy):
   * while the own feed's head is below it, local writes are refused with OwnFeedBehindError
   * (signing head + 1 would sign that seq a second time). Read at every local write; default 0.
   */
  ownSignedUpTo?: () => number;
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
  /**
   * Void feeds whose voided entries the state still shows: their rebuild waits for the time
   * budget (rebuild-budget.ts) and runs by itself within VOID_REBUILD_WINDOW_MS. 0 normally.
   */
  staleVoids: number;
  /**
   * Remembered refusals judged again after voids since open (a void may make them acceptable),
   * and those still due (judged a bounded slice per step, PROTOCOL.md §6.1).
   */
  rejudged: number;
  rejudgeDue: number;
  /**
   * Reloads from the canonical state since open because the live document ordered a list or map
   * key otherwise (a crafted placement, order-repair.ts), and whether one is waiting. 0 normally.
   */
  orderRepairs: number;
  orderRepairPending: boolean;
  /** Role, storage budget (null: full replica) and bytes of the entries held. */
  storage: BudgetStatus;
  /** Where the work queue's time went since open: local write groups and ingest steps (write-timings.ts). */
  queue: QueueTimings;
  /** Changes made on the document outside put/delete/transact: signed as entries, or undone (untracked-writes.ts). */
  untracked: UntrackedCounts;
}

export type AppendOrigin = 'local' | 'remote';

/**
 * The FeedSet whose journal (FeedSet.beginJournal) gives what heads(), head(), stats(), forks(),
 * isForked(), voidFrom() and voidTop() show while an ingest batch is written (Ledger.shown). Void
 * once the Ledger's FeedSet is replaced.
 */
interface ShownHeads {
  feeds: FeedSet;
  /** carriedOutside() at the start: the carried entries the batch moves into the FeedSet stay counted. */
  carriedOutside: number;
}

export class Ledger {
  readonly author: string;
  readonly networkId: Uint8Array;
  readonly networkIdHex: string;
  readonly genesis: Genesis;
  readonly store: LedgerStore;
  private readonly keys: IdentityKeys;
  private readonly now: () => number;
  private readonly compaction: CompactionPolicy;
  readonly role: ReplicaRole;
  private readonly budgetBytes: number;
  private readonly afterLocalStored: LedgerOptions['afterLocalStored'];
  private readonly ownSignedUpTo: () => number;
  /** Light replicas only: bytes held and the pruning policy. */
  private budget: EntryBudget | null = null;
  private readonly prunedHeaders: PrunedHeaders;
  /** Refused entries (causal rules, broken chain), kept as possible fork variants; stored (refused-variants.ts). */
  private readonly refusedVariants = new RefusedVariants();
  /** Local changes made on the document outside the write calls, waiting to be signed. */
  private readonly untracked = new UntrackedWrites();
  /** Remembered refusals a void may have made acceptable, judged again a slice per step (rejudge.ts). */
  private readonly rejudge = new RejudgeQueue(REFUSED_VARIANTS_MAX_BYTES);
  private rejudged = 0;
  /** When each carried entry was first held (takeHeld), until a FeedSet holds it again. */
  private readonly heldSince = new WeakMap<HashedEntry, number>();
  /** Held entries a rebuild dropped, in queued carry steps (carryOver): still pending. */
  private readonly carrying = new Set<HashedEntry[]>();
  private rejudgeTimer: ReturnType<typeof setTimeout> | undefined;
  private view!: StateView;
  private feeds!: FeedSet;
  /** Highest lamport seen (the compacted state forgets lamports; stored heads do not). */
  private clock = 0;
  /** Stamp of the write in progress, handed to the state so record metadata equals the entry's. */
  private stamp: WriteStamp | null = null;
  private sinceCompaction = 0;
  /** Payload bytes applied since the last compaction, and the size of the state it stored. */
  private bytesSinceCompaction = 0;
  private compactedBytes = 0;
  private compactQueued = false;
  private lastCompactionAt: number | null = null;
  private skipped = 0;
  private unverified = false;
  /** Steps queued that local writes may not overtake (see serial and write). */
  private barriers = 0;
  /** The local write group in progress: the durable records of its keys and the durable conflicts, for reads. */
  private inFlight: DurableOverlay | null = null;
  /**
   * What heads(), head(), stats() and the fork reads (forks, isForked, voidFrom, voidTop) show
   * while an ingest batch is planned and written: planFeeds moves the FeedSet before the batch
   * is stored and applied, and the worker serves page calls at every await in between. Without
   * it a page saw heads and counts covering a batch that get() and records() did not show yet
   * (test/unit/ledger-read-window.test.ts). Set before planFeeds; cleared just before the batch
   * is applied (synchronously), or, when the FeedSet took entries that were then refused, once it
   * is rebuilt from the store. Read through `showing()`.
   */
  private shown: ShownHeads | null = null;
  private readonly groups = new WriteGroups();
  private readonly queueClock = new QueueClock();
  /** Steps that chain without a macrotask tick yield one after LEDGER_STEP_SLICE_MS of it (loop-slice.ts). */
  private readonly slicer = new LoopSlicer(LEDGER_STEP_SLICE_MS);
  private readonly steps = new StepQueue(() => this.slicer.beforeStep());
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Set when a failure could not be undone: memory may differ from the store (until a rebuild works). */
  private broken: unknown = null;
  /** Voids (author -> fork seq) whose voided entries the state still holds: rebuild deferred. */
  private readonly staleVoids = new Map<string, number>();
  private readonly rebuildBudget: RebuildBudget;
  /** Reloads from the canonical state when the live document's order diverges (order-repair.ts). */
  private readonly orderRepair = new OrderRepair({
    run: () => this.repairOrder(),
    waitMs: () => this.rebuildBudget.waitMs(),
    retryMs: VOID_REBUILD_RETRY_MS
  });
  private voidTimer: ReturnType<typeof setTimeout> | undefined;
  /** Delay before retrying a failed void rebuild, ms (doubles up to VOID_REBUILD_RETRY_MAX_MS). */
  private retryMs = VOID_REBUILD_RETRY_MS / 2;
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
    this.compaction = compactionPolicy(opts.compactEvery, opts.compaction);
    this.role = opts.role ?? 'full';
    this.budgetBytes = opts.budgetBytes ?? LIGHT_BUDGET_BYTES;
    this.afterLocalStored = opts.afterLocalStored;
    this.ownSignedUpTo = opts.ownSignedUpTo ?? (() => 0);
    this.prunedHeaders = new PrunedHeaders(opts.store, opts.keys.seed); // sealed rows only
    this.rebuildBudget = new RebuildBudget({
      now: opts.voidRebuild?.now ?? (() => performance.now()),
      share: opts.voidRebuild?.share ?? VOID_REBUILD_SHARE,
      windowMs: opts.voidRebuild?.windowMs ?? VOID_REBUILD_WINDOW_MS
    });
  }

  /** Checks identity and network, then rebuilds memory from the store (verifying every entry replayed). */
  static async open(opts: LedgerOptions): Promise<Ledger> {
    const id = networkIdOf(opts.genesis); // validates the genesis
    await checkIdentityAndNetwork(opts.store, opts.keys, id);
    const ledger = new Ledger(opts, id);
    const { state, feeds } = await ledger.replay();
    ledger.view = new StateView(state);
    ledger.view.onUntrackedWrite((payload) => ledger.noteUntracked(payload));
    ledger.view.onUntrackedDefect((reason, payload) => ledger.noteUntrackedDefect(reason, payload));
    ledger.view.onReset(() => ledger.untracked.drop());
    ledger.feeds = feeds;
    // Refused variants remembered before the restart (verified again, as replayed entries are).
    await ledger.refusedVariants.load(ledger.store, async (bytes) => {
      const v = await verifyIncoming(bytes, ledger.networkId, ledger.genesis);
      return v.ok ? v.h : undefined;
    });
    if (ledger.role === 'light')
      ledger.budget = await EntryBudget.load(ledger.store, ledger.budgetBytes, { own: ledger.author });
    ledger.markDueAtOpen();
    return ledger;
  }

  // ---- local writes ----

  /** Writes a record; resolves with the entry once it is durably stored. Errors: see WriteOptions. */
  put(key: string, value: unknown, opts: WriteOptions = {}): Promise<HashedEntry> {
    return this.write(() => this.view.records.put(key, value), false, key, opts) as Promise<HashedEntry>;
  }

  /** Deletes a record (an authored tombstone); null when there was nothing to delete. */
  delete(key: string, opts: WriteOptions = {}): Promise<HashedEntry | null> {
    return this.write(() => this.view.records.delete(key), false, key, opts);
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
    if (o !== null && o.has(key)) {
      const before = o.durable(key);
      return before === undefined ? undefined : structuredClone(before.value);
    }
    return this.view.records.get(key);
  }

  /**
   * The durable records sorted by key: every one, or the first `limit` (record writes still in
   * flight show their previous values).
   */
  records(limit?: number): RecordEntry[] {
    const o = this.inFlight;
    if (o === null) return this.view.records.list(limit);
    if (limit === undefined) return o.apply(this.view.records.list(), compareKeys);
    // The overlay takes at most o.size keys out of the list (it puts their durable records
    // back): the first limit + o.size current records hold the first `limit` durable ones.
    return o.apply(this.view.records.list(limit + o.size), compareKeys).slice(0, limit);
  }

  /** How many durable records there are (record writes still in flight count as before them). */
  recordCount(): number {
    const o = this.inFlight;
    let n = this.view.records.count();
    if (o === null) return n;
    for (const key of o.keys()) {
      if (this.view.records.entry(key) !== undefined) n--;
      if (o.durable(key) !== undefined) n++;
    }
    return n;
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

  /**
   * The current document (replaced after a failed write or a reload; see onReset). A change made
   * on it directly (an editor binding, an undo manager) is signed as an entry of this node before
   * any write requested after it, or undone by a rebuild if the local rules refuse it
   * (untracked-writes.ts; stats().untracked). Until then the document shows it: get(), records()
   * and the events show durable state only, the document itself does not.
   */
  get doc(): Y.Doc {
    return this.view.state.doc;
  }

  /** The whole state as one Yjs update (what compaction stores). */
  encodeState(): Uint8Array {
    return this.view.state.encodeState();
  }

  /** The canonical state (state/digest.ts) and its digest; cached until the state changes. */
  canonicalState(): { canonical: Uint8Array; digest: string } {
    return this.view.state.canonical();
  }

  /** The heads the state holds, by author (sorted; void feeds as sync compares them, void.ts). */
  heads(): FeedHead[] {
    return this.showing() === null ? this.feeds.heads() : this.feeds.headsBefore();
  }

  /** The head of `author` as sync compares it (a void feed: its void head, void.ts); undefined if none. */
  head(author: string): FeedHead | undefined {
    return this.showing() === null ? this.feeds.head(author) : this.feeds.headBefore(author);
  }

  /** The heads and counts to show while an ingest batch is written (`shown`), or null. */
  private showing(): ShownHeads | null {
    const s = this.shown;
    if (s !== null && s.feeds !== this.feeds) {
      s.feeds.endJournal(); // replaced: the new one is current
      this.shown = null;
    }
    return this.shown;
  }

  /** Starts showing the FeedSet as it is now (an ingest batch is about to move it). */
  private showBatch(): ShownHeads {
    const s = { feeds: this.feeds, carriedOutside: this.carriedOutside() };
    s.feeds.beginJournal();
    this.shown = s;
    return s;
  }

  /** The canonical top (k, hash of entry k) of `author`'s void feed held here (void.ts); undefined if not void. */
  voidTop(author: string): VoidTop | undefined {
    return this.showing() === null ? this.feeds.voidTop(author) : this.feeds.voidTopBefore(author);
  }

  /**
   * voidTop as the next ingest plans against it: the FeedSet's own, ahead of voidTop() while a
   * batch is written (a snapshot import reads it with the store's head).
   */
  chainVoidTop(author: string): VoidTop | undefined {
    return this.feeds.voidTop(author);
  }

  /** The fork evidence held, in the order it was found (while a batch is written: as before it). */
  forks(): ForkEvidence[] {
    return this.showing() === null ? this.feeds.forks() : this.feeds.forksBefore();
  }

  isForked(author: string): boolean {
    return this.showing() === null ? this.feeds.isForked(author) : this.feeds.isForkedBefore(author);
  }

  /** Lowest forked seq of `author`: its feed is void from there (void.ts); undefined if not forked. */
  voidFrom(author: string): number | undefined {
    return this.showing() === null ? this.feeds.voidFrom(author) : this.feeds.voidFromBefore(author);
  }

  /**
   * Counts and the state digest. `digest: false` skips the digest (it re-encodes the whole state
   * after every change: O(state)) and returns the last one computed, possibly stale; the worker's
   * frequent status pushes use it and refresh the digest on their own schedule.
   */
  stats(opts: { digest?: boolean } = {}): LedgerStats {
    const view = this.showing();
    const shown = view !== null;
    const f = this.feeds;
    const counts = shown
      ? f.countsBefore()
      : { entries: f.appliedCount(), pending: f.pendingCount(), forkedAuthors: f.forkedAuthors().length };
    const heads = shown ? f.headsBefore() : f.heads();
    return {
      entries: counts.entries,
      authors: heads.length,
      forkedAuthors: counts.forkedAuthors,
      pending: counts.pending + (view?.carriedOutside ?? this.carriedOutside()),
      pendingBytes: shown ? f.pendingBytesBefore() : f.pendingByteCount(),
      pendingEvicted: this.feeds.pendingEvictedCount(),
      yjsPending: this.view.state.hasPending(),
      lastCompactionAt: this.lastCompactionAt,
      stateDigest: opts.digest === false ? this.view.state.lastDigest() : this.view.state.digest(),
      skippedPayloads: this.skipped,
      unverified: this.unverified,
      staleVoids: this.staleVoids.size,
      rejudged: this.rejudged,
      rejudgeDue: this.rejudge.size,
      orderRepairs: this.orderRepair.repairs,
      orderRepairPending: this.orderRepair.pending,
      storage: this.budget?.status() ?? { role: 'full', budgetBytes: null, bytesUsed: 0, pruned: 0 },
      queue: { ...this.queueClock.snapshot(), overtakes: this.steps.overtaken },
      untracked: { ...this.untracked.counts }
    };
  }

  /**
   * Sync coverage exceptions (SyncReplica.coverage): [] for a full replica; a light replica lists
   * the feeds it pruned, each from its lowest held seq, at most `max` (PROTOCOL.md §11.3).
   */
  coverage(max: number): CoverageException[] {
    return this.budget?.coverage(max) ?? [];
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

  /**
   * Verifies, stores and applies replicated entries. Storage failures throw; bad entries are reported.
   * `atomic`: all or nothing (CausalityError, nothing stored, when any entry is refused, left
   * pending or dropped, or forks a feed). `evidence` (with `atomic`; a snapshot's void feeds,
   * PROTOCOL.md §9.4): fork or collision records this node verifies and records before the batch,
   * voiding those feeds as if it had found them; evidence that does not hold refuses the whole call.
   */
  async ingest(
    batch: readonly IncomingEntry[],
    opts: { atomic?: boolean; evidence?: readonly ForkEvidence[] } = {}
  ): Promise<IngestReport> {
    // Signatures are checked concurrently (in bounded chunks) and outside the queue: local writes
    // need not wait. (A snapshot import verified them already; they are checked again here.)
    const { verified, report } = await checkBatch(batch, this.networkId, this.genesis);
    if (opts.atomic === true && report.rejected.length > 0) throw atomicFailure(report);
    if (opts.evidence !== undefined && opts.atomic !== true) throw new TypeError('evidence needs an atomic ingest');
    const evidence =
      opts.evidence === undefined ? undefined : await checkEvidence(opts.evidence, this.networkId, this.genesis);
    if (verified.length === 0 && (evidence?.length ?? 0) === 0) return report;
    // A replicated batch (not an atomic import) may be overtaken by local writes: see write().
    const kind = opts.atomic === true ? 'barrier' : 'replicated';
    return this.serial(
      async () => {
        // A void rebuild that failed is tried again first.
        if (this.broken !== null && this.staleVoids.size > 0) await this.rebuildStaleVoids();
        const t0 = this.queueClock.now();
        try {
          return await this.ingestVerified(verified, report, opts.atomic === true, 0, evidence);
        } finally {
          this.queueClock.ingested(this.queueClock.now() - t0);
        }
      },
      undefined,
      kind
    );
  }

  /**
   * The causal verdict on a verified entry, without storing or applying it: 'refused' when the
   * entry's predecessor and dependencies are here and it breaks the rules of PROTOCOL.md §5.3
   * (every node that can judge it refuses it), 'ok' when it passes them, 'unknown' when something
   * it names is missing. For gossip: refused entries are not forwarded.
   */
  async precheck(h: HashedEntry): Promise<'ok' | 'refused' | 'unknown'> {
    return (await this.precheckRun([h])).verdict;
  }

  /**
   * precheck over a run of one feed (consecutive seqs, each linking to the one before, as gossip
   * batches are: gossip-batch.ts), each entry judged on top of the run's entries before it, as
   * ingest's admitCausal would. Stops at the first entry that is refused or names something
   * missing: `at` is its index in the run ('ok': the run's length). Nothing is stored or applied.
   */
  async precheckRun(run: readonly HashedEntry[]): Promise<{ verdict: 'ok' | 'refused' | 'unknown'; at: number }> {
    // Headers read for this run (a run's entries mostly name the same dependencies): one lookup each.
    const looked = new Map<string, EntryHeader | undefined>();
    const lookup = async (a: string, s: number): Promise<EntryHeader | undefined> => {
      const key = `${a}:${s}`;
      if (!looked.has(key)) looked.set(key, await this.appliedHeader(a, s));
      return looked.get(key);
    };
    const batch = new CausalBatch(lookup);
    for (let at = 0; at < run.length; at++) {
      const h = run[at];
      const author = toHex(h.entry.author);
      // Past the fork of a void feed: never applied anywhere, not worth forwarding (void.ts).
      if (h.entry.seq > (this.feeds.voidFrom(author) ?? Infinity)) return { verdict: 'refused', at };
      try {
        const missing = await judgeCausal(h, author, this.view.state, this.genesis.maxEntryBytes, batch);
        if (missing !== undefined) return { verdict: 'unknown', at };
      } catch (e) {
        if (e instanceof LedgerError) return { verdict: 'refused', at };
        throw e;
      }
    }
    return { verdict: 'ok', at: run.length };
  }

  /**
   * header(), but undefined for an entry known here and not applied to the document yet (an
   * ingest step between planning its feeds and applying them): judged against the document
   * without its items, a run placing items among them could be refused where ingest accepts it
   * (review of 7636e84). Void feeds are judged from their canonical headers (void.ts), as ingest
   * does. For gossip's precheck, which runs outside the queue.
   */
  private async appliedHeader(author: string, seq: number): Promise<EntryHeader | undefined> {
    const hd = await this.header(author, seq);
    if (hd === undefined || seq === 0 || this.feeds.voidFrom(author) !== undefined) return hd;
    return this.view.state.holdsClock(author, hd.clock) ? hd : undefined;
  }

  /**
   * For gossip: a signed entry Ledger.precheck refused (not forwarded). Verified again (a cache
   * hit after gossip's check), then remembered as a refused variant of its (author, seq)
   * (refused-variants.ts, stored) without the FeedSet resync an ingest of it would cost. When
   * another entry is held or remembered at that seq, the two are fork evidence: it is then
   * ingested like any entry, so the fork verdict has one path. Nothing happens past a fork.
   */
  async rememberRefused(h: HashedEntry): Promise<void> {
    const v = await verifyIncoming(h, this.networkId, this.genesis);
    if (!v.ok) return;
    const e = v.h;
    const author = toHex(e.entry.author);
    await this.serial(
      async () => {
        if (e.entry.seq >= (this.feeds.voidFrom(author) ?? Infinity)) return;
        const held = await this.entryHashes(author, e.entry.seq);
        const other = held.some((x) => x !== toHex(e.hash)) || this.refusedVariants.other(author, e.entry.seq, e.hash);
        if (other) await this.ingestVerified([e], emptyReport(), false);
        else if (held.length === 0 && this.refusedVariants.add(e)) await this.refusedVariants.flush(this.store);
      },
      undefined,
      'replicated'
    );
  }

  /**
   * Hex hashes of the entries held at (author, seq): the stored entry, or a head (or a void
   * feed's canonical top) bootstrapped from a light snapshot; empty when none. For gossip: an entry is forwarded only when its
   * `prev` is one of these at seq - 1 (core/chain-links.ts).
   */
  async entryHashes(author: string, seq: number): Promise<string[]> {
    const h = this.feeds.recentEntry(author, seq) ?? (await this.store.getEntry(author, seq));
    if (h !== undefined) return [toHex(h.hash)];
    // A void feed's canonical top, held only as a bootstrapped head's light header (void.ts).
    const top = this.feeds.voidTop(author);
    if (top !== undefined && top.seq === seq && top.hash !== undefined) return [top.hash];
    const head = this.feeds.head(author);
    return head !== undefined && head.seq === seq ? [head.hash] : [];
  }

  // ---- maintenance ----

  /** Stores the current state with the heads it covers; replay starts from there. */
  compact(): Promise<void> {
    return this.serial(async () => void (await this.compactNow()));
  }

  /**
   * Runs a void rebuild that waits for its time budget now (stats().staleVoids > 0), so the state
   * no longer shows voided entries, and judges again every refusal a void may have made acceptable
   * (stats().rejudgeDue). No-op otherwise. Snapshot exports call it first.
   */
  flushVoids(): Promise<void> {
    return this.serial(async () => {
      await this.rebuildStaleVoids();
      while (this.rejudge.size > 0) await this.rejudgeSlice(false);
    });
  }

  /** Rebuilds memory from the store (e.g. after a snapshot import wrote to it). */
  reload(): Promise<void> {
    return this.serial(() => this.rebuild());
  }

  /**
   * Bootstraps a ledger with NO history from a light snapshot's state and heads, then rebuilds:
   * in the queue, so no compaction slips in between. Refused with LightSnapshotRefusedError
   * otherwise (see storeLightState). Marks the state unverified unless `verified`. Returns the
   * entries covered.
   */
  mergeLightSnapshot(snapshot: Omit<LightStateInput, 'author' | 'at' | 'seal'>): Promise<number> {
    return this.serial(async () => {
      if (this.broken !== null) throw this.broken;
      const at = Math.floor(this.now());
      const seal = (c: Omit<Compaction, 'mac'>, bound: SealBinding) => sealCompaction(c, this.keys.seed, bound);
      const loaded = snapshot.loaded;
      const covered = await storeLightState(this.store, { ...snapshot, author: this.author, at, seal });
      // A join's verified document is taken over rather than loaded again (when it is what was stored).
      // Anything stored (void heads alone cover no entry, yet bring a state): memory loads it.
      if (snapshot.heads.length > 0) await this.rebuildAfterFailure(loaded !== undefined ? { preloaded: loaded } : {});
      else loaded?.doc.destroy();
      if (this.broken !== null) throw this.broken; // stored, but memory could not load it
      return covered;
    });
  }

  /**
   * Clears the unverified mark of a state bootstrapped from a light snapshot, once a join quorum
   * or an operator checkpoint vouched for it (src/lib/core/join). No-op when not marked.
   */
  markVerified(): Promise<void> {
    return this.serial(async () => {
      if (!this.unverified) return;
      await markStoreVerified(this.store, this.keys.seed); // reseals the compaction without the mark
      this.unverified = false;
    });
  }

  /**
   * Resolves once the work queued before this call has run (a no-op step of the queue), or the
   * ledger is closed. Feeders that batch (entry gossip) wait on it before taking their next batch,
   * so what arrived while the ledger was busy goes into one ingest step, not one step per entry.
   */
  idle(): Promise<void> {
    return this.serial(async () => undefined, undefined, 'replicated').catch(() => undefined);
  }

  /**
   * Runs `fn` as a step of the work queue: no local write group is prepared or committed while
   * it runs, and writes requested meanwhile wait for it. For state a write reads while signing
   * (`ownSignedUpTo`) that must change between write groups, never during one (the own copy
   * opened late, worker/own-copy.ts). Rejects with StorageClosedError once the ledger is closed.
   */
  betweenWrites<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial(fn);
  }

  /**
   * Runs `read` (synchronous) at a point where the document shows exactly what is stored: between
   * steps of the work queue (no local write group half done) and with no direct change waiting to
   * be signed (untracked-writes.ts). For readers that pair heads with the state (snapshot export,
   * join serving). Throws StateUsageError if direct changes keep arriving for
   * READ_CONSISTENT_ATTEMPTS steps in a row.
   */
  async readConsistent<T>(read: () => T): Promise<T> {
    for (let i = 0; i < READ_CONSISTENT_ATTEMPTS; i++) {
      const r = await this.serial(async () => (this.untracked.pending ? undefined : { value: read() }));
      if (r !== undefined) return r.value;
      // The write that signs the waiting changes is queued behind this step: the next one follows it.
    }
    throw new StateUsageError('direct changes on the document keep arriving: no consistent point to read');
  }

  /** Waits for queued work, then closes the store. Later calls fail with StorageClosedError. */
  close(): Promise<void> {
    this.closing ??= this.serial(async () => {
      this.closed = true;
      clearTimeout(this.voidTimer);
      clearTimeout(this.rejudgeTimer);
      this.orderRepair.close();
      this.view.destroy();
      this.appendListeners.clear();
      this.forkListeners.clear();
      await this.store.close();
    });
    return this.closing;
  }

  // ---- internals ----

  /**
   * Queues `fn` as a step of the work queue (step-queue.ts); `onStart` runs when its step comes,
   * even if the ledger is closed. `kind`: 'replicated' (replicated ingest, idle) steps may be
   * overtaken by local writes (a write may still join a group queued before them, and a write
   * group may run before them); every other step is a barrier for writes requested after it.
   */
  private serial<T>(fn: () => Promise<T>, onStart?: () => void, kind: StepKind = 'barrier'): Promise<T> {
    if (kind !== 'replicated') this.barriers++;
    return this.steps.push(kind, () => {
      onStart?.();
      if (this.closed) return Promise.reject(new StorageClosedError('ledger is closed'));
      return fn();
    });
  }

  /**
   * Queues a local write into the open group (see write-groups.ts); settles once it is durable.
   * It joins the open group while no barrier was queued after that group: only replicated ingest
   * steps may have been, and a write that overtakes those is as if requested a moment earlier
   * (their entries are not applied yet, so no read or write here could have depended on them).
   */
  private write(
    change: () => Uint8Array | null,
    rebuildOnThrow: boolean,
    key?: string,
    opts: WriteOptions = {}
  ): Promise<HashedEntry | null> {
    const { tag, retry } = opts;
    if (tag !== undefined && !isWriteTag(tag)) {
      return Promise.reject(new InvalidWriteTagError(`a write tag is a string of 1 to ${MAX_WRITE_TAG_LENGTH} units`));
    }
    return new Promise<HashedEntry | null>((resolve, reject) => {
      const requestedAt = this.queueClock.now();
      this.enqueue({
        change,
        rebuildOnThrow,
        requestedAt,
        resolve,
        reject,
        ...(key !== undefined ? { key } : {}),
        ...(tag !== undefined ? { tag, ...(retry === true ? { retry: true as const } : {}) } : {})
      });
    });
  }

  private enqueue(w: PendingWrite): void {
    if (this.groups.join(w, () => this.barriers)) return;
    this.groups.start(w, (take) => {
      let members: PendingWrite[] = [];
      this.serial(
        () => this.commitGroup(members),
        () => (members = take()),
        'write'
      ).catch((e: unknown) => {
        for (const m of members) m.reject(e); // settled members ignore this
      });
      return this.barriers;
    });
  }

  /** A change made on the document outside the write calls: queued to be signed (untracked-writes.ts). */
  private noteUntracked(payload: Uint8Array): void {
    if (this.untracked.add(payload)) this.enqueue(this.untrackedWrite(true));
  }

  /** A direct change that must be undone (LedgerState.onUntrackedDefect): refused by the next untracked write. */
  private noteUntrackedDefect(reason: string, payload: boolean): void {
    if (this.untracked.refuse(reason, payload)) this.enqueue(this.untrackedWrite(true));
  }

  /**
   * A write that signs the waiting untracked changes as one entry. `queued`: the one noteUntracked
   * queued; otherwise a write group runs it ahead of a member whose change would follow them.
   */
  private untrackedWrite(queued: boolean): PendingWrite {
    let changes = 0;
    let took = false;
    return {
      change: () => {
        // Run again after a rebuild (StaleVoidReferenceError): what it took is gone with the old document.
        if (took) this.untracked.settled(changes, false);
        took = true;
        const t = this.untracked.take(queued, this.genesis.maxEntryBytes - ENTRY_HEADROOM_BYTES);
        changes = t.changes;
        // Those that did not fit in one entry: signed by a write of their own (redteam6e-untracked-merge).
        if (this.untracked.requeue()) this.enqueue(this.untrackedWrite(true));
        // A change to undo (local-strings.ts): thrown here, the write's rebuild undoes it.
        if (t.refused !== undefined) throw new MalformedPayloadError(t.refused);
        return t.payload;
      },
      rebuildOnThrow: true,
      requestedAt: this.queueClock.now(),
      untracked: true,
      resolve: () => this.untracked.settled(changes, true),
      reject: () => {
        if (queued && !took) this.untracked.unqueue(); // refused before it ran (redteam6e-untracked-stall)
        this.untracked.settled(changes, false);
      }
    };
  }

  /** One group's step: each write applied and signed in order, then one strict commit. */
  private async commitGroup(members: readonly PendingWrite[]): Promise<void> {
    this.queueClock.groupStarted(members.map((m) => m.requestedAt));
    if (this.broken !== null && this.staleVoids.size > 0) await this.rebuildStaleVoids(); // a failed one, again
    if (this.broken !== null) throw this.broken;
    let batch: PreparedWrite[] = [];
    let tail: HashedEntry | undefined; // the last entry prepared, the next one's predecessor
    const done = await this.writesDone(members);
    const tagged = new Map<string, PendingWrite>();
    // A second write with a tag already in this group: queued again as a retry, behind the group,
    // so it answers with the first one's entry once stored, or is made if the first was not.
    const again: PendingWrite[] = [];
    this.startSegment();
    const queue = [...members];
    try {
      for (let w = queue.shift(); w !== undefined; w = queue.shift()) {
        if (this.broken !== null) {
          w.reject(this.broken);
          continue;
        }
        if (w.tag !== undefined) {
          const stored = done.get(w.tag);
          if (stored instanceof Error) {
            w.reject(stored); // its tag could not be looked up: this write alone fails
            continue;
          }
          if (stored !== undefined) {
            w.resolve(stored); // made before (a retry): answered with its entry, not made again
            continue;
          }
          const twin = tagged.get(w.tag);
          if (twin !== undefined && twin !== w) {
            again.push(w);
            continue;
          }
          tagged.set(w.tag, w);
        }
        let r = await this.timedPrepare(w, tail);
        if (!r.ok && r.dirty && r.error instanceof StaleVoidReferenceError) {
          // The write built on items of a feed whose void is still deferred (they turn into GC on
          // every node): store what was prepared, rebuild (every void applied), write it again.
          const from = new Map(this.staleVoids);
          const gcBefore = gcUnits(this.view.state.doc);
          await this.commitPrepared(batch, true);
          batch = [];
          tail = undefined;
          this.startSegment();
          if (this.broken !== null) {
            w.reject(this.broken); // memory could not be rebuilt: the rest of the group is refused too
            continue;
          }
          // As after a deferred void rebuild (rebuildStaleVoids): refusals the voids can make
          // acceptable are judged again, and a compaction follows.
          this.staleVoids.clear();
          this.markDue({ from, gc: this.gcGrownAuthors(gcBefore) });
          this.compactAfterRebuild();
          r = await this.timedPrepare(w, tail);
        }
        if (!r.ok && r.untrackedFirst) {
          // Changes were made on the document before this write's: they are signed first.
          queue.unshift(this.untrackedWrite(false), w);
          continue;
        }
        if (r.ok) {
          batch.push({ write: w, entry: r.entry });
          tail = r.entry ?? tail;
          continue;
        }
        if (r.dirty) {
          // The document holds a change that will not be stored: store what was prepared before
          // it, then rebuild memory from the store; the rest of the group starts afresh.
          await this.commitPrepared(batch, true);
          batch = [];
          tail = undefined;
          this.startSegment();
        }
        w.reject(r.error);
      }
      await this.commitPrepared(batch, false);
    } finally {
      this.inFlight = null;
    }
    // Only when the group ran to its end: if it threw, every member (these too) was refused.
    for (const w of again) this.enqueue({ ...w, retry: true });
  }

  /**
   * The entries stored with the tags of the group's retried writes (LedgerStore.writeTag): this
   * node's own entries only. One store read per retried write; fresh writes cost none.
   */
  private async writesDone(members: readonly PendingWrite[]): Promise<Map<string, HashedEntry | Error>> {
    const out = new Map<string, HashedEntry | Error>();
    const retried = members.filter((m) => m.retry === true && m.tag !== undefined);
    await Promise.all(
      retried.map(async (m) => {
        try {
          const row = await this.store.writeTag(m.tag!);
          if (row === undefined || row.author !== this.author) return;
          const h = await this.store.getEntry(row.author, row.seq);
          if (h !== undefined) out.set(m.tag!, h);
        } catch (e) {
          out.set(m.tag!, e instanceof Error ? e : new Error(String(e)));
        }
      })
    );
    return out;
  }

  /** prepareWrite, its time counted in the queue timings. */
  private async timedPrepare(w: PendingWrite, tail: HashedEntry | undefined): ReturnType<Ledger['prepareWrite']> {
    const t0 = this.queueClock.now();
    try {
      return await this.prepareWrite(w, tail);
    } finally {
      this.queueClock.prepared(this.queueClock.now() - t0);
    }
  }

  /** Holds events and notes the durable conflicts for the writes that follow. */
  private startSegment(): void {
    this.inFlight = null; // conflicts() must read the durable state, not the previous overlay
    this.inFlight = new DurableOverlay(this.conflicts());
    this.view.holdEvents();
  }

  /**
   * Applies one write to the document and signs its entry after `tail` (the group's last prepared
   * entry) or after the durable head. `dirty`: the document may hold (part of) the change.
   */
  private async prepareWrite(
    w: PendingWrite,
    tail: HashedEntry | undefined
  ): Promise<
    { ok: true; entry: HashedEntry | null } | { ok: false; error: unknown; dirty: boolean; untrackedFirst?: true }
  > {
    if (this.feeds.voidFrom(this.author) !== undefined) {
      const collided = this.feeds.forks().some((ev) => ev.author === this.author && isCollision(ev));
      const error = new StateUsageError(
        collided
          ? "this node's own feed is void: another key with its Yjs clientID signed entries (PROTOCOL.md §6.2)"
          : "this node's own feed is forked (its key signed two entries at one seq elsewhere): its writes are void"
      );
      // Direct changes waiting to be signed never will be: a rebuild undoes them (redteam6e-untracked-stall).
      return { ok: false, error, dirty: w.untracked === true && this.untracked.pending };
    }
    let head: FeedHead | undefined;
    let prevHeader: EntryHeader | undefined;
    try {
      head = tail === undefined ? this.feeds.head(this.author) : headOfEntry(tail);
      prevHeader =
        tail === undefined ? await this.ownHeader(head) : { lamport: tail.entry.lamport, clock: tail.entry.clock };
    } catch (e) {
      return { ok: false, error: e, dirty: false };
    }
    const signed = this.ownSignedUpTo();
    const below = signed - (head?.seq ?? 0);
    if (below > 0) {
      const error = new OwnFeedBehindError(
        `this device signed its feed up to seq ${signed}; the store holds it up to ${head?.seq ?? 0} ` +
          `(${below} restored entries wait for entries from peers); nothing was written`
      );
      return { ok: false, error, dirty: w.untracked === true && this.untracked.pending };
    }
    // Provisional lamport for record metadata; the entry's lamport follows from its deps.
    const stamp = { time: Math.floor(this.now()), lamport: prevHeader.lamport + 1 };
    const key = w.key;
    if (key !== undefined) this.inFlight?.note(key, () => this.view.records.entry(key));
    let payload: Uint8Array | null;
    if (this.untracked.pending && w.untracked !== true)
      return { ok: false, error: null, dirty: false, untrackedFirst: true };
    this.stamp = stamp;
    try {
      payload = w.change();
    } catch (e) {
      // Records validate before touching the doc; an app's fn may throw half-way through.
      return { ok: false, error: e, dirty: w.rebuildOnThrow };
    } finally {
      this.stamp = null;
    }
    if (payload === null) return { ok: true, entry: null };
    try {
      const local = await this.localStamp(payload, prevHeader, stamp.time);
      const entry = await signLocal(this.keys, head, local, payload, this.networkId, this.genesis.maxEntryBytes);
      return { ok: true, entry };
    } catch (e) {
      return { ok: false, error: e, dirty: true };
    }
  }

  /** Lamport and clock of this node's durable head entry (the empty feed's without a head). */
  private async ownHeader(head: FeedHead | undefined): Promise<EntryHeader> {
    const h = head ? await this.header(this.author, head.seq) : GENESIS_HEADER;
    if (h === undefined) throw new StateUsageError('own head entry is not in the store');
    return h;
  }

  /**
   * Stores the prepared writes in one strict transaction, then settles them: all resolve once
   * durable, or all reject with the store's error (memory is rebuilt from the store). `dirty`:
   * the document holds a change beyond them, so memory is rebuilt from the store in any case.
   */
  private async commitPrepared(batch: PreparedWrite[], dirty: boolean): Promise<void> {
    const entries = batch.flatMap((p) => (p.entry === null ? [] : [p.entry]));
    let failure: { error: unknown } | null = null;
    const t0 = this.queueClock.now();
    const tags = batch.flatMap((p) => (p.entry === null ? [] : [p.write.tag]));
    try {
      if (entries.length === 1) await this.store.appendLocal(entries[0], tags[0]);
      else if (entries.length > 1) await this.store.appendLocalBatch(entries, tags);
    } catch (e) {
      failure = { error: e };
    }
    if (entries.length > 0) this.queueClock.committed(this.queueClock.now() - t0);
    // After the store's commit is timed (commitMs is the store's alone), before any announcement.
    if (failure === null && entries.length > 0 && this.afterLocalStored !== undefined)
      await Promise.resolve()
        .then(() => this.afterLocalStored?.(entries))
        .catch(() => undefined);
    if (failure !== null || dirty) {
      this.view.discardEvents();
      const carry = this.takeHeld(); // a rebuild drops them: held again after it
      await this.rebuildAfterFailure(); // memory again from the store (it shows what was stored)
      this.carryOver(carry);
    } else {
      for (const h of entries) {
        this.feeds.ingest(h);
        this.budget?.add(h);
      }
      this.view.commitEvents(); // durable now
    }
    this.inFlight = null; // before any caller resumes: what the group wrote is durable, or gone
    if (failure !== null) {
      for (const p of batch) p.write.reject(failure.error);
      return;
    }
    for (const h of entries) this.clock = Math.max(this.clock, h.entry.lamport);
    this.appended(entries.length, payloadBytes(entries));
    for (const p of batch) {
      if (p.entry !== null) this.appendListeners.emit(p.entry, 'local');
      p.write.resolve(p.entry);
    }
  }

  private async ingestVerified(
    verified: HashedEntry[],
    report: IngestReport,
    atomic: boolean,
    depth = 0,
    evidence?: readonly ForkEvidence[],
    storedSink?: Set<string>
  ): Promise<IngestReport> {
    if (this.broken !== null) throw this.broken;
    const progress: CommitProgress = { stored: false };
    const voidsBefore = this.feeds.voids();
    // What the state held of each author of the batch: a new void needs a rebuild only if it did.
    const appliedBefore = new Map<string, number>();
    const touched = [...verified, ...(evidence ?? []).flatMap((ev) => [ev.a, ev.b])];
    for (const h of touched) {
      const a = toHex(h.entry.author);
      if (!appliedBefore.has(a)) appliedBefore.set(a, this.feeds.appliedHead(a)?.seq ?? 0);
    }
    let done;
    let failed = true;
    const mine = this.showing() === null ? this.showBatch() : null;
    const unshow = (): void => {
      if (mine === null) return;
      mine.feeds.endJournal();
      if (this.shown === mine) this.shown = null;
    };
    // Just before the batch is applied (synchronously): unless the FeedSet took entries that
    // were refused (feedsStale), it agrees with the state from then on.
    progress.beforeApply = (stale) => stale || unshow();
    try {
      const plan = await planFeeds(this.feeds, this.store, verified, report, this.refusedVariants, evidence);
      const lookup = (a: string, seq: number) => this.header(a, seq);
      const max = this.genesis.maxEntryBytes;
      done = await commitPlan(this.store, this.view.state, plan, report, this.now, lookup, max, progress, atomic);
      failed = false;
    } catch (e) {
      // Not stored: only the FeedSet (moved by planFeeds) is ahead of the store. Stored: the
      // state may lack some of the stored entries, so everything is rebuilt from the store.
      if (progress.stored) await this.rebuildAfterFailure();
      else await this.resyncFeeds();
      throw e;
    } finally {
      if (failed) unshow(); // memory was rebuilt from the store (or the ledger is broken)
    }
    // Entries still held wait in the FeedSet, which a resync or rebuild replaces: carried over
    // (only a resync or a fork can lead there).
    const held = done.feedsStale || done.forks.length > 0 ? this.feeds.pendingWithTimes() : [];
    if (done.feedsStale) await this.resyncFeeds();
    unshow();
    for (const h of done.refused) this.refusedVariants.add(h);
    for (const h of done.stored) this.refusedVariants.forget(h); // accepted since (redteam6e-refused-accepted)
    for (const h of done.stored) storedSink?.add(toHex(h.hash));
    await this.refusedVariants.flush(this.store);
    this.clock = Math.max(this.clock, done.lamport);
    await this.resolveVoidTops(this.feeds);
    const voided = done.forks.length > 0 && !sameVoids(voidsBefore, this.feeds.voids());
    if (voided) {
      const changed = [...this.feeds.voids()].filter(([a, s]) => voidsBefore.get(a) !== s);
      // A feed became void (or void from an earlier seq): entries of it the state applied at or
      // above the fork leave the state, by a rebuild. If it applied none, the placeholder is enough.
      const applied = (a: string, s: number) =>
        (appliedBefore.get(a) ?? Infinity) >= s ||
        done.stored.some((h) => toHex(h.entry.author) === a && h.entry.seq >= s);
      const rebuild = changed.filter(([a, s]) => applied(a, s));
      for (const [a, s] of rebuild) this.staleVoids.set(a, s);
      const wait = rebuild.length > 0 ? this.rebuildBudget.waitMs() : 0;
      const from = new Map(changed);
      let gc: Set<string> | undefined;
      // Direct changes waiting to be signed would be dropped by a rebuild now (the document is
      // replaced): it follows their write instead, by the deferred path (redteam6f-void-drops-direct).
      if (rebuild.length > 0 && wait === 0 && !this.untracked.pending) {
        for (const [a, s] of this.staleVoids) from.set(a, Math.min(s, from.get(a) ?? s));
        gc = await this.rebuildNow();
      } else {
        if (rebuild.length > 0) this.scheduleVoidRebuild(wait);
        await this.applyVoids(this.view.state, this.feeds, this.staleVoids);
      }
      // Refusals whose verdict the void can change are due to be judged again (rejudge.ts).
      this.markDue({ from, ...(gc !== undefined ? { gc } : {}) });
    } else await this.applyVoids(this.view.state, this.feeds, this.staleVoids);
    this.skipped += done.skipped;
    for (const h of done.stored) this.budget?.add(h);
    this.appended(done.stored.length, payloadBytes(done.stored));
    for (const h of done.stored) this.appendListeners.emit(h, 'remote');
    for (const ev of done.forks) this.forkListeners.emit(ev);
    if (done.forkError !== undefined) {
      // The evidence was not stored, but the FeedSet already took the void: memory again from the
      // store, so a re-offer finds the fork anew and nothing stale is ever compacted.
      await this.rebuildAfterFailure();
      throw done.forkError;
    }
    // A bounded slice of the due refusals now, the rest by a budgeted timer: a hostile peer pays
    // one signature per fork, and each fork ingest judges at most a slice again.
    const carrying = (done.feedsStale || voided) && depth < LEDGER_CARRY_DEPTH;
    const carry = carrying ? this.carried(held) : [];
    if (voided && depth < LEDGER_CARRY_DEPTH) carry.push(...this.takeDue(LEDGER_REJUDGE_PER_STEP));
    if (carrying && carry.length > 0) {
      const carried = new Set<string>();
      const again = await this.ingestCarry(carry, depth + 1, carried);
      for (const h of carried) storedSink?.add(h);
      const mine = new Set(verified.map((h) => toHex(h.hash)));
      mergeCarried(report, again, carried, mine);
      // The carried pass held others' entries again too: `pending` is this batch's still held.
      report.pending = carry.filter((h) => mine.has(toHex(h.hash)) && this.feeds.isPending(h)).length;
    }
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
      // While a void rebuild is deferred, any item of another author may rest on voided items
      // (directly or through others' entries) that every node turns into GC: rebuild first.
      if (this.staleVoids.size > 0) throw new StaleVoidReferenceError();
      // Applied, not sync, head: a void feed's items past its fork are GC and never referenced.
      const head = author === undefined ? undefined : this.feeds.appliedHead(author);
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
    this.view.state.checkIntegrable(parsed, [], true);
    checkRecordDeletes(this.view.state.doc, parsed);
    checkRecordWrites(this.view.state.doc, parsed);
    return stamp;
  }

  /** Lamport and Yjs clock of `author`'s entry at `seq` (seq 0: the empty feed); undefined if absent. */
  private async header(author: string, seq: number): Promise<EntryHeader | undefined> {
    if (seq === 0) return GENESIS_HEADER;
    const top = this.feeds.voidTop(author);
    if (top !== undefined && top.seq === seq && seq > 0) {
      // A void feed's canonical top: held, or the light header of a bootstrapped void head.
      const held = this.feeds.recentEntry(author, seq);
      if (held !== undefined) return { lamport: held.entry.lamport, clock: held.entry.clock };
      const x = (await this.storedHeader(author, seq)) ?? (await this.bootstrappedTopHeader(author, seq));
      if (x !== undefined) return x;
    }
    // A dependency on a void feed at or above its fork (void.ts).
    const forkSeq = this.feeds.voidFrom(author);
    if (forkSeq !== undefined && seq >= forkSeq - 1) {
      // A dependency on a void feed (void.ts): bounded from its last canonical entry, held here
      // once the dependency gate let the entry through (that entry itself: its own header, which
      // a void head bootstrapped from a light snapshot carries).
      const canonical = await this.canonicalHeader(author, forkSeq);
      if (seq < forkSeq || canonical === undefined) return canonical;
      return voidedHeader(canonical, forkSeq, seq);
    }
    const recent = this.feeds.recentEntry(author, seq);
    if (recent !== undefined) return { lamport: recent.entry.lamport, clock: recent.entry.clock };
    return this.storedHeader(author, seq);
  }

  /**
   * Header of a void feed's last canonical entry (seq forkSeq - 1; GENESIS_HEADER at 1): held
   * here, stored, or kept with a void head bootstrapped from a light snapshot (its light header,
   * PROTOCOL.md §9.2). Undefined when none of them is.
   */
  private async canonicalHeader(author: string, forkSeq: number): Promise<EntryHeader | undefined> {
    if (forkSeq === 1) return GENESIS_HEADER;
    const recent = this.feeds.recentEntry(author, forkSeq - 1); // joined its feed, maybe not stored yet
    if (recent !== undefined) return { lamport: recent.entry.lamport, clock: recent.entry.clock };
    return (await this.storedHeader(author, forkSeq - 1)) ?? (await this.bootstrappedTopHeader(author, forkSeq - 1));
  }

  /**
   * The light header kept with a void head bootstrapped from a light snapshot or a join, when its
   * canonical top (void.ts) is entry `seq` of `author`; else undefined.
   */
  private async bootstrappedTopHeader(
    author: string,
    seq: number,
    feeds: FeedSet = this.feeds
  ): Promise<EntryHeader | undefined> {
    if (feeds.voidTop(author)?.seq !== seq || !isVoidSeq(feeds.storedHeadSeq(author))) return undefined;
    const base = (await this.store.getMeta(HEAD_HEADERS_META)) as HeadHeader[] | undefined;
    const x = base?.find((b) => b.author === author && isVoidSeq(b.seq) && b.top === seq);
    return x === undefined ? undefined : { lamport: x.lamport, clock: x.clock };
  }

  /**
   * Lamport and Yjs clock of each given head's entry (for light snapshots). A void head's header
   * is that of its feed's last canonical entry (PROTOCOL.md §9.2).
   */
  async headHeaders(heads: readonly FeedHead[]): Promise<HeadHeader[]> {
    const out: HeadHeader[] = [];
    for (const h of heads) {
      const top = isVoidSeq(h.seq) ? this.feeds.voidTop(h.author) : undefined;
      const x = top !== undefined ? await this.header(h.author, top.seq) : await this.header(h.author, h.seq);
      if (x === undefined) throw new StateUsageError(`no entry header for head ${h.author.slice(0, 16)}…:${h.seq}`);
      const hd: HeadHeader = { author: h.author, seq: h.seq, lamport: x.lamport, clock: x.clock };
      if (top !== undefined) Object.assign(hd, { top: top.seq, topHash: top.hash ?? NO_TOP_HASH });
      out.push(hd);
    }
    return out;
  }

  /**
   * Resolves the canonical top of void feeds whose head is at or above their fork (FeedSet
   * voidTopsToResolve): entry s - 1 read from the store (a light replica keeps it: it is the head
   * its compactions record for the feed); pruned, the prev of entry s when that is held (and the
   * pruned headers show s - 1 was held), else the hash the pruned headers keep; a bootstrapped void head's light header when it names
   * s - 1. One that has none of them holds nothing below the fork (k = 0).
   */
  private async resolveVoidTops(feeds: FeedSet): Promise<void> {
    for (const { author, s } of feeds.voidTopsToResolve()) {
      const e = await this.store.getEntry(author, s - 1);
      if (e !== undefined) {
        feeds.setVoidTop(author, s, { seq: s - 1, hash: toHex(e.hash) });
        continue;
      }
      // Pruned by a light budget (or never held): entry s, when held on the feed's verified
      // chain, names the hash of entry s - 1 (its prev), which this node held and applied.
      const next = isVoidSeq(feeds.storedHeadSeq(author)) ? undefined : await this.store.getEntry(author, s);
      if (next !== undefined && (await this.prunedHeaders.get(author, s - 1)) !== undefined) {
        feeds.setVoidTop(author, s, { seq: s - 1, hash: toHex(next.entry.prev) });
        continue;
      }
      // Entry s pruned too: the sealed pruned-headers row keeps the hash of entry s - 1.
      const kept = isVoidSeq(feeds.storedHeadSeq(author)) ? undefined : await this.prunedHeaders.hash(author, s - 1);
      if (kept !== undefined) {
        feeds.setVoidTop(author, s, { seq: s - 1, hash: kept });
        continue;
      }
      // A bootstrapped void feed's light header names entry s - 1 as its top (void.ts).
      const x = (await readHeadHeaders(this.store))?.find((b) => b.author === author && isVoidSeq(b.seq));
      const top = x === undefined ? undefined : topOfHeader(x);
      feeds.setVoidTop(author, s, top !== undefined && top.seq === s - 1 ? top : { seq: 0, hash: undefined });
    }
  }

  /**
   * A void rebuild: memory again from the store, without checking signatures again (every stored
   * entry was verified when stored or at open; hashes and links are still checked). Its time
   * counts against the rebuild budget. Throws what broke the ledger if it failed.
   */
  private async rebuildNow(): Promise<Set<string>> {
    const t0 = performance.now();
    const before = gcUnits(this.view.state.doc);
    await this.rebuildAfterFailure({ signatures: false });
    const grown = this.broken === null ? this.gcGrownAuthors(before) : new Set<string>();
    this.rebuildBudget.record(performance.now() - t0);
    if (this.broken !== null) {
      // Kept stale: the next write or ingest tries again, and so does a timer (with backoff).
      this.retryMs = Math.min(VOID_REBUILD_RETRY_MAX_MS, this.retryMs * 2);
      this.scheduleVoidRebuild(this.retryMs);
      throw this.broken;
    }
    this.retryMs = VOID_REBUILD_RETRY_MS / 2;
    this.staleVoids.clear();
    this.compactAfterRebuild();
    return grown;
  }

  /**
   * A deferred void rebuild, when its budget allows (or flushVoids). Held entries are carried over,
   * and a slice of the refusals whose verdict it can change (markDue).
   */
  private async rebuildStaleVoids(): Promise<void> {
    if (this.staleVoids.size === 0) return;
    const carry = this.takeHeld();
    const from = new Map(this.staleVoids);
    const gc = await this.rebuildNow();
    this.markDue({ from, gc });
    carry.push(...this.takeDue(LEDGER_REJUDGE_PER_STEP));
    if (carry.length > 0) await this.ingestCarry(carry);
  }

  /**
   * Queues the remembered refusals whose verdict `change` can alter (rejudge.ts; not those past
   * their own feed's fork, which stay refused, nor those whose seq its feed holds by now). A
   * budgeted timer judges them a slice at a time.
   */
  private markDue(change: VoidChange): void {
    const due = affectedRefusals(this.refusedVariants.all(), change).filter((h) => {
      const author = toHex(h.entry.author);
      // Held at its seq since (this entry, or a variant: fork evidence), or past its feed's fork.
      const held = (this.feeds.appliedHead(author)?.seq ?? 0) >= h.entry.seq;
      return !held && h.entry.seq < (this.feeds.voidFrom(author) ?? Infinity);
    });
    this.rejudge.add(due);
    this.scheduleRejudge();
  }

  /**
   * At open: the re-judge queue of the last run is gone (memory only), so every remembered
   * refusal a held void can have changed is due again (those naming a void feed at or above its
   * fork, or an author holding GC items): judged by the budgeted timer, as after the void itself.
   * Without it a restart before the backlog drained kept them refused (redteam6e-rejudge-restart).
   */
  private markDueAtOpen(): void {
    const from = this.feeds.voids();
    if (from.size === 0 || this.refusedVariants.size.count === 0) return;
    this.markDue({ from, gc: this.authorsHoldingGc() });
  }

  /** Authors with items that turned GC since `before` (gcUnits of the document then; rejudge.ts). */
  private gcGrownAuthors(before: ReturnType<typeof gcUnits>): Set<string> {
    const grown = new Set<string>();
    for (const c of gcGrowth(before, gcUnits(this.view.state.doc))) {
      const a = this.view.state.authorOf(c);
      if (a !== undefined) grown.add(a);
    }
    return grown;
  }

  /** Authors with GC items in the document (a superset of those whose items a void turned GC). */
  private authorsHoldingGc(): Set<string> {
    const gc = new Set<string>();
    for (const client of gcUnits(this.view.state.doc).keys()) {
      const a = this.view.state.authorOf(client);
      if (a !== undefined) gc.add(a);
    }
    return gc;
  }

  /**
   * Entries held for missing predecessors before a rebuild that dropped them (a failed or undone
   * local write): queued again as a replicated step, so they are held (or applied) as before
   * instead of waiting for sync to fetch them again.
   */
  private carryOver(carry: HashedEntry[]): void {
    if (carry.length === 0 || this.broken !== null) return;
    // Still held while the step waits: stats().pending counts them (the rebuilt FeedSet does not).
    this.carrying.add(carry);
    this.serial(() => this.ingestCarry(carry), undefined, 'replicated')
      .catch(() => undefined) // a failure marks the ledger broken; the entries come again through sync
      .finally(() => this.carrying.delete(carry));
  }

  /**
   * Every entry the FeedSet holds, in the order held, each with when it was first held noted in
   * `heldSince`: the caller carries them over a rebuild or resync (which drops them), and the
   * next FeedSet holds them again with that time, so their age is not reset by each carry (a
   * write that keeps failing rebuilds every time; the 10-minute expiry would never come).
   */
  private takeHeld(): HashedEntry[] {
    return this.carried(this.feeds.pendingWithTimes());
  }

  /** `held` (FeedSet.pendingWithTimes) to be held again: their times noted in `heldSince`. */
  private carried(held: ReadonlyArray<{ h: HashedEntry; at: number }>): HashedEntry[] {
    return held.map(({ h, at }) => {
      this.heldSince.set(h, at);
      return h;
    });
  }

  /**
   * Ingests carried entries again (in the caller's step), then forgets their first-held times:
   * those not held again (applied, duplicates where no FeedSet was replaced, dropped) must not
   * date a later hold of the object.
   */
  private ingestCarry(carry: HashedEntry[], depth = 1, storedSink?: Set<string>): Promise<IngestReport> {
    return this.ingestVerified(carry, emptyReport(), false, depth, undefined, storedSink).finally(() => {
      for (const h of carry) this.heldSince.delete(h);
    });
  }

  /** Options of every FeedSet this ledger builds. */
  private feedOptions(): FeedSetOptions {
    return {
      now: this.now,
      heldSince: (h) => {
        const at = this.heldSince.get(h);
        this.heldSince.delete(h); // once: a later hold of the same object counts from then
        return at;
      }
    };
  }

  /** Entries of queued carry steps that the FeedSet neither holds nor has applied yet. */
  private carriedOutside(): number {
    let n = 0;
    for (const carry of this.carrying)
      for (const h of carry)
        if (!this.feeds.isPending(h) && (this.feeds.appliedHead(toHex(h.entry.author))?.seq ?? 0) < h.entry.seq) n++;
    return n;
  }

  /** Up to `n` due refusals, oldest first, to be judged in the caller's step. */
  private takeDue(n: number): HashedEntry[] {
    const slice = this.rejudge.take(n);
    this.rejudged += slice.length;
    return slice;
  }

  /**
   * Judges the next slice of due refusals (all of them when not `budgeted`, see flushVoids); its
   * time counts against the rebuild budget.
   */
  private async rejudgeSlice(budgeted = true): Promise<void> {
    const slice = this.takeDue(budgeted ? LEDGER_REJUDGE_PER_STEP : Infinity);
    const t0 = performance.now();
    if (slice.length > 0) await this.ingestVerified(slice, emptyReport(), false, 1);
    this.rebuildBudget.record(performance.now() - t0);
    if (budgeted) this.scheduleRejudge();
  }

  /** A timer for the next slice of due refusals, once the rebuild budget allows. */
  private scheduleRejudge(): void {
    if (this.rejudgeTimer !== undefined || this.closed || this.rejudge.size === 0) return;
    this.rejudgeTimer = setTimeout(
      () => {
        this.rejudgeTimer = undefined;
        this.serial(() => this.rejudgeSlice()).catch(() => undefined); // a failure marks the ledger broken
      },
      Math.max(LEDGER_REJUDGE_DELAY_MS, this.rebuildBudget.waitMs())
    );
    (this.rejudgeTimer as { unref?: () => void }).unref?.();
  }

  private scheduleVoidRebuild(waitMs: number): void {
    if (this.voidTimer !== undefined || this.closed) return;
    this.voidTimer = setTimeout(() => {
      this.voidTimer = undefined;
      this.serial(() => this.rebuildStaleVoids()).catch(() => undefined); // a failure marks the ledger broken
    }, waitMs);
    (this.voidTimer as { unref?: () => void }).unref?.();
  }

  /** After a void rebuild: a compaction soon, so the next open does not replay from the start. */
  private compactAfterRebuild(): void {
    this.sinceCompaction = Math.max(this.sinceCompaction, 1);
    if (this.compactQueued) return;
    this.compactQueued = true;
    this.serial(() => this.compactNow())
      .catch(() => undefined)
      .finally(() => (this.compactQueued = false));
  }

  /** Counts applied entries (and their payload bytes) and queues one compaction (after the current task) when due. */
  private appended(n: number, bytes: number): void {
    this.sinceCompaction += n;
    this.bytesSinceCompaction += bytes;
    const since = { entries: this.sinceCompaction, bytes: this.bytesSinceCompaction };
    // A light replica over its budget compacts now: pruning happens behind a compaction.
    const overBudget = this.budget !== null && this.budget.bytesUsed > this.budget.budgetBytes;
    if (this.compactQueued || (!overBudget && !compactionDue(this.compaction, since, this.compactedBytes))) return;
    this.compactQueued = true;
    this.serial(() => this.compactNow())
      .catch(() => undefined) // a failed auto-compaction changes nothing; later entries retry
      .finally(() => (this.compactQueued = false));
  }

  /** Stores a compaction of the current state; false when there was nothing new or it must wait. */
  private async compactNow(): Promise<boolean> {
    if (this.broken !== null) throw this.broken; // memory may differ from the store: never persist it
    if (this.sinceCompaction === 0 && this.lastCompactionAt !== null) return false;
    // The state still shows voided entries (rebuild deferred): never persist it.
    if (this.staleVoids.size > 0) return false;
    // Structs Yjs parked (a void feed's placeholder still waits for its canonical part): later.
    if (this.view.state.hasPending()) return false;
    const at = Math.floor(this.now());
    const heads = await this.appliedHeads();
    // A direct change on the document not signed yet (untracked-writes.ts), made before this step
    // or during the read above: never persist it (its entry, or its undo, comes first; later again).
    if (this.untracked.pending) return false;
    // The canonical state (digest.ts): reopening checks its digest with one encode (loadedCanonical).
    // Its bytes are taken now (same step as the check above); the digest by a native SHA-256
    // (canonicalDigestAsync: an installed one, else WebCrypto; by JS SHA-256 it was ~28% of a
    // compaction, 9% of the CPU of a browser ingest: profile of bench row 4, 2026-12-02 04:26).
    const { canonical, digest } = await this.view.state.canonicalAsync();
    const c = { state: canonical, heads, at, digest };
    // v3: the seal binds the unverified mark and the light head headers too (PROTOCOL.md §10).
    const bound = { unverified: this.unverified, headers: await readHeadHeaders(this.store) };
    await this.store.saveCompaction({ ...c, mac: sealCompaction(c, this.keys.seed, bound) });
    // Which canonical top each bootstrapped void head binds: open reads from there. Only a hint
    // (checked against the sealed heads before use): a failed write costs the next open a walk.
    await storeCompactedTops(this.store, heads, (a) => this.feeds.voidTop(a)).catch(() => undefined);
    this.lastCompactionAt = at;
    this.sinceCompaction = 0;
    this.bytesSinceCompaction = 0;
    this.compactedBytes = c.state.length;
    // A light replica prunes behind the compaction it just stored (never before it).
    if (this.budget !== null) await this.budget.enforce(this.store, c.heads, this.prunedHeaders);
    return true;
  }

  /**
   * The live document ordered something otherwise than the canonical state (order-repair.ts):
   * a compaction stores the canonical bytes, a rebuild loads them (no entry above it to replay).
   * Entries held for missing predecessors are carried over, as after a void rebuild. False when
   * it could not run now (nothing stored yet, a deferred void, direct changes waiting).
   */
  private repairOrder(): Promise<boolean> {
    return this.serial(async () => {
      if (this.closed || this.broken !== null) return false;
      this.sinceCompaction = Math.max(this.sinceCompaction, 1); // compact even right after one
      if (!(await this.compactNow())) return false;
      const t0 = performance.now();
      const carry = this.takeHeld();
      await this.rebuildAfterFailure({ signatures: false });
      this.rebuildBudget.record(performance.now() - t0);
      if (this.broken !== null) return false;
      if (carry.length > 0) await this.ingestCarry(carry);
      return true;
    });
  }

  /** The heads the state holds (a void feed's last entry before its fork): what a compaction covers. */
  private async appliedHeads(): Promise<FeedHead[]> {
    const out: FeedHead[] = [];
    let storedHeads: FeedHead[] | undefined;
    let kept: FeedHead[] | undefined;
    for (const h of this.feeds.heads()) {
      if (!isVoidSeq(h.seq)) {
        out.push(h);
        continue;
      }
      if (isVoidSeq(this.feeds.storedHeadSeq(h.author))) {
        // Bootstrapped: its void head as held here (bound to the canonical top the state holds:
        // the light header's, or a stored entry it took since), unless evidence moved the void
        // below it (then its applied top, below).
        storedHeads ??= await this.store.heads();
        const stored = storedHeads.find((x) => x.author === h.author);
        if (stored !== undefined && stored.seq === h.seq) {
          out.push(h);
          continue;
        }
      }
      const a = this.feeds.appliedHead(h.author);
      const hash = a === undefined ? undefined : (a.hash ?? (await this.store.getEntry(h.author, a.seq))?.hash);
      if (a === undefined || hash === undefined) {
        // Not held (pruned, or below a head a light bootstrap stored, void or not): the state
        // cannot be rebuilt below the fork; it is the kept compaction's (marked unverified,
        // §6.1.4), so the feed's head there is what it still shows. (Nothing applied and nothing
        // bootstrapped: the state holds at most the placeholder, no head needed.)
        if (a === undefined && !isVoidSeq(this.feeds.storedHeadSeq(h.author))) continue;
        kept ??= (await this.store.loadCompaction())?.heads ?? [];
        const shown = kept.find((x) => x.author === h.author);
        if (shown !== undefined) out.push(shown);
        continue;
      }
      out.push({ author: h.author, seq: a.seq, hash: typeof hash === 'string' ? hash : toHex(hash) });
    }
    return out;
  }

  /**
   * Applies the placeholder (void.ts) of every void feed whose entries below the fork are all
   * applied here and whose clock space is not void yet. Idempotent; run after every ingest and
   * replay, so the state does not depend on when the fork became known.
   */
  private async applyVoids(state: LedgerState, feeds: FeedSet, stale?: ReadonlyMap<string, number>): Promise<void> {
    for (const [author, s] of feeds.voids()) {
      if (state.hasVoid(author) || stale?.has(author)) continue;
      const applied = feeds.appliedHead(author)?.seq ?? 0;
      if (applied < s - 1) continue; // the rest of its canonical part has not arrived yet
      // Entry s - 1: stored, pruned, or the canonical top of a bootstrapped void head (its light header).
      const prev =
        s === 1
          ? GENESIS_HEADER
          : ((await this.storedHeader(author, s - 1)) ?? (await this.bootstrappedTopHeader(author, s - 1, feeds)));
      if (prev === undefined) continue;
      state.applyVoid(author, prev.clock);
    }
  }

  /**
   * The header (lamport, Yjs clock) this light replica kept of `author`'s entry at `seq` when it
   * pruned it (pruned-headers.ts), or undefined. History fetched back from peers is checked
   * against it (history/feed-history.ts).
   */
  prunedHeader(author: string, seq: number): Promise<EntryHeader | undefined> {
    return this.prunedHeaders.get(author, seq);
  }

  /** Header of a stored entry, ignoring void marks; undefined if absent. */
  private async storedHeader(author: string, seq: number): Promise<EntryHeader | undefined> {
    const h = await this.store.getEntry(author, seq);
    if (h !== undefined) return { lamport: h.entry.lamport, clock: h.entry.clock };
    // A head bootstrapped from a light snapshot: its entry is not held, its header is.
    const base = (await this.store.getMeta(HEAD_HEADERS_META)) as HeadHeader[] | undefined;
    // Its header, or a bootstrapped void head's whose canonical top it is (entries above it may
    // have joined the feed since, void.ts).
    const x = base?.find((b) => b.author === author && (b.seq === seq || (isVoidSeq(b.seq) && b.top === seq)));
    if (x !== undefined) return { lamport: x.lamport, clock: x.clock };
    // An entry a light replica pruned: its header was kept.
    return this.prunedHeaders.get(author, seq);
  }

  /**
   * Open's replay: a new state and FeedSet from the store, every replayed entry verified
   * (`signatures: false`: hashes and links only, for rebuilds of a store this node verified).
   */
  private async replay(opts: RebuildOptions = {}): Promise<{ state: LedgerState; feeds: FeedSet }> {
    const r = await loadLedger({
      signatures: opts.signatures,
      ...(opts.preloaded !== undefined ? { preloaded: opts.preloaded } : {}),
      store: this.store,
      genesis: this.genesis,
      networkId: this.networkId,
      author: this.author,
      seed: this.keys.seed,
      now: this.now,
      feedOptions: this.feedOptions(),
      stamp: () => this.stamp,
      clock: () => this.clock
    });
    this.clock = Math.max(this.clock, r.lamport, r.state.lamport);
    this.lastCompactionAt = r.compaction?.at ?? null;
    this.sinceCompaction = r.applied + r.skipped.length;
    this.bytesSinceCompaction = 0; // not counted on replay: the entry count still bounds it
    this.compactedBytes = r.compaction?.state.length ?? 0;
    this.skipped = r.skipped.length;
    this.unverified = r.unverified !== undefined;
    try {
      // The placement rules ask the ledger's current FeedSet which clients are void.
      r.state.isVoidClient = (client) => this.feeds.isVoidClient(client);
      r.state.onOrderDivergence = () => this.orderRepair.mark();
      await this.resolveVoidTops(r.feeds);
      await this.applyVoids(r.state, r.feeds);
    } catch (e) {
      r.state.destroy();
      throw e;
    }
    return r;
  }

  /** Memory again from the store; success means memory equals the store, so `broken` is cleared. */
  private async rebuild(opts: RebuildOptions = {}): Promise<void> {
    const before = this.feeds?.head(this.author)?.seq ?? 0;
    const { state, feeds } = await this.replay(opts);
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
    // Recount what is held: a failed write may have stored part of what was counted.
    if (this.role === 'light') this.budget = await EntryBudget.load(this.store, this.budgetBytes, { own: this.author });
    this.broken = null;
  }

  /** After a failure: memory again from the store. If even that fails, refuse further work (broken). */
  private async rebuildAfterFailure(opts: RebuildOptions = {}): Promise<void> {
    try {
      await this.rebuild(opts);
    } catch (e) {
      this.broken = e;
    }
  }

  /** The FeedSet again from the stored heads and forks (pending entries are dropped). */
  private async resyncFeeds(): Promise<void> {
    try {
      const [heads, forks] = await Promise.all([this.store.heads(), this.store.forks()]);
      const booted = await bootstrappedVoids(this.store, heads, await readHeadHeaders(this.store));
      const voidTops = booted.map((b) => ({ author: b.head.author, ...b.top }));
      const recent = booted.flatMap((b) => b.recent);
      const feeds = FeedSet.fromHeads({ heads, forks, voidTops, recent }, this.feedOptions());
      await this.resolveVoidTops(feeds);
      this.feeds = feeds;
    } catch (e) {
      this.broken = e;
    }
  }
}

/** How a rebuild loads: `signatures` as in ReplayInput; `preloaded` as in LoadInput. */
interface RebuildOptions {
  signatures?: boolean;
  preloaded?: LoadedState;
}

/** Internal: a local write referenced items of a feed whose void rebuild is deferred (see commitGroup). */
class StaleVoidReferenceError extends LedgerError {
  constructor() {
    super(
      'StaleVoidReferenceError',
      'stale-void',
      "the change builds on other authors' items while a void rebuild waits"
    );
  }
}

function sameVoids(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** The durable head a signed entry makes. */
function headOfEntry(h: HashedEntry): FeedHead {
  return { author: toHex(h.entry.author), seq: h.entry.seq, hash: toHex(h.hash) };
}

function payloadBytes(list: readonly HashedEntry[]): number {
  return list.reduce((n, h) => n + h.entry.payload.length, 0);
}

function isWriteTag(tag: unknown): tag is string {
  return typeof tag === 'string' && tag.length > 0 && tag.length <= MAX_WRITE_TAG_LENGTH;
}
