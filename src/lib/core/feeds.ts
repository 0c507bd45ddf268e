// In-memory state machine of all authors' feeds: contiguous heads, out-of-order (pending)
// entries, duplicates, forks and broken chains. Pure and synchronous.
//
// Assumes every entry given to it has already passed verifyEntry (shape, size, network,
// signature, payload): FeedSet only judges how entries relate to each other.
//
// Light replicas: FeedSet keeps heads, a small window of recent entries per author and the
// pending ones, never whole feeds. After a restart seed it with the stored heads (and whatever
// recent entries are handy). An entry at or below the head that is outside the window yields
// `needs-lookup`: the caller compares it with its store and calls recordFork if they differ.
import type { FeedHead, ForkEvidence, HashedEntry } from './types.js';
import { BrokenChainError } from './errors.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import { forkSeqOf, isVoidSeq, voidHead, type VoidTop } from './void.js';
import { isCollision } from './collision.js';
import { clientIdOf } from './state/client-id.js';
import { makeRoom, type FairShareStore, type Share } from './fair-share.js';
import {
  MAX_PENDING_BYTES,
  MAX_PENDING_PER_AUTHOR,
  MAX_PENDING_TOTAL,
  PENDING_ENTRY_OVERHEAD_BYTES,
  HELD_DEP_BYTES,
  PENDING_MAX_AGE_MS,
  RECENT_ENTRIES_PER_AUTHOR
} from './constants.js';

export type DropReason = 'pending-full' | 'forked-branch';

/** Inclusive seq range of one author's feed that is needed to close a gap. */
export interface MissingRange {
  author: string;
  fromSeq: number;
  toSeq: number;
}

/** A pending entry that could not join the chain once its predecessor arrived. */
export interface RejectedPending {
  entry: HashedEntry;
  reason: 'broken-chain' | 'forked-branch';
}

export type FeedIngestResult =
  /** `entries`: the new entry and any pending ones it unblocked, in seq order. */
  | { kind: 'appended'; entries: HashedEntry[]; rejected: RejectedPending[] }
  /** Held until its predecessors arrive; `missing` is the author's first gap. */
  | { kind: 'pending'; missing: MissingRange }
  | { kind: 'duplicate' }
  /**
   * Same author and seq, different hash: the feed is void from there (void.ts). `entries`: held
   * entries of other feeds that waited for a dependency the void now covers, and what they
   * unblocked, in the order they joined their feeds.
   */
  | { kind: 'fork'; evidence: ForkEvidence; entries: HashedEntry[]; rejected: RejectedPending[] }
  | { kind: 'broken-chain'; error: BrokenChainError }
  | { kind: 'dropped'; reason: DropReason }
  /** At or below the head but outside the retained window: compare with the store. */
  | { kind: 'needs-lookup'; author: string; seq: number; knownHash?: string };

export interface FeedSetOptions {
  maxPendingPerAuthor?: number;
  maxPendingTotal?: number;
  /** Bytes of all pending entries together (heldEntryBytes each). */
  maxPendingBytes?: number;
  /** Pending entries received longer ago than this are evicted when the next entry arrives. */
  pendingMaxAgeMs?: number;
  recentPerAuthor?: number;
  /** Clock for ForkEvidence.detectedAt and pending receive times (injectable for tests). */
  now?: () => number;
  /**
   * When an entry was first held, if an earlier FeedSet held it (a rebuild or resync replaces the
   * FeedSet and the ledger holds its pending entries again): its age counts from then, so entries
   * carried over and over still leave after pendingMaxAgeMs. Undefined (or later than now): now.
   */
  heldSince?: (h: HashedEntry) => number | undefined;
}

export interface FeedSetSeed {
  heads: FeedHead[];
  /** Recent entries at or below their author's head (others are ignored). */
  recent?: HashedEntry[];
  /** Persisted fork evidence: restores the forked marks. */
  forks?: ForkEvidence[];
  /**
   * The canonical top (k, hash of entry k) of each void head in `heads` that a light snapshot or
   * a join bootstrapped: what its void head binds (void.ts): the light header's top, or the
   * highest canonical entry it took above it since (those entries are in `recent`, when given).
   */
  voidTops?: { author: string; seq: number; hash: string | undefined }[];
}

/** An out-of-order entry with what the pending bounds need: its cost and local receive time. */
interface Pending {
  h: HashedEntry;
  author: string;
  at: number;
  bytes: number;
}

interface Feed {
  seq: number; // contiguous head seq, 0 = empty
  hash: Uint8Array | undefined;
  recent: Map<number, HashedEntry>;
  pending: Map<number, Pending>;
  /**
   * A second variant of a pending seq (an equivocation seen before either variant could link):
   * both wait, and whichever links to the head joins the chain (the other goes off-chain).
   */
  alt: Map<number, Pending>;
  forked: boolean;
  /** Bytes of this author's pending and alt entries (as counted against maxPendingBytes). */
  pendingBytes: number;
  /** Hashes (hex) of entries known to be off the chain: fork variants and their descendants. */
  offChain: Set<string>;
  /** Lowest forked seq (void.ts): entries at or above it are never applied; undefined: not forked. */
  voidFrom: number | undefined;
  /**
   * The canonical top of a void feed when `seq` does not tell it (void.ts VoidTop): seeded for a
   * bootstrapped void head; for a head at or above the fork, entry s - 1 as the caller read it
   * from its store (`forS`: the fork seq it was resolved for).
   */
  top: { forS: number; seq: number; hash: Uint8Array | undefined } | undefined;
}

/** A feed as it was when a journal began (FeedSet.beginJournal). */
interface FeedBefore {
  head: FeedHead | undefined;
  applied: number;
  forked: boolean;
  voidFrom: number | undefined;
  top: VoidTop | undefined;
}

export class FeedSet {
  private readonly feeds = new Map<string, Feed>();
  private readonly evidence: ForkEvidence[] = [];
  /** Yjs clientIDs of the void feeds (void.ts), for the placement rules. */
  private readonly voidClientIds = new Set<number>();
  /** clientID → authors with a feed here (collision.ts: two keys of one clientID void both). */
  private readonly byClient = new Map<number, Set<string>>();
  /** "author:seq" of every fork on record. */
  private readonly evidenceKeys = new Set<string>();
  private pendingTotal = 0;
  private pendingBytes = 0;
  /** Pending entries evicted to make room for another author's (fair share), since start. */
  private evicted = 0;
  /** Every pending entry in arrival order, so the oldest are found first (see `oldestUnordered`). */
  private readonly pendingOrder = new Set<Pending>();
  /** Latest receive time held so far; an entry held with an earlier one (heldSince) is out of order. */
  private newestAt = -Infinity;
  /**
   * Earliest receive time held out of order since the last sort (Infinity: none). evictExpired
   * sorts pendingOrder only once that time has expired: before, the scan's early stop is still
   * right, and a carry of N entries behind a newer one costs no N sorts (found by review).
   */
  private oldestUnordered = Infinity;
  /** Authors whose next entry (head + 1) is held only because a causal dependency is missing. */
  private readonly blocked = new Set<string>();
  private readonly maxPendingPerAuthor: number;
  private readonly maxPendingTotal: number;
  private readonly maxPendingBytes: number;
  private readonly pendingMaxAgeMs: number;
  private readonly recentPerAuthor: number;
  private readonly now: () => number;
  private readonly heldSince: ((h: HashedEntry) => number | undefined) | undefined;

  /**
   * While a journal runs (beginJournal), each feed's head, applied count, forked flag, void seq
   * and void top as they were before its first change since; null otherwise. O(1) to start, O(1) per changed feed:
   * a copy of every head per ingest batch cost ~60-80 ms at 10,000 feeds.
   */
  private journal: Map<string, FeedBefore> | null = null;
  private journalPending = 0;
  private journalPendingBytes = 0;
  /** evidence.length at beginJournal: evidence is only ever appended. */
  private journalEvidence = 0;

  constructor(opts: FeedSetOptions = {}) {
    this.maxPendingPerAuthor = opts.maxPendingPerAuthor ?? MAX_PENDING_PER_AUTHOR;
    this.maxPendingTotal = opts.maxPendingTotal ?? MAX_PENDING_TOTAL;
    this.maxPendingBytes = opts.maxPendingBytes ?? MAX_PENDING_BYTES;
    this.pendingMaxAgeMs = opts.pendingMaxAgeMs ?? PENDING_MAX_AGE_MS;
    this.recentPerAuthor = Math.max(1, opts.recentPerAuthor ?? RECENT_ENTRIES_PER_AUTHOR);
    this.now = opts.now ?? Date.now;
    this.heldSince = opts.heldSince;
  }

  /** Rebuilds from persisted heads without loading whole feeds. */
  static fromHeads(seed: FeedSetSeed, opts: FeedSetOptions = {}): FeedSet {
    const set = new FeedSet(opts);
    for (const h of seed.heads) {
      const f = set.feed(h.author);
      f.seq = h.seq;
      f.hash = fromHex(h.hash);
      // A void head bootstrapped from a light snapshot or a join (no evidence held): void all the same.
      if (isVoidSeq(h.seq)) {
        f.forked = true;
        f.voidFrom = forkSeqOf(h.seq);
        set.voidClientIds.add(clientIdOf(h.author));
        const t = seed.voidTops?.find((x) => x.author === h.author);
        if (t !== undefined)
          f.top = { forS: f.voidFrom, seq: t.seq, hash: t.hash === undefined ? undefined : fromHex(t.hash) };
      }
    }
    const recent = [...(seed.recent ?? [])].sort((a, b) => a.entry.seq - b.entry.seq);
    for (const r of recent) {
      const f = set.feeds.get(toHex(r.entry.author));
      if (!f || r.entry.seq > f.seq) continue;
      if (r.entry.seq === f.seq && !bytesEqual(r.hash, f.hash!)) continue;
      set.remember(f, r);
    }
    for (const ev of seed.forks ?? []) {
      const f = set.feed(ev.author);
      f.forked = true;
      f.voidFrom = Math.min(f.voidFrom ?? ev.seq, ev.seq);
      set.voidClientIds.add(clientIdOf(ev.author));
      if (!isCollision(ev)) f.offChain.add(toHex(ev.b.hash));
      set.evidence.push(ev);
      set.evidenceKeys.add(`${ev.author}:${ev.seq}`);
    }
    return set;
  }

  ingest(h: HashedEntry): FeedIngestResult {
    this.evictExpired();
    const author = toHex(h.entry.author);
    // Not registered yet: an entry that is dropped or refused must not leave an empty feed behind.
    const f = this.feeds.get(author) ?? newFeed();
    const seq = h.entry.seq;
    const hex = toHex(h.hash);
    if (f.offChain.has(hex)) return { kind: 'duplicate' };
    // A void feed (void.ts) takes nothing at or above its fork: the evidence is on record.
    if (f.voidFrom !== undefined && seq >= f.voidFrom) return { kind: 'dropped', reason: 'forked-branch' };

    // Below the tip: the contiguous head, or a bootstrapped void feed's canonical top (void.ts),
    // above which it still takes the canonical entries up to its fork, in order.
    const next = this.nextSeq(f);
    if (seq < next) return this.belowHead(f, author, h, hex);

    const held = f.pending.get(seq)?.h;
    const alt = f.alt.get(seq)?.h;
    if ((held && bytesEqual(held.hash, h.hash)) || (alt && bytesEqual(alt.hash, h.hash))) return { kind: 'duplicate' };

    if (seq === next && held === undefined) {
      const link = this.linkTo(f, h);
      if (link !== 'ok') return this.rejectLink(f, h, hex, link);
      if (!this.depsReady(h)) return this.hold(f, author, h, f.pending);
      this.track(author, f);
      this.append(f, h);
      const entries = [h];
      const rejected = this.drain(f, entries);
      this.wake(entries, rejected);
      return { kind: 'appended', entries, rejected };
    }

    if (held) {
      // One piece of evidence per (author, seq): further variants are dropped, not stored.
      if (this.hasEvidence(author, seq)) {
        f.offChain.add(hex);
        return { kind: 'dropped', reason: 'forked-branch' };
      }
      // Neither variant is on the chain yet: the fork voids the feed from here (both go).
      return this.forkResult(this.fork(f, author, held, h));
    }
    if (f.forked && f.offChain.has(toHex(h.entry.prev))) {
      f.offChain.add(hex);
      return { kind: 'dropped', reason: 'forked-branch' };
    }
    return this.hold(f, author, h, f.pending);
  }

  /** Holds `h` in `into` (pending or alt) within the bounds; reports what it waits for. */
  private hold(f: Feed, author: string, h: HashedEntry, into: Map<number, Pending>): FeedIngestResult {
    const bytes = heldEntryBytes(h);
    if (
      f.pending.size + f.alt.size >= this.maxPendingPerAuthor ||
      !makeRoom(this.pendingStore, author, pendingShare(f), bytes)
    )
      return { kind: 'dropped', reason: 'pending-full' };
    const p: Pending = { h, author, at: this.receivedAt(h), bytes };
    this.track(author, f);
    into.set(h.entry.seq, p);
    this.pendingOrder.add(p);
    if (p.at < this.newestAt) this.oldestUnordered = Math.min(this.oldestUnordered, p.at);
    else this.newestAt = p.at;
    this.pendingTotal++;
    this.pendingBytes += bytes;
    f.pendingBytes += bytes;
    if (h.entry.seq === this.nextSeq(f)) this.blocked.add(author);
    return { kind: 'pending', missing: this.firstGap(author) ?? this.missingDeps(h)[0] };
  }

  /** Now, or when an earlier FeedSet first held `h` (heldSince), whichever is earlier. */
  private receivedAt(h: HashedEntry): number {
    const now = this.now();
    const since = this.heldSince?.(h);
    return since !== undefined && since < now ? since : now;
  }

  /**
   * The shared pending budget as the fair share sees it (fair-share.ts): each feed's pending and alt
   * entries; when one more entry would not fit, the author holding the most gives up its highest
   * seq, as long as it holds more than the newcomer's author would. A flood from a few keys only
   * ever evicts itself.
   */
  private readonly pendingStore: FairShareStore = {
    fits: (bytes) => this.pendingTotal < this.maxPendingTotal && this.pendingBytes + bytes <= this.maxPendingBytes,
    shares: () => pendingShares(this.feeds),
    evict: (author) => {
      const f = this.feeds.get(author)!;
      this.unpend(f, highestPending(f));
      this.evicted++;
      if (isEmpty(f)) this.untrack(author);
    }
  };

  /** True when every causal dependency of `h` is within its author's contiguous head here. */
  private depsReady(h: HashedEntry): boolean {
    for (const d of h.entry.deps) if (!this.depPresent(d.author, d.seq)) return false;
    return true;
  }

  /**
   * A dependency is present when its feed holds it contiguously; in a void feed, at or above the
   * fork, when the feed holds everything below the fork (the placeholder covers the rest).
   */
  private depPresent(author: string, seq: number): boolean {
    return this.heldSeq(author) >= this.depNeeds(author, seq);
  }

  /** The contiguous seq held of `author` (a bootstrapped void head: its canonical top, void.ts). */
  private heldSeq(author: string): number {
    const f = this.feeds.get(author);
    if (f === undefined) return 0;
    return isVoidSeq(f.seq) ? this.topOf(f).seq : f.seq;
  }

  /** The contiguous seq a dependency on `author`:`seq` needs (void.ts: capped below the fork). */
  private depNeeds(author: string, seq: number): number {
    const v = this.feeds.get(author)?.voidFrom;
    return v !== undefined && seq >= v ? v - 1 : seq;
  }

  /** The ranges of other feeds that `h` waits for. */
  private missingDeps(h: HashedEntry): MissingRange[] {
    const out: MissingRange[] = [];
    for (const d of h.entry.deps) {
      if (this.depPresent(d.author, d.seq)) continue;
      const have = this.heldSeq(d.author);
      out.push({ author: d.author, fromSeq: have + 1, toSeq: this.depNeeds(d.author, d.seq) });
    }
    return out;
  }

  /**
   * After appends: entries of other authors that waited only for these appends (their deps) join
   * their feeds now, with whatever follows them, until nothing more can move.
   */
  private wake(appended: HashedEntry[], rejected: RejectedPending[]): void {
    let progress = true;
    while (progress && this.blocked.size > 0) {
      progress = false;
      for (const author of [...this.blocked].sort()) {
        const f = this.feeds.get(author);
        const next = f ? this.pickNext(f) : undefined;
        if (!f || next === undefined) {
          this.blocked.delete(author);
          continue;
        }
        if (!this.depsReady(next.h)) continue;
        this.blocked.delete(author);
        const before = appended.length;
        rejected.push(...this.drain(f, appended));
        progress ||= appended.length > before;
      }
    }
  }

  /**
   * Drops pending entries received more than pendingMaxAgeMs ago (their gap was never filled)
   * and the feeds left with nothing. Runs on every ingest; returns how many were dropped.
   */
  evictExpired(): number {
    if (this.pendingTotal === 0) return 0;
    const cutoff = this.now() - this.pendingMaxAgeMs;
    let evicted = 0;
    if (this.oldestUnordered <= cutoff) this.sortPending();
    // Arrival order is receive-time order (for a clock that does not run backwards).
    for (const p of this.pendingOrder) {
      if (p.at > cutoff) break;
      const f = this.feeds.get(p.author)!;
      this.unpend(f, p);
      if (isEmpty(f)) this.untrack(p.author);
      evicted++;
    }
    return evicted;
  }

  /** Puts pendingOrder back in receive-time order (stable: equal times keep their arrival order). */
  private sortPending(): void {
    const sorted = [...this.pendingOrder].sort((a, b) => a.at - b.at);
    this.pendingOrder.clear();
    for (const p of sorted) this.pendingOrder.add(p);
    this.oldestUnordered = Infinity;
  }

  /** Records a fork found by the caller (e.g. after `needs-lookup`): `a` is the stored entry. */
  /** True when fork evidence for this (author, seq) is already on record: one piece is enough. */
  hasEvidence(author: string, seq: number): boolean {
    return this.evidenceKeys.has(`${author}:${seq}`);
  }

  recordFork(a: HashedEntry, b: HashedEntry): Extract<FeedIngestResult, { kind: 'fork' }> {
    const author = toHex(a.entry.author);
    return this.forkResult(this.fork(this.feed(author), author, a, b));
  }

  /** A fork's result: the entries the new void released (their dependencies are now covered). */
  private forkResult(evidence: ForkEvidence): Extract<FeedIngestResult, { kind: 'fork' }> {
    return { kind: 'fork', evidence, ...this.release() };
  }

  /** After a new void: held entries whose dependencies it covers join their feeds. */
  private release(): { entries: HashedEntry[]; rejected: RejectedPending[] } {
    const entries: HashedEntry[] = [];
    const rejected: RejectedPending[] = [];
    for (const [author, f] of this.feeds) if (f.pending.size > 0 && this.pickNext(f)) this.blocked.add(author);
    this.wake(entries, rejected);
    return { entries, rejected };
  }

  heads(): FeedHead[] {
    const out: FeedHead[] = [];
    for (const author of [...this.feeds.keys()].sort()) {
      const h = this.head(author);
      if (h) out.push(h);
    }
    return out;
  }

  /**
   * The feed's head as sync compares it: the void head once the feed is forked, bound to the
   * canonical top held here (void.ts).
   */
  head(author: string): FeedHead | undefined {
    const f = this.feeds.get(author);
    if (f?.voidFrom !== undefined) return voidHead(author, f.voidFrom, this.topOf(f));
    if (!f || f.seq === 0 || !f.hash) return undefined;
    return { author, seq: f.seq, hash: toHex(f.hash) };
  }

  /** The canonical top (k, hash of entry k) of a void feed held here (void.ts); undefined when not void. */
  voidTop(author: string): VoidTop | undefined {
    const f = this.feeds.get(author);
    return f?.voidFrom === undefined ? undefined : this.topOf(f);
  }

  private topOf(f: Feed): VoidTop {
    const s = f.voidFrom!;
    const none: VoidTop = { seq: 0, hash: undefined };
    const hex = (h: Uint8Array | undefined) => (h === undefined ? undefined : toHex(h));
    if (!isVoidSeq(f.seq) && f.seq < s) return f.seq === 0 ? none : { seq: f.seq, hash: hex(f.hash) };
    if (isVoidSeq(f.seq)) {
      if (f.top !== undefined && f.top.seq < s) return { seq: f.top.seq, hash: hex(f.top.hash) };
      // A lower fork at or below the top it caught up to: entry s - 1 when held here (else the
      // caller resolves it, voidTopsToResolve).
      const r = s === 1 ? undefined : f.recent.get(s - 1);
      return r === undefined ? none : { seq: s - 1, hash: toHex(r.hash) };
    }
    if (s === 1) return none;
    const r = f.recent.get(s - 1);
    if (r !== undefined) return { seq: s - 1, hash: toHex(r.hash) };
    if (f.top?.forS === s) return { seq: f.top.seq, hash: hex(f.top.hash) };
    let best: HashedEntry | undefined; // not resolved yet: the highest held below the fork
    for (const [q, e] of f.recent) if (q < s && (best === undefined || q > best.entry.seq)) best = e;
    return best === undefined ? none : { seq: best.entry.seq, hash: toHex(best.hash) };
  }

  /**
   * Void feeds whose head is at or above their fork and whose entry s - 1 is not in memory: the
   * caller reads it from its store and calls setVoidTop (until then their void head binds the
   * highest entry below the fork in the recent window).
   */
  voidTopsToResolve(): { author: string; s: number }[] {
    const out: { author: string; s: number }[] = [];
    for (const [author, f] of this.feeds) {
      const s = f.voidFrom;
      if (s === undefined || s === 1 || f.recent.has(s - 1)) continue;
      // A bootstrapped void head whose canonical top reached a lower fork found since.
      if (isVoidSeq(f.seq) ? f.top !== undefined && f.top.seq >= s : f.seq >= s && f.top?.forS !== s)
        out.push({ author, s });
    }
    return out;
  }

  /** The canonical top of `author`'s void feed at fork `s` as read from the store (see voidTopsToResolve). */
  setVoidTop(author: string, s: number, top: VoidTop): void {
    const f = this.feeds.get(author);
    if (f === undefined || f.voidFrom !== s || top.seq >= s) return;
    this.note(author);
    f.top = { forS: s, seq: top.seq, hash: top.hash === undefined ? undefined : fromHex(top.hash) };
  }

  /**
   * The last entry of `author` that is applied to the state: the contiguous head, below the fork
   * for a void feed. `hash` is undefined when that entry is below the head and out of the recent
   * window (the caller reads it from the store).
   */
  appliedHead(author: string): { seq: number; hash: string | undefined } | undefined {
    const f = this.feeds.get(author);
    if (!f || f.seq === 0 || !f.hash) return undefined;
    if (f.voidFrom === undefined || f.seq < f.voidFrom) return { seq: f.seq, hash: toHex(f.hash) };
    if (isVoidSeq(f.seq)) {
      // Bootstrapped (void.ts): the state holds the canonical part up to its top.
      const top = this.topOf(f);
      return top.seq === 0 ? undefined : { seq: top.seq, hash: top.hash };
    }
    const seq = f.voidFrom - 1;
    if (seq === 0) return undefined;
    const r = f.recent.get(seq);
    return { seq, hash: r ? toHex(r.hash) : undefined };
  }

  /** Lowest forked seq of `author` (its feed is void from there), or undefined. */
  voidFrom(author: string): number | undefined {
    return this.feeds.get(author)?.voidFrom;
  }

  /** True when `client` is the Yjs clientID of a void feed. */
  isVoidClient(client: number): boolean {
    return this.voidClientIds.has(client);
  }

  /** Every void feed: author → lowest forked seq. */
  voids(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [a, f] of this.feeds) if (f.voidFrom !== undefined) out.set(a, f.voidFrom);
    return out;
  }

  /** Entries the heads cover (sum of head seqs; a void feed: its canonical top k, void.ts). */
  appliedCount(): number {
    let n = 0;
    for (const f of this.feeds.values()) n += this.appliedOf(f);
    return n;
  }

  private appliedOf(f: Feed): number {
    return f.voidFrom === undefined ? f.seq : this.topOf(f).seq;
  }

  /**
   * Starts a journal: from now on each feed's head, applied count and forked flag are noted
   * before its first change, so the `before*` reads below give the FeedSet as it is now (the
   * Ledger shows them while an ingest batch it planned here is not applied yet). endJournal stops it.
   */
  beginJournal(): void {
    if (this.journal !== null) throw new Error('FeedSet: a journal is running already');
    this.journal = new Map();
    this.journalPending = this.pendingTotal;
    this.journalPendingBytes = this.pendingBytes;
    this.journalEvidence = this.evidence.length;
  }

  endJournal(): void {
    this.journal = null;
  }

  private note(author: string): void {
    const j = this.journal;
    if (j === null || j.has(author)) return;
    const f = this.feeds.get(author);
    j.set(author, {
      head: this.head(author),
      applied: f ? this.appliedOf(f) : 0,
      forked: f?.forked ?? false,
      voidFrom: f?.voidFrom,
      top: f?.voidFrom === undefined ? undefined : this.topOf(f)
    });
  }

  /** voidFrom(author) as at beginJournal. */
  voidFromBefore(author: string): number | undefined {
    const b = this.journal?.get(author);
    return b === undefined ? this.voidFrom(author) : b.voidFrom;
  }

  /** voidTop(author) as at beginJournal. */
  voidTopBefore(author: string): VoidTop | undefined {
    const b = this.journal?.get(author);
    return b === undefined ? this.voidTop(author) : b.top;
  }

  /** isForked(author) as at beginJournal. */
  isForkedBefore(author: string): boolean {
    const b = this.journal?.get(author);
    return b === undefined ? this.isForked(author) : b.forked;
  }

  /** forks() as at beginJournal. */
  forksBefore(): ForkEvidence[] {
    return this.journal === null ? this.forks() : this.evidence.slice(0, this.journalEvidence);
  }

  /** pendingByteCount() as at beginJournal. */
  pendingBytesBefore(): number {
    return this.journal === null ? this.pendingBytes : this.journalPendingBytes;
  }

  /** heads() as at beginJournal (heads() when no journal runs). */
  headsBefore(): FeedHead[] {
    const j = this.journal;
    if (j === null || j.size === 0) return this.heads();
    const out = this.heads().filter((h) => !j.has(h.author));
    for (const b of j.values()) if (b.head !== undefined) out.push(b.head);
    return out.sort((x, y) => (x.author < y.author ? -1 : x.author > y.author ? 1 : 0));
  }

  /** head(author) as at beginJournal. */
  headBefore(author: string): FeedHead | undefined {
    const b = this.journal?.get(author);
    return b === undefined ? this.head(author) : b.head;
  }

  /** appliedCount(), pendingCount() and forkedAuthors().length as at beginJournal. */
  countsBefore(): { entries: number; pending: number; forkedAuthors: number } {
    let entries = this.appliedCount();
    let forkedAuthors = 0;
    for (const f of this.feeds.values()) if (f.forked) forkedAuthors++;
    const j = this.journal;
    if (j === null) return { entries, pending: this.pendingTotal, forkedAuthors };
    for (const [author, b] of j) {
      const f = this.feeds.get(author);
      entries += b.applied - (f ? this.appliedOf(f) : 0);
      forkedAuthors += (b.forked ? 1 : 0) - (f?.forked === true ? 1 : 0);
    }
    return { entries, pending: this.journalPending, forkedAuthors };
  }

  /** A contiguous entry of `author` still in the recent window, if any. */
  recentEntry(author: string, seq: number): HashedEntry | undefined {
    return this.feeds.get(author)?.recent.get(seq);
  }

  isForked(author: string): boolean {
    return this.feeds.get(author)?.forked ?? false;
  }

  forks(): ForkEvidence[] {
    return [...this.evidence];
  }

  pendingCount(author?: string): number {
    if (author === undefined) return this.pendingTotal;
    const f = this.feeds.get(author);
    return f ? f.pending.size + f.alt.size : 0;
  }

  /** True when `h` itself (this object) is held here, pending or as a second variant. */
  isPending(h: HashedEntry): boolean {
    const f = this.feeds.get(toHex(h.entry.author));
    const seq = h.entry.seq;
    return f !== undefined && (f.pending.get(seq)?.h === h || f.alt.get(seq)?.h === h);
  }

  /** Every held entry (pending and alternative variants), in the order they were held. */
  pendingEntries(): HashedEntry[] {
    return [...this.pendingOrder].map((p) => p.h);
  }

  /** Every held entry with its receive time (ms, this FeedSet's clock), in the order they were held. */
  pendingWithTimes(): Array<{ h: HashedEntry; at: number }> {
    return [...this.pendingOrder].map((p) => ({ h: p.h, at: p.at }));
  }

  /** What the pending entries count against maxPendingBytes. */
  pendingByteCount(): number {
    return this.pendingBytes;
  }

  /** Pending entries evicted so far to give another author its fair share of the budget. */
  pendingEvictedCount(): number {
    return this.evicted;
  }

  /** Authors with any state held (head, pending entries or fork marks). */
  trackedAuthors(): number {
    return this.feeds.size;
  }

  /** Every gap below pending entries, per author, in author then seq order. */
  missing(author?: string): MissingRange[] {
    const authors = author === undefined ? [...this.feeds.keys()].sort() : [author];
    const out: MissingRange[] = [];
    for (const a of authors) {
      const f = this.feeds.get(a);
      if (!f || f.pending.size === 0) continue;
      let last = this.nextSeq(f) - 1;
      for (const s of [...f.pending.keys()].sort((x, y) => x - y)) {
        if (f.voidFrom !== undefined && s >= f.voidFrom) break;
        if (s > last + 1) out.push({ author: a, fromSeq: last + 1, toSeq: s - 1 });
        last = s;
      }
      const next = this.pickNext(f);
      if (next) out.push(...this.missingDeps(next.h));
    }
    return out;
  }

  /** Authors marked forked, whether or not they have a contiguous head here. */
  forkedAuthors(): string[] {
    return [...this.feeds]
      .filter(([, f]) => f.forked)
      .map(([a]) => a)
      .sort();
  }

  private feed(author: string): Feed {
    this.note(author); // every change to a feed goes through here first (or append, fork, untrack)
    let f = this.feeds.get(author);
    if (!f) {
      f = newFeed();
      this.track(author, f);
    }
    return f;
  }

  /** Registers `author`'s feed (and its clientID, for collisions). */
  private track(author: string, f: Feed): void {
    if (this.feeds.get(author) === f) return;
    this.feeds.set(author, f);
    const client = clientIdOf(author);
    const set = this.byClient.get(client) ?? new Set<string>();
    set.add(author);
    this.byClient.set(client, set);
  }

  private untrack(author: string): void {
    this.note(author);
    this.feeds.delete(author);
    const client = clientIdOf(author);
    const set = this.byClient.get(client);
    set?.delete(author);
    if (set?.size === 0) this.byClient.delete(client);
  }

  /**
   * Other authors with a feed here whose key gives the same Yjs clientID as `author`'s
   * (collision.ts), in key order.
   */
  rivalsOf(author: string): string[] {
    const set = this.byClient.get(clientIdOf(author));
    if (set === undefined) return [];
    return [...set].filter((a) => a !== author).sort();
  }

  /**
   * A signed entry of `author` held in memory (recent window, pending, or fork evidence), as the
   * witness of a clientID collision; undefined when none is (the caller may read its store at
   * `storedHeadSeq`).
   */
  witnessOf(author: string): HashedEntry | undefined {
    const f = this.feeds.get(author);
    if (f === undefined) return undefined;
    for (const h of f.recent.values()) return h;
    for (const m of [f.pending, f.alt]) for (const p of m.values()) return p.h;
    return this.evidence.find((ev) => ev.author === author)?.a;
  }

  /** The contiguous head seq of `author` here (0: none): an entry its store holds. */
  storedHeadSeq(author: string): number {
    return this.feeds.get(author)?.seq ?? 0;
  }

  /**
   * Records a clientID collision (collision.ts): `a` and `b` are signed entries of two keys with
   * one clientID. Both feeds are void from seq 1; one piece of evidence per author that has none
   * at seq 1 yet. Returns the new evidence and the held entries the voids released.
   */
  recordCollision(
    a: HashedEntry,
    b: HashedEntry
  ): { evidence: ForkEvidence[]; entries: HashedEntry[]; rejected: RejectedPending[] } {
    const evidence: ForkEvidence[] = [];
    for (const [x, y] of [
      [a, b],
      [b, a]
    ]) {
      const author = toHex(x.entry.author);
      if (this.hasEvidence(author, 1)) continue;
      const f = this.feed(author);
      f.forked = true;
      f.voidFrom = 1;
      this.voidClientIds.add(clientIdOf(author));
      this.dropVoided(f);
      this.evidenceKeys.add(`${author}:1`);
      const ev: ForkEvidence = { author, seq: 1, a: x, b: y, detectedAt: this.now() };
      this.evidence.push(ev);
      evidence.push(ev);
    }
    return { evidence, ...this.release() };
  }

  private unpend(f: Feed, p: Pending): void {
    const seq = p.h.entry.seq;
    if (f.pending.get(seq) === p) f.pending.delete(seq);
    else if (f.alt.get(seq) === p) f.alt.delete(seq);
    else return;
    this.pendingOrder.delete(p);
    this.pendingTotal--;
    this.pendingBytes -= p.bytes;
    f.pendingBytes -= p.bytes;
  }

  private belowHead(f: Feed, author: string, h: HashedEntry, hex: string): FeedIngestResult {
    const seq = h.entry.seq;
    // A descendant of a known fork variant: the fork is already on record, no new evidence.
    if (f.forked && f.offChain.has(toHex(h.entry.prev))) {
      f.offChain.add(hex);
      return { kind: 'dropped', reason: 'forked-branch' };
    }
    const known = f.recent.get(seq);
    if (known) {
      if (bytesEqual(known.hash, h.hash)) return { kind: 'duplicate' };
      if (this.hasEvidence(author, seq)) {
        f.offChain.add(hex);
        return { kind: 'dropped', reason: 'forked-branch' };
      }
      return this.forkResult(this.fork(f, author, known, h));
    }
    if (seq === f.seq && f.hash && bytesEqual(f.hash, h.hash)) return { kind: 'duplicate' };
    const knownHash = seq === f.seq && f.hash ? toHex(f.hash) : undefined;
    return { kind: 'needs-lookup', author, seq, ...(knownHash ? { knownHash } : {}) };
  }

  /**
   * The seq a feed takes next: head + 1; for a void head that a light snapshot or a join
   * bootstrapped (no entries below it held), its canonical top k + 1 (void.ts: it still takes the
   * canonical entries k + 1 .. s - 1, each linking to the one before, from the header's topHash).
   */
  private nextSeq(f: Feed): number {
    if (!isVoidSeq(f.seq)) return f.seq + 1;
    // A lower fork at or below the top, not resolved yet (voidTopsToResolve): nothing moves.
    if (f.top !== undefined && f.top.seq >= f.voidFrom! && !f.recent.has(f.voidFrom! - 1)) return f.voidFrom!;
    return this.topOf(f).seq + 1;
  }

  /**
   * Hash of the entry the next one must link to (nextSeq - 1); undefined when that is seq 0,
   * null when it is not known (nothing links then).
   */
  private tipHash(f: Feed): Uint8Array | undefined | null {
    if (!isVoidSeq(f.seq)) return f.seq === 0 ? undefined : (f.hash ?? null);
    const top = this.topOf(f);
    if (top.seq === 0) return undefined;
    return top.hash === undefined ? null : fromHex(top.hash);
  }

  /** 'ok', or why `h` (at nextSeq) cannot follow the head. */
  private linkTo(f: Feed, h: HashedEntry): 'ok' | 'broken-chain' | 'forked-branch' {
    const tip = this.tipHash(f);
    if (tip === undefined || (tip !== null && bytesEqual(h.entry.prev, tip))) return 'ok';
    return f.forked && f.offChain.has(toHex(h.entry.prev)) ? 'forked-branch' : 'broken-chain';
  }

  private rejectLink(f: Feed, h: HashedEntry, hex: string, why: 'broken-chain' | 'forked-branch'): FeedIngestResult {
    if (why === 'forked-branch') {
      f.offChain.add(hex);
      return { kind: 'dropped', reason: 'forked-branch' };
    }
    const error = new BrokenChainError(
      `seq ${h.entry.seq} of ${toHex(h.entry.author).slice(0, 16)}… does not link to the stored seq ${this.nextSeq(f) - 1}`
    );
    return { kind: 'broken-chain', error };
  }

  private append(f: Feed, h: HashedEntry): void {
    if (this.journal !== null) this.note(toHex(h.entry.author));
    if (isVoidSeq(f.seq)) {
      // A bootstrapped void feed: its void head stays, its canonical top moves (void.ts).
      f.top = { forS: f.voidFrom!, seq: h.entry.seq, hash: h.hash };
    } else {
      f.seq = h.entry.seq;
      f.hash = h.hash;
    }
    this.remember(f, h);
  }

  private remember(f: Feed, h: HashedEntry): void {
    f.recent.set(h.entry.seq, h);
    const oldest = h.entry.seq - this.recentPerAuthor;
    for (const s of f.recent.keys()) if (s <= oldest) f.recent.delete(s);
  }

  /** Appends the pending entries that now follow the head, until a gap or a bad link. */
  private drain(f: Feed, appended: HashedEntry[]): RejectedPending[] {
    const rejected: RejectedPending[] = [];
    for (let p = this.pickNext(f); p; p = this.pickNext(f)) {
      const next = p.h;
      const link = this.linkTo(f, next);
      if (link === 'ok' && !this.depsReady(next)) {
        this.blocked.add(p.author);
        break;
      }
      this.unpend(f, p);
      const other = f.alt.get(next.entry.seq) ?? f.pending.get(next.entry.seq);
      if (other) {
        // The variant that did not link is off the chain (its fork evidence is on record).
        this.unpend(f, other);
        f.offChain.add(toHex(other.h.hash));
      }
      if (link !== 'ok') {
        if (link === 'forked-branch') f.offChain.add(toHex(next.hash));
        rejected.push({ entry: next, reason: link });
        break;
      }
      this.append(f, next);
      appended.push(next);
    }
    return rejected;
  }

  /** The held entry at head + 1: the variant that links when there are two. */
  private pickNext(f: Feed): Pending | undefined {
    const seq = this.nextSeq(f);
    const p = f.pending.get(seq);
    const q = f.alt.get(seq);
    if (!q) return p;
    if (!p) return q;
    return this.linkTo(f, q.h) === 'ok' && this.linkTo(f, p.h) !== 'ok' ? q : p;
  }

  private fork(f: Feed, author: string, a: HashedEntry, b: HashedEntry, bOffChain = true): ForkEvidence {
    this.note(author);
    f.forked = true;
    f.voidFrom = Math.min(f.voidFrom ?? a.entry.seq, a.entry.seq);
    this.voidClientIds.add(clientIdOf(author));
    this.dropVoided(f);
    this.evidenceKeys.add(`${author}:${a.entry.seq}`);
    if (bOffChain) f.offChain.add(toHex(b.hash));
    const ev: ForkEvidence = { author, seq: a.entry.seq, a, b, detectedAt: this.now() };
    this.evidence.push(ev);
    return ev;
  }

  /** Forgets the pending entries of a void feed at or above its fork (they will never apply). */
  private dropVoided(f: Feed): void {
    for (const m of [f.pending, f.alt])
      for (const p of [...m.values()]) if (p.h.entry.seq >= f.voidFrom!) this.unpend(f, p);
  }

  /** The author's first gap below its pending entries, if any. */
  private firstGap(author: string): MissingRange | undefined {
    return this.missing(author)[0];
  }
}

function newFeed(): Feed {
  return {
    seq: 0,
    hash: undefined,
    recent: new Map(),
    pending: new Map(),
    alt: new Map(),
    forked: false,
    pendingBytes: 0,
    offChain: new Set(),
    voidFrom: undefined,
    top: undefined
  };
}

/** The pending (or alt) entry of `f` with the highest seq: the one furthest from joining. */
function highestPending(f: Feed): Pending {
  let top: Pending | undefined;
  for (const m of [f.pending, f.alt]) for (const p of m.values()) if (!top || p.h.entry.seq > top.h.entry.seq) top = p;
  return top!;
}

/** What `f` holds in the pending buffer (fair-share.ts). */
function pendingShare(f: Feed): Share {
  return { bytes: f.pendingBytes, count: f.pending.size + f.alt.size };
}

function* pendingShares(feeds: Map<string, Feed>): Iterable<readonly [string, Share]> {
  for (const [author, f] of feeds) yield [author, pendingShare(f)];
}

function isEmpty(f: Feed): boolean {
  return (
    f.seq === 0 &&
    f.pending.size === 0 &&
    f.alt.size === 0 &&
    f.recent.size === 0 &&
    !f.forked &&
    f.offChain.size === 0 &&
    f.voidFrom === undefined
  );
}

/**
 * What a held entry (pending, or remembered as a refused variant) is counted as, bytes: its
 * payload, PENDING_ENTRY_OVERHEAD_BYTES for the fixed fields and bookkeeping, and HELD_DEP_BYTES per
 * dependency; at least its encoded size.
 */
export function heldEntryBytes(h: HashedEntry): number {
  return h.entry.payload.byteLength + PENDING_ENTRY_OVERHEAD_BYTES + h.entry.deps.length * HELD_DEP_BYTES;
}
