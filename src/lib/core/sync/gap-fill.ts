// Gap-fill scheduler: which missing entry ranges to ask which peer for, and when. A transport-free
// state machine (clock and randomness injected): learn() what peers hold, next() the requests to
// send now, settle() each answer (or fail() it), tick() for timeouts.
//
// Rules (SPEC §5, issue 7):
// - Targets: per author, the highest seq each peer claims to hold (its "holders"). A target is
//   only dropped once the local head reaches what its holders claim, so nothing missing is
//   forgotten while a peer claims it (a later exchange finds anything else again). Fork evidence
//   (same seq, different hash) is fetched once per (author, seq).
// - Claims are not trusted. A peer that answers "nothing" for a claim is not asked for that claim
//   again for GAP_REFUSED_MS (it is "refused" unless the peer claims more), and not put in
//   backoff for it, so empty
//   answers for claims it cannot back up never hold up the feeds it does serve. A want with no
//   holder left (its holders left or answered empty) is "unconfirmed": it does not count as
//   missing and is not requested, until a peer claims it again. A claim or fork want whose
//   holders all timed out (or answered errors) GAP_DOUBT_TIMEOUTS rounds in a row without
//   delivering it is unconfirmed too, but still asked of them.
// - At most GAP_MAX_TARGETS authors and GAP_MAX_FORKS forks are tracked. When full, a new one
//   first replaces an unconfirmed one, then a target of the peer with the heaviest claim load
//   (targets claimed per entry it ever delivered, plus one) whose holders all carry a heavier
//   load than the newcomer's claimant; a target some peer already delivered entries of is never
//   evicted. So one peer (or many Sybils) that never served cannot fill the table and shut out
//   the feeds of peers that serve: each entry a peer delivers earns its claims room. Otherwise
//   the new one is found again by a later exchange.
// - Priority: fork evidence, then "tail" gaps (within GAP_TAIL_SEQS of the known head), then older
//   history; feeds known only from void heads with a canonical part to fetch go after all others
//   (void feeds are cheap to make in numbers). Within an author, ranges go in seq order so the
//   ledger can chain them; at most GAP_WINDOW_SEQS ahead of the local head are in flight (below
//   the ledger's pending cap). A pass ranks at most GAP_RANK_SCAN_PER_PEER targets per peer; those
//   it asked nothing of move behind the peer's other claims, so later passes reach the rest.
// - A void head claim (fork seq s') for a feed not void here is asked up to s' only: the server
//   answers the prefix up to s' - 1 with the fork pair appended (PROTOCOL.md §11.5), one request.
// - A request asks for at most GAP_BATCH_SEQS seqs and GAP_BATCH_BYTES bytes. One author's window
//   is split over up to GAP_MAX_PEERS_PER_RANGE peers; per peer at most GAP_MAX_REQUESTS_PER_PEER
//   requests and GAP_MAX_BYTES_PER_PEER requested bytes are in flight.
// - Peers are ranked by coverage (they must hold the range), then past usefulness, then RTT.
//   A timeout or an invalid answer puts the peer in exponential backoff with jitter (a random half to all of the delay); a
//   short answer (far under both caps) pauses only that author's ranges with that peer.
// - A request's timeout counts the peer's time, not ours: time this node spends ingesting that
//   peer's earlier answers (options.busyMs; an answer waits behind them) is not counted, up to
//   GAP_REQUEST_MAX_PAUSE_MS (peer-wait.ts, shared with Merkle exchange timeouts), and a request
//   whose answer has arrived (answered()) does not time out while it is ingested. A range received before the one below it (held in the ledger's
//   pending buffer) is not asked again while those seqs are missing (markFetched). So a slow
//   ingest here never has a range asked (and sent) twice, while a peer that does not answer
//   still times out after the timeout of its own.
import type { Difference } from './reconcile.js';
import {
  GAP_BACKOFF_BASE_MS,
  GAP_BACKOFF_MAX_MS,
  GAP_SHORT_PAUSES_SWEEP,
  GAP_BATCH_BYTES,
  GAP_BATCH_SEQS,
  GAP_CLAIM_TIMEOUTS,
  GAP_RANK_SCAN_PER_PEER,
  GAP_REFUSED_MS,
  GAP_TIMEOUT_REFUSED_MS,
  GAP_MAX_BYTES_PER_PEER,
  GAP_MAX_FORKS,
  GAP_MAX_TARGETS,
  GAP_MAX_FORKS_DONE,
  GAP_MAX_PEERS_PER_RANGE,
  GAP_MAX_REQUESTS_PER_PEER,
  GAP_MAX_REQUESTS_TOTAL,
  GAP_REQUEST_TIMEOUT_MS,
  GAP_DOUBT_TIMEOUTS,
  GAP_DOUBTFUL_PER_PEER,
  GAP_STATUS_CACHE_MS,
  GAP_STATUS_CACHE_MIN_WANTS,
  GAP_STATUS_MAX_AUTHORS,
  GAP_TAIL_SEQS,
  GAP_WINDOW_SEQS
} from './constants.js';
import { forkSeqOf, isVoidSeq } from '../void.js';
import { markPeerWait, peerWaitedMs, type PeerWaitMark } from './peer-wait.js';

export type GapPriority = 'fork' | 'tail' | 'history';

/** A range request to send to `peer` (rid is unique per scheduler). */
export interface GapRequest {
  rid: number;
  peer: string;
  author: string;
  from: number;
  to: number;
  maxBytes: number;
  priority: GapPriority;
  sentAt: number;
}

/** How a settled request went, as the ingest saw it. */
export interface GapOutcome {
  /** Entries in the answer. */
  received: number;
  /** Entries newly stored. */
  added: number;
  /**
   * Valid new entries held until earlier ones arrive (a range received before the one below
   * it): useful like stored ones, so a peer whose answers wait for a lost one below is not
   * taken for a silent claimant.
   */
  held?: number;
  /** Valid entries the ledger did not keep (its pending buffer full...): the range is not covered. */
  dropped?: number;
  /** Fork evidence found. */
  forks: number;
  /** Entries refused as invalid (the peer is penalised). */
  rejected: number;
  /** The answer was fork evidence for a void feed, not a prefix of the range (answer-shape.ts). */
  evidence?: boolean;
  /**
   * The answer was a prefix of the range (`received` entries) with the fork pair at the next seq
   * appended (answer-shape.ts 'chain-evidence'): the server's canonical part ends there.
   */
  pair?: boolean;
  /** Bytes of the answer's entries (a short answer under half the byte cap earns no credit). */
  bytes?: number;
  /** Bytes of the answer's largest entry. */
  largest?: number;
  /**
   * Every entry of the answer was held here before it was ingested (a plain range filled
   * meanwhile: by a late answer to the same range, another peer, gossip): its server is not
   * scored for it, as the range was asked of it for nothing.
   */
  filledMeanwhile?: boolean;
}

export interface GapFillOptions {
  now: () => number;
  /** Uniform in [0, 1). */
  random: () => number;
  /**
   * The local contiguous head seq of `author` (0 when none); for a void feed (void.ts) its
   * canonical top k, the highest seq below the fork held here.
   */
  localHead: (author: string) => number;
  /** The fork seq s of `author`'s feed when it is void here (void.ts); undefined otherwise. */
  localVoidFrom?: (author: string) => number | undefined;
  batchBytes?: number;
  batchSeqs?: number;
  timeoutMs?: number;
  maxRequestsTotal?: number;
  /** The node's own peer score (src/lib/core/peers), added to this scheduler's (default 0). */
  peerScore?: (peer: string) => number;
  /**
   * Ms this node has spent so far handling `peer`'s messages (a monotonic counter, PeerSession
   * busyMs): not counted against its requests' timeouts. Default: none.
   */
  busyMs?: (peer: string) => number;
}

interface PeerState {
  rttMs: number;
  /** Lowest seq the peer holds of an author (Infinity: none). */
  holdsFrom: (author: string) => number;
  /** Moving average of useful answers, in [-1, 1]. */
  useful: number;
  failures: number;
  backoffUntil: number;
  requests: number;
  bytes: number;
  /** Entries it delivered that we stored (its serving record, for a full table). */
  served: number;
  /**
   * Authors whose claim it had refused for silence without ever delivering them -> when
   * (bounded: GAP_DOUBTFUL_PER_PEER, oldest dropped). Kept outside the target, which is dropped
   * once filled: a claim of one of them learned again starts doubtful (doubt-break5).
   */
  doubtful: Map<string, number>;
}

/**
 * A claim not asked again until `until`. `silent`: refused after timeouts (the peer may be on a
 * lossy link: its claim still counts as missing), not after an answer of "nothing".
 */
interface Refusal {
  until: number;
  silent: boolean;
}

interface Target {
  /** peer -> highest seq it claims to hold. */
  holders: Map<string, number>;
  /** peer -> the claim it answered "nothing" for (not asked again until it claims more). */
  refused: Map<string, Refusal & { claim: number }>;
  /** The highest claim while the target last had holders (for unconfirmed targets). */
  lastWant: number;
  /** peer -> request timeouts in a row on this claim (counted once per round) and the last one's time. */
  timeouts: Map<string, { n: number; at: number }>;
  /** Peers that delivered entries of this author (a later silence may be a lossy link). */
  served: Set<string>;
}

interface ForkWant {
  author: string;
  seq: number;
  holders: Set<string>;
  /** Peers that answered "nothing" for this fork (not asked again). */
  refused: Map<string, Refusal>;
  /** peer -> request timeouts in a row on this fork (as Target.timeouts). */
  timeouts: Map<string, { n: number; at: number }>;
}

/** One author's known gap: entries missing (hex Ed25519 author key). */
export interface AuthorGap {
  author: string;
  missing: number;
}

export interface GapStatus {
  /**
   * Entries known to be missing: over authors, the highest seq a connected peer claims (and has
   * not answered "nothing" for) minus the local head, plus forks to fetch from such a peer.
   */
  missing: number;
  /**
   * Authors (and forks) claimed only by peers that left, answered "nothing", or timed out (or
   * answered errors) GAP_DOUBT_TIMEOUTS rounds in a row without delivering: not counted in missing.
   */
  unconfirmed: number;
  /** Authors with a target above the local head. */
  authors: number;
  /**
   * Entries missing per author (target - local head, plus fork evidence to fetch), largest first,
   * ties by author; at most GAP_STATUS_MAX_AUTHORS authors (the rest count in `missing` only).
   */
  byAuthor: AuthorGap[];
  inFlight: GapRequest[];
}

const USEFUL_ALPHA = 0.3;

/** The `k` largest gaps added, largest first, ties by author (bounded: no sort of every author). */
class TopGaps {
  private readonly items: AuthorGap[] = [];

  constructor(private readonly k: number) {}

  add(author: string, missing: number): void {
    const before = (x: AuthorGap): boolean => missing > x.missing || (missing === x.missing && author < x.author);
    const last = this.items.at(-1);
    if (this.items.length >= this.k && (last === undefined || !before(last))) return;
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.items[mid])) hi = mid;
      else lo = mid + 1;
    }
    this.items.splice(lo, 0, { author, missing });
    if (this.items.length > this.k) this.items.pop();
  }

  list(): AuthorGap[] {
    return this.items;
  }
}

export class GapFill {
  private readonly peers = new Map<string, PeerState>();
  private readonly targets = new Map<string, Target>();
  /** peer -> authors it is a holder of (for the fair eviction of a full table). */
  private readonly claimsBy = new Map<string, Set<string>>();
  /** Claims looked at by next() since start (rankSteps). */
  private rankStepCount = 0;
  /** Authors whose target has no holder. */
  private readonly holderless = new Set<string>();
  private readonly forks = new Map<string, ForkWant>();
  private readonly forksDone = new Set<string>();
  /** peer -> fork wants (author:seq) it is a holder of (for the fair eviction of a full table). */
  private readonly forksBy = new Map<string, Set<string>>();
  private readonly inflight = new Map<number, GapRequest>();
  /** rid -> when the request was sent (and the peer's busyMs then), and whether its answer is in hand. */
  private readonly clocks = new Map<number, PeerWaitMark & { answered: boolean }>();
  /** Requests in flight to peers with a serving record when sent (see slotCap). */
  private readonly servingRids = new Set<number>();
  /**
   * `peer \0 author` -> until when that peer is not asked for that author's ranges (after a
   * short answer: others get the rest first; the peer's other feeds are not held up).
   */
  private readonly shortPause = new Map<string, number>();
  /** Ranges received but not yet chained (waiting in the ledger's pending buffer), per author. */
  private readonly fetched = new Map<string, { from: number; to: number; until: number }[]>();
  private nextRid = 1;
  private statusCache: { at: number; status: GapStatus } | null = null;

  constructor(private readonly opts: GapFillOptions) {}

  addPeer(peer: string, info: { rttMs?: number; holdsFrom?: (author: string) => number }): void {
    const old = this.peers.get(peer);
    this.peers.set(peer, {
      rttMs: info.rttMs ?? old?.rttMs ?? 1000,
      holdsFrom: info.holdsFrom ?? old?.holdsFrom ?? (() => 1),
      useful: old?.useful ?? 0,
      failures: old?.failures ?? 0,
      backoffUntil: old?.backoffUntil ?? 0,
      requests: old?.requests ?? 0,
      bytes: old?.bytes ?? 0,
      served: old?.served ?? 0,
      doubtful: old?.doubtful ?? new Map()
    });
  }

  setRtt(peer: string, rttMs: number): void {
    const p = this.peers.get(peer);
    if (p) p.rttMs = rttMs;
  }

  /** Forgets a peer: its requests are dropped (their ranges go back to the queue), targets stay. */
  removePeer(peer: string): void {
    this.statusCache = null;
    this.peers.delete(peer);
    for (const [rid, r] of this.inflight) if (r.peer === peer) this.take(rid);
    for (const a of [...(this.claimsBy.get(peer) ?? [])]) this.dropHolder(a, peer);
    this.claimsBy.delete(peer);
    for (const f of this.forks.values()) {
      f.holders.delete(peer);
      f.refused.delete(peer);
    }
    this.forksBy.delete(peer);
    for (const t of this.targets.values()) t.refused.delete(peer);
    for (const key of this.shortPause.keys()) if (key.startsWith(`${peer}\0`)) this.shortPause.delete(key);
  }

  /** Records what a Merkle exchange with `peer` found. */
  learn(peer: string, diffs: readonly Difference[]): void {
    this.statusCache = null; // new claims show at once
    for (const d of diffs) {
      const s = this.voidFrom(d.author);
      if (s !== undefined) this.learnVoid(peer, d.author, d.theirs, s);
      else if (d.fork) this.learnFork(peer, d.author, d.mine);
      else if (d.theirs > d.mine) this.learnTarget(peer, d.author, d.theirs);
    }
  }

  /**
   * A claim for a feed that is void here from `s` (void.ts): a lower void head's evidence is a
   * fork to fetch (it moves the void down); the canonical part it may hold above ours (up to its
   * bound, below both forks) is a range to fetch. An honest peer holding less answers "nothing"
   * (or the evidence): the claim is then refused for GAP_REFUSED_MS without penalty, so two honest
   * nodes do not ask each other again and again while the one holding less catches up.
   */
  private learnVoid(peer: string, author: string, claim: number, s: number): void {
    if (claim === 0) return;
    const k = this.opts.localHead(author);
    if (isVoidSeq(claim) && forkSeqOf(claim) < s) this.learnFork(peer, author, forkSeqOf(claim));
    if (capClaim(claim, s) > k) this.learnTarget(peer, author, claim);
    // The same fork and nothing more to fetch, yet another head: the peer holds less, or another
    // canonical part (a fork below ours). Its entry at our top k tells: the same entry (or its
    // evidence: it holds less) refuses the want; another one is fork evidence, moving the void down.
    else if (k >= 1 && isVoidSeq(claim) && forkSeqOf(claim) === s) this.learnFork(peer, author, k);
  }

  /** The entry of `peer` at `seq` of `author` is wanted as fork evidence (engine.ts checkLink). */
  forkAt(peer: string, author: string, seq: number): void {
    this.statusCache = null;
    this.learnFork(peer, author, seq);
  }

  private voidFrom(author: string): number | undefined {
    return this.opts.localVoidFrom?.(author);
  }

  /** Requests to send now (already counted in flight). */
  next(): GapRequest[] {
    const out: GapRequest[] = [];
    const max = this.maxTotal();
    // Over the total cap, a peer with nothing in flight still gets one request (slotCap): peers
    // that hold their slots with slow answers cannot starve another peer that serves what we miss.
    const full = (): boolean => this.inflight.size >= max;
    for (const f of [...this.forks.values()]) {
      if (this.forkInFlight(f)) continue;
      const peer = this.pickPeer([...f.holders], f.author, f.seq, new Map(), full());
      if (peer) out.push(this.send(peer, f.author, f.seq, f.seq, 'fork'));
    }
    const { ranked, scanned } = this.rankedTargets(full());
    const asked = new Set<string>();
    for (const { author, t, priority } of ranked) {
      for (;;) {
        const r = this.planRange(author, t, priority, full());
        if (!r) break;
        out.push(r);
        asked.add(author);
      }
    }
    this.rotateScanned(scanned, asked);
    return out;
  }

  /**
   * Claims next() has looked at to rank targets, since start: the scheduler's work, which must
   * stay bounded by what it can schedule (GAP_RANK_SCAN_PER_PEER per ready peer), not by the
   * table (test/sim/cpu-break3.test.ts).
   */
  get rankSteps(): number {
    return this.rankStepCount;
  }

  /** The request `rid` if it is in flight for `peer` (answers to anything else are ignored). */
  pending(rid: number, peer: string): GapRequest | undefined {
    const r = this.inflight.get(rid);
    return r && r.peer === peer ? r : undefined;
  }

  /**
   * The answer to `rid` has arrived and is being ingested: it no longer times out (settle() or
   * fail() ends it; a driver must call one of them).
   */
  answered(rid: number): void {
    const c = this.clocks.get(rid);
    if (c) c.answered = true;
  }

  /** An answer was ingested. Updates the peer's score; unfilled parts are planned again by next(). */
  settle(rid: number, o: GapOutcome): void {
    const r = this.take(rid);
    if (!r) return;
    const p = this.peers.get(r.peer);
    const fork = r.priority === 'fork';
    // A fork is done once its evidence is here (the feed is void), not on any answer: a peer that
    // answers with our own variant again must not end the search.
    if (fork && o.rejected === 0 && (o.forks > 0 || (this.voidFrom(r.author) ?? Infinity) <= r.from))
      this.forkDone(r.author, r.from);
    // Evidence (and a fork answer) is useful only when it is evidence we lacked; a range answer
    // far short of what was asked, and far under the byte cap, earns no credit either.
    const useful = o.evidence || fork ? o.forks > 0 : o.added + o.forks + (o.held ?? 0) > 0;
    const short = this.isShort(r, o);
    if (p) {
      if (o.filledMeanwhile !== true || o.rejected > 0)
        p.useful += USEFUL_ALPHA * ((o.rejected > 0 ? -1 : useful && !short ? 1 : 0) - p.useful);
      if (o.rejected > 0) this.penalise(r.peer, p);
      else if (o.received > 0) p.failures = 0;
      if (o.rejected === 0) p.served += o.added;
      // A short answer: others get the rest of that author's range first (a drip of one entry per
      // answer would otherwise keep the lowest range, which gates the chain). Only that author's
      // ranges wait: a server whose feeds end early for a reason (a void feed's fork) must not
      // hold up the feeds it serves in full.
      if (short && o.received > 0) this.pauseAuthor(r.peer, r.author);
    }
    // Nothing, or evidence that adds nothing new (an honest server only sends it for a void feed
    // we lack): refuse the claim rather than ask again at once.
    const want = this.wantOf(r);
    want?.timeouts.delete(r.peer);
    if (want !== undefined && 'served' in want && o.added + (o.held ?? 0) > 0) {
      want.served.add(r.peer);
      p?.doubtful.delete(r.author);
    }
    if (o.received === 0 || ((o.evidence || fork) && o.added + o.forks === 0)) this.refuse(r);
    else if (o.rejected === 0 && (o.dropped ?? 0) === 0 && !o.evidence && r.priority !== 'fork')
      this.markFetched(r.author, r.from, r.from + o.received - 1);
    this.dropFilled(r.author);
  }

  /**
   * An answer far short of the range for no reason a server has: fewer entries than asked, and
   * even one more entry as large as its largest would keep it under half the byte cap (an honest
   * server of mixed sizes stops when the next entry does not fit). A void feed's canonical part
   * ends where its fork is: a holder that claims its void head, or an answer with the fork pair
   * appended, is never short.
   */
  private isShort(r: GapRequest, o: GapOutcome): boolean {
    if (o.evidence || r.priority === 'fork' || o.received >= r.to - r.from + 1) return false;
    // An appended fork pair explains a short prefix only when it is one: it added a fork, or it
    // sits at the seq this feed is void from here (else a liar appends a copy of one entry
    // twice, on any feed: pairdrip-break5).
    if (o.pair && (o.forks > 0 || this.voidFrom(r.author) === r.from + o.received)) return false;
    // A holder claiming a void head: excused when the answer reached its fork (the pair may not
    // have fitted), not before (else a liar claiming a made-up void head drips: pairdrip-break5).
    const claim = this.targets.get(r.author)?.holders.get(r.peer);
    if (claim !== undefined && isVoidSeq(claim) && r.from + o.received >= forkSeqOf(claim)) return false;
    return (o.bytes ?? r.maxBytes) + (o.largest ?? 0) < r.maxBytes / 2;
  }

  /**
   * The answer to `r`, a request that had timed out (fail(), already counted against the peer),
   * came late and stored `added` entries: the peer does serve this author (its claim is no longer
   * doubted, its timeouts on it are forgotten, it gets the credit), and what it filled leaves
   * the table. The range is not settled again: it was re-queued when it timed out.
   */
  lateDelivered(r: GapRequest, added: number): void {
    if (added <= 0) return;
    const p = this.peers.get(r.peer);
    if (p) p.served += added;
    const want = this.wantOf(r);
    want?.timeouts.delete(r.peer);
    if (want !== undefined && 'served' in want) {
      want.served.add(r.peer);
      p?.doubtful.delete(r.author);
    }
    this.dropFilled(r.author);
  }

  /**
   * A request failed (invalid response, send failure; `timedOut`: no answer, or `errorAnswer`: an
   * error answer such as "sync-busy", which counts like a timeout): backoff, range re-queued. GAP_CLAIM_TIMEOUTS rounds of timeouts on one
   * claim refuse it, so silent or always-busy claimants cannot hold the table: like an empty
   * answer, unless the peer delivered entries of this author before (it may be on a lossy link:
   * refused briefly, and still counted as missing).
   */
  fail(rid: number, timedOut = false, errorAnswer = false): void {
    const r = this.take(rid);
    if (!r) return;
    const p = this.peers.get(r.peer);
    if (p) this.penalise(r.peer, p);
    if (!timedOut) return;
    const want = this.wantOf(r);
    if (want === undefined) return;
    // Counted once per round (requests of one burst often time out together), and only for a
    // peer that has not served anything useful lately: an honest peer on a lossy link keeps its
    // claims. Refused briefly (GAP_TIMEOUT_REFUSED_MS), unlike an empty answer.
    const now = this.opts.now();
    const last = want.timeouts.get(r.peer);
    // (An error answer is a deliberate reply, not a loss: each one counts.)
    if (!errorAnswer && last !== undefined && now - last.at < (this.opts.timeoutMs ?? GAP_REQUEST_TIMEOUT_MS)) return;
    const n = (last?.n ?? 0) + 1;
    want.timeouts.set(r.peer, { n, at: now });
    if (n >= GAP_CLAIM_TIMEOUTS && (p?.useful ?? 0) <= 0) {
      // Refused, and still doubtful when it claims the same again after the refusal: it counts
      // as missing again only once it answers (else a silent liar's want would count anew for
      // GAP_DOUBT_TIMEOUTS rounds after every refusal, forever: doubt-break5), and one more
      // round of silence refuses it again.
      // A plain claim's target is dropped once filled and the refusal over: the doubt stays with
      // the peer (doubtOf), so the claim learned again starts doubtful too.
      want.timeouts.set(r.peer, { n: GAP_DOUBT_TIMEOUTS, at: now });
      if ('served' in want && want.served.has(r.peer)) this.refuse(r, GAP_TIMEOUT_REFUSED_MS, true);
      else {
        if ('served' in want && p) doubt(p, r.author, now);
        this.refuse(r);
      }
    }
  }

  private wantOf(r: GapRequest): Target | ForkWant | undefined {
    return r.priority === 'fork' ? this.forks.get(`${r.author}:${r.from}`) : this.targets.get(r.author);
  }

  /** Times out overdue requests (see overdue()); returns them. */
  tick(): GapRequest[] {
    const now = this.opts.now();
    const late = [...this.inflight.values()].filter((r) => this.overdue(r, now));
    for (const r of late) this.fail(r.rid, true);
    return late;
  }

  /**
   * Whether `r` has waited longer than the timeout for its answer: the time since it was sent,
   * less this node's own time handling the peer's messages meanwhile (at most
   * GAP_REQUEST_MAX_PAUSE_MS); never while its answer is in hand.
   */
  private overdue(r: GapRequest, now: number): boolean {
    const c = this.clocks.get(r.rid);
    if (c?.answered === true) return false;
    const waited = c === undefined ? now - r.sentAt : peerWaitedMs(c, now, this.opts.busyMs?.(r.peer));
    return waited > (this.opts.timeoutMs ?? GAP_REQUEST_TIMEOUT_MS);
  }

  /**
   * What is missing (see GapStatus). Walks the whole table, so over GAP_STATUS_CACHE_MIN_WANTS
   * targets and forks it is computed at most once per GAP_STATUS_CACHE_MS (a liar may fill the
   * table with 100,000 claims, and the worker reads the status every tick); `inFlight` is always
   * current. `fresh` recomputes now.
   */
  status(o: { fresh?: boolean } = {}): GapStatus {
    const now = this.opts.now();
    const c = this.statusCache;
    const large = this.targets.size + this.forks.size > GAP_STATUS_CACHE_MIN_WANTS;
    if (o.fresh !== true && large && c !== null && now >= c.at && now - c.at < GAP_STATUS_CACHE_MS) {
      return { ...c.status, inFlight: [...this.inflight.values()] };
    }
    const status = this.computeStatus();
    this.statusCache = { at: now, status };
    return status;
  }

  /** Whether anything is in flight or counted as missing (early exit; always current). */
  busy(): boolean {
    if (this.inflight.size > 0) return true;
    for (const [a, t] of this.targets) if (this.countedGap(a, t) > 0) return true;
    for (const f of this.forks.values()) if (forkCounted(f)) return true;
    return false;
  }

  /** The gap of a target as status() counts it (0: filled, doubtful or unconfirmed). */
  private countedGap(a: string, t: Target): number {
    const local = this.opts.localHead(a);
    const s = this.voidFrom(a);
    if (gapOfTarget(t, local, s) <= 0) return 0;
    if (t.holders.size === 0 && !hasSilent(t.refused)) return 0;
    // A claim whose holder timed out (or answered errors) GAP_DOUBT_TIMEOUTS rounds in a row
    // without ever delivering this author's entries is doubtful: still asked, not counted.
    return gapOfTarget(t, local, s, (p) => t.served.has(p) || (t.timeouts.get(p)?.n ?? 0) < GAP_DOUBT_TIMEOUTS);
  }

  private computeStatus(): GapStatus {
    let missing = 0;
    let authors = 0;
    let unconfirmed = 0;
    // Fork evidence to fetch, per author (at most GAP_MAX_FORKS wants).
    const forkGaps = new Map<string, number>();
    for (const f of this.forks.values()) {
      if (!forkCounted(f)) {
        unconfirmed++;
        continue;
      }
      missing++;
      forkGaps.set(f.author, (forkGaps.get(f.author) ?? 0) + 1);
    }
    const top = new TopGaps(GAP_STATUS_MAX_AUTHORS);
    for (const [a, t] of this.targets) {
      if (gapOfTarget(t, this.opts.localHead(a), this.voidFrom(a)) <= 0) continue;
      const gap = this.countedGap(a, t);
      if (gap <= 0) {
        unconfirmed++;
        continue;
      }
      missing += gap;
      authors++;
      top.add(a, gap + (forkGaps.get(a) ?? 0));
      forkGaps.delete(a);
    }
    for (const [a, n] of forkGaps) top.add(a, n);
    return { missing, unconfirmed, authors, byAuthor: top.list(), inFlight: [...this.inflight.values()] };
  }

  /** Peer score: higher is better. */
  score(peer: string): number {
    const p = this.peers.get(peer);
    return p ? p.useful - p.rttMs / 10_000 - p.failures * 0.1 + (this.opts.peerScore?.(peer) ?? 0) : -Infinity;
  }

  private take(rid: number): GapRequest | undefined {
    const r = this.inflight.get(rid);
    if (!r) return undefined;
    this.inflight.delete(rid);
    this.clocks.delete(rid);
    this.servingRids.delete(rid);
    const p = this.peers.get(r.peer);
    if (p) {
      p.requests--;
      p.bytes -= r.maxBytes;
    }
    return r;
  }

  private penalise(peer: string, p: PeerState): void {
    p.failures++;
    const delay = Math.min(GAP_BACKOFF_MAX_MS, GAP_BACKOFF_BASE_MS * 2 ** (p.failures - 1));
    p.backoffUntil = this.opts.now() + delay * (0.5 + 0.5 * this.opts.random());
  }

  private forkDone(author: string, seq: number): void {
    const key = `${author}:${seq}`;
    this.deleteFork(key);
    this.forksDone.add(key);
    if (this.forksDone.size > GAP_MAX_FORKS_DONE) this.forksDone.delete(this.forksDone.values().next().value!);
  }

  private forkInFlight(f: ForkWant): boolean {
    for (const r of this.inflight.values())
      if (r.priority === 'fork' && r.author === f.author && r.from === f.seq) return true;
    return false;
  }

  /**
   * Remembers a received range (held in the ledger's pending buffer until an earlier one
   * arrives), so it is not asked (and sent) again while the seqs below it are still missing,
   * however long they take (a lost answer, a silent peer, a slow ingest here), and for one
   * timeout after the local head reaches it: should the ledger have let it go (its pending
   * buffer is bounded), it is asked again then.
   */
  private markFetched(author: string, from: number, to: number): void {
    const list = this.covered(author, this.opts.localHead(author));
    list.push({ from, to, until: this.opts.now() + (this.opts.timeoutMs ?? GAP_REQUEST_TIMEOUT_MS) });
    this.fetched.set(author, list);
  }

  /** The received ranges of `author` still covered (see markFetched), above the local head `local`. */
  private covered(author: string, local: number): { from: number; to: number; until: number }[] {
    const now = this.opts.now();
    const timeout = this.opts.timeoutMs ?? GAP_REQUEST_TIMEOUT_MS;
    const list: { from: number; to: number; until: number }[] = [];
    for (const f of this.fetched.get(author) ?? []) {
      if (f.to <= local) continue;
      if (local < f.from - 1) f.until = Math.max(f.until, now + timeout); // what chains it is missing yet
      if (f.until > now) list.push(f);
    }
    if (list.length === 0) this.fetched.delete(author);
    else this.fetched.set(author, list);
    return list;
  }

  /**
   * Forgets a filled target, unless a refusal of it is still in force: a refused claim (over-claim
   * of a liar) must not be learned again at the next exchange as if it were new.
   */
  private dropFilled(author: string): void {
    const t = this.targets.get(author);
    if (t === undefined || gapOfTarget(t, this.opts.localHead(author), this.voidFrom(author)) > 0) return;
    const now = this.opts.now();
    for (const r of t.refused.values()) if (r.until > now) return;
    this.deleteTarget(author);
  }

  /**
   * Targets with a holder that could be asked now: feeds claimed plain above the local head (or
   * wanting only a void claim's evidence) first, then feeds known only from void claims with a
   * canonical part still to fetch (so feeds of equivocating authors, cheap to make in numbers,
   * never hold up honest ones); within each, tail gaps first, then smaller gaps.
   */
  private rankedTargets(full: boolean): {
    ranked: { author: string; t: Target; priority: GapPriority }[];
    scanned: Map<string, string[]>;
  } {
    const out: { author: string; t: Target; priority: GapPriority; gap: number; late: boolean }[] = [];
    const now = this.opts.now();
    const ready = [...this.peers]
      .filter(([, p]) => p.backoffUntil <= now && p.requests < this.slotCap(p, full))
      .map(([id]) => id);
    // Only targets a ready peer claims, at most GAP_RANK_SCAN_PER_PEER of each: the work per
    // answer is bounded by what can be scheduled, not by the table (a liar may fill it).
    const seen = new Set<string>();
    const filled: string[] = [];
    const scannedBy = new Map<string, string[]>();
    for (const peer of ready) {
      const holdsFrom = this.peers.get(peer)!.holdsFrom;
      const scanned: string[] = [];
      scannedBy.set(peer, scanned);
      for (const author of this.claimsBy.get(peer) ?? []) {
        if (scanned.length >= GAP_RANK_SCAN_PER_PEER) break;
        this.rankStepCount++;
        if (seen.has(author)) continue;
        const t = this.targets.get(author);
        if (t === undefined) continue;
        const local = this.opts.localHead(author);
        const s = this.voidFrom(author);
        const gap = gapOfTarget(t, local, s);
        if (gap <= 0) {
          seen.add(author);
          filled.push(author);
          continue;
        }
        if (holdsFrom(author) > local + 1) continue; // this peer cannot serve what comes next
        // Nothing more to get from this peer (another holder's claim makes the gap): it takes
        // no place in this peer's window, or over-claimers could fill it with feeds it cannot serve.
        if (!claimWanted(t.holders.get(peer) ?? 0, local, s)) continue;
        seen.add(author);
        scanned.push(author);
        const late = s === undefined && voidOnly(t, local);
        out.push({ author, t, gap, late, priority: gap <= GAP_TAIL_SEQS ? 'tail' : 'history' });
      }
    }
    for (const a of filled) this.dropFilled(a);
    const rank = (p: GapPriority) => (p === 'tail' ? 0 : 1);
    const ranked = out.sort(
      (a, b) =>
        Number(a.late) - Number(b.late) ||
        rank(a.priority) - rank(b.priority) ||
        a.gap - b.gap ||
        (a.author < b.author ? -1 : 1)
    );
    return { ranked, scanned: scannedBy };
  }

  /**
   * Moves the targets a pass scanned for each peer but asked nothing of (`asked`: authors that got
   * a request) to the back of that peer's claims, so the next pass scans the next ones: a peer's
   * claims beyond its first GAP_RANK_SCAN_PER_PEER (many void spam feeds learned before an honest
   * feed) are reached within a few passes, while feeds being fetched keep their place.
   */
  private rotateScanned(scanned: ReadonlyMap<string, readonly string[]>, asked: ReadonlySet<string>): void {
    for (const [peer, authors] of scanned) {
      const mine = this.claimsBy.get(peer);
      if (mine === undefined || mine.size <= GAP_RANK_SCAN_PER_PEER) continue;
      for (const a of authors) {
        if (asked.has(a) || !mine.delete(a)) continue;
        mine.add(a);
      }
    }
  }

  /** The next unrequested range of `author` inside its window, sent to the best holder; or null. */
  private planRange(author: string, t: Target, priority: GapPriority, full: boolean): GapRequest | null {
    const local = this.opts.localHead(author);
    const s = this.voidFrom(author);
    // A void feed here takes its canonical part only (below its fork).
    const windowEnd = Math.min(wantOf(t), local + GAP_WINDOW_SEQS, s === undefined ? Infinity : s - 1);
    const mine = [...this.inflight.values()].filter((r) => r.author === author && r.priority !== 'fork');
    const busy = [...mine, ...this.covered(author, local)].sort((a, b) => a.from - b.from);
    let from = local + 1;
    for (const r of busy) {
      if (r.from > from) break;
      from = Math.max(from, r.to + 1);
    }
    if (from > windowEnd) return null;
    const nextStart = busy.find((r) => r.from > from)?.from ?? Infinity;
    const perAuthor = new Map<string, number>();
    for (const r of mine) perAuthor.set(r.peer, (perAuthor.get(r.peer) ?? 0) + 1);
    const claimOf = (p: string): number => reachOf(t.holders.get(p)!, local, s);
    const holders = [...t.holders.keys()].filter((p) => claimOf(p) >= from);
    const peer = this.pickPeer(holders, author, from, perAuthor, full);
    if (!peer) return null;
    const to = Math.min(windowEnd, nextStart - 1, from + (this.opts.batchSeqs ?? GAP_BATCH_SEQS) - 1, claimOf(peer));
    return this.send(peer, author, from, to, priority);
  }

  /**
   * Best eligible holder: holds `from`, not backing off, under its caps (`full`: the total cap is
   * reached, only a peer with nothing in flight), spread over <= 3 peers per author.
   */
  private pickPeer(
    holders: string[],
    author: string,
    from: number,
    perAuthor: Map<string, number>,
    full: boolean
  ): string | null {
    const now = this.opts.now();
    const bytes = this.opts.batchBytes ?? GAP_BATCH_BYTES;
    const eligible = holders.filter((id) => {
      const p = this.peers.get(id);
      if (!p || p.backoffUntil > now || p.holdsFrom(author) > from || p.requests >= this.slotCap(p, full)) return false;
      if ((this.shortPause.get(`${id}\0${author}`) ?? 0) > now) return false;
      if (p.requests >= GAP_MAX_REQUESTS_PER_PEER || p.bytes + bytes > GAP_MAX_BYTES_PER_PEER) return false;
      return perAuthor.has(id) || perAuthor.size < GAP_MAX_PEERS_PER_RANGE;
    });
    eligible.sort(
      (a, b) => (perAuthor.get(a) ?? 0) - (perAuthor.get(b) ?? 0) || this.score(b) - this.score(a) || (a < b ? -1 : 1)
    );
    return eligible[0] ?? null;
  }

  /** `peer` is not asked for `author`'s ranges for GAP_BACKOFF_BASE_MS (expired pauses are swept). */
  private pauseAuthor(peer: string, author: string): void {
    const now = this.opts.now();
    if (this.shortPause.size >= GAP_SHORT_PAUSES_SWEEP)
      for (const [key, until] of this.shortPause) if (until <= now) this.shortPause.delete(key);
    this.shortPause.set(`${peer}\0${author}`, now + GAP_BACKOFF_BASE_MS);
  }

  private maxTotal(): number {
    return this.opts.maxRequestsTotal ?? GAP_MAX_REQUESTS_TOTAL;
  }

  /** A peer that delivered entries and whose answers are useful on average. */
  private serves(p: PeerState): boolean {
    return p.served > 0 && p.useful > 0;
  }

  /**
   * Requests `p` may have in flight. Under the total cap: GAP_MAX_REQUESTS_PER_PEER. Over it
   * (`full`): one (an idle peer still gets a request), but a peer with a serving record keeps
   * its per-peer cap while the requests in flight to such peers stay under the total cap: many
   * silent claimants (Sybils) each holding their one slot cannot throttle the peers that serve.
   */
  private slotCap(p: PeerState, full: boolean): number {
    if (!full || (this.serves(p) && this.servingRids.size < this.maxTotal())) return GAP_MAX_REQUESTS_PER_PEER;
    return 1;
  }

  private hasInflight(author: string): boolean {
    for (const r of this.inflight.values()) if (r.author === author) return true;
    return false;
  }

  private learnFork(peer: string, author: string, seq: number): void {
    const key = `${author}:${seq}`;
    if (this.forksDone.has(key)) return;
    let f = this.forks.get(key);
    if ((f?.refused.get(peer)?.until ?? 0) > this.opts.now()) return;
    if (!f) {
      if (this.forks.size >= GAP_MAX_FORKS && !this.evictFork(peer)) return;
      f = { author, seq, holders: new Set<string>(), refused: new Map(), timeouts: new Map() };
      this.forks.set(key, f);
    }
    f.holders.add(peer);
    let mine = this.forksBy.get(peer);
    if (!mine) this.forksBy.set(peer, (mine = new Set()));
    mine.add(key);
  }

  /**
   * Makes room in a full fork table for a want claimed by `claimant`, as evictTarget does for
   * targets: an unconfirmed want, else one of the peer holding the most wants whose holders all
   * hold more wants than `claimant` (a liar flooding the table gives up its own first).
   */
  private evictFork(claimant: string): boolean {
    for (const [key, f] of this.forks)
      if (f.holders.size === 0) {
        this.deleteFork(key);
        return true;
      }
    const count = (p: string): number => this.forksBy.get(p)?.size ?? 0;
    const mine = count(claimant);
    let top: string | undefined;
    for (const p of this.forksBy.keys()) if (count(p) > mine && (top === undefined || count(p) > count(top))) top = p;
    if (top === undefined) return false;
    for (const key of this.forksBy.get(top)!) {
      const f = this.forks.get(key);
      if (f && [...f.holders].every((h) => count(h) > mine) && !this.forkInFlight(f)) {
        this.deleteFork(key);
        return true;
      }
    }
    return false;
  }

  private deleteFork(key: string): void {
    const f = this.forks.get(key);
    if (!f) return;
    for (const h of f.holders) this.forksBy.get(h)?.delete(key);
    this.forks.delete(key);
  }

  private learnTarget(peer: string, author: string, claim: number): void {
    let t = this.targets.get(author);
    const refused = t?.refused.get(peer);
    // The same claim it could not back up, recently: not asked again yet.
    if (refused !== undefined && claim <= refused.claim && refused.until > this.opts.now()) return;
    if (!t) {
      if (this.targets.size >= GAP_MAX_TARGETS && !this.evictTarget(peer)) return;
      t = { holders: new Map(), refused: new Map(), lastWant: 0, timeouts: new Map(), served: new Set() };
      this.targets.set(author, t);
      this.holderless.add(author);
    }
    t.refused.delete(peer);
    const doubtAt = this.peers.get(peer)?.doubtful.get(author);
    if (doubtAt !== undefined && !t.served.has(peer) && !t.timeouts.has(peer))
      t.timeouts.set(peer, { n: GAP_DOUBT_TIMEOUTS, at: doubtAt });
    t.holders.set(peer, claim);
    t.lastWant = wantOf(t);
    this.holderless.delete(author);
    let mine = this.claimsBy.get(peer);
    if (!mine) this.claimsBy.set(peer, (mine = new Set()));
    mine.add(author);
  }

  /**
   * Makes room for a target claimed by `claimant`: drops an unconfirmed target, else one of the
   * peer with the heaviest claim load whose holders all carry a heavier load than `claimant`,
   * none of which has delivered entries of that author (a proven claim stays).
   */
  private evictTarget(claimant: string): boolean {
    const [first] = this.holderless;
    if (first !== undefined) {
      this.deleteTarget(first);
      return true;
    }
    const mine = this.claimLoad(claimant);
    const top = this.heaviestClaimant(mine);
    if (top === undefined) return false;
    // Every holder heavier than the newcomer's claimant (Sybils share targets).
    const heavier = (p: string): boolean => this.claimLoad(p) > mine;
    for (const a of this.claimsBy.get(top)!) {
      const t = this.targets.get(a);
      if (t && t.served.size === 0 && [...t.holders.keys()].every(heavier) && !this.hasInflight(a)) {
        this.deleteTarget(a);
        return true;
      }
    }
    return false;
  }

  /**
   * Targets a peer claims per entry it ever delivered (plus one): a peer that never served
   * carries its claims at face value, and each entry it delivers earns its claims room, so
   * claims of peers with a serving record outrank those of peers (or Sybils) without one.
   */
  private claimLoad(peer: string): number {
    return (this.claimsBy.get(peer)?.size ?? 0) / (1 + (this.peers.get(peer)?.served ?? 0));
  }

  /** The claimant with the heaviest claim load above `than`, if any. */
  private heaviestClaimant(than: number): string | undefined {
    let top: string | undefined;
    let most = than;
    for (const p of this.claimsBy.keys()) {
      const load = this.claimLoad(p);
      if (load > most) [top, most] = [p, load];
    }
    return top;
  }

  private dropHolder(author: string, peer: string): void {
    this.claimsBy.get(peer)?.delete(author);
    const t = this.targets.get(author);
    if (!t || !t.holders.delete(peer)) return;
    if (t.holders.size === 0) this.holderless.add(author);
    else t.lastWant = wantOf(t);
  }

  private deleteTarget(author: string): void {
    const t = this.targets.get(author);
    if (!t) return;
    for (const p of t.holders.keys()) this.claimsBy.get(p)?.delete(author);
    this.targets.delete(author);
    this.holderless.delete(author);
    this.fetched.delete(author);
  }

  /** `r`'s peer answered "nothing": not asked for that claim again until it claims more. */
  private refuse(r: GapRequest, forMs = GAP_REFUSED_MS, silent = false): void {
    if (r.priority === 'fork') {
      const f = this.forks.get(`${r.author}:${r.from}`);
      f?.holders.delete(r.peer);
      this.forksBy.get(r.peer)?.delete(`${r.author}:${r.from}`);
      f?.refused.set(r.peer, { until: this.opts.now() + forMs, silent });
      return;
    }
    const t = this.targets.get(r.author);
    const claim = t?.holders.get(r.peer);
    if (!t || claim === undefined) return;
    this.dropHolder(r.author, r.peer);
    t.refused.set(r.peer, { claim, until: this.opts.now() + forMs, silent });
  }

  private send(peer: string, author: string, from: number, to: number, priority: GapPriority): GapRequest {
    const p = this.peers.get(peer)!;
    const maxBytes = this.opts.batchBytes ?? GAP_BATCH_BYTES;
    const r: GapRequest = { rid: this.nextRid++, peer, author, from, to, maxBytes, priority, sentAt: this.opts.now() };
    p.requests++;
    p.bytes += maxBytes;
    this.inflight.set(r.rid, r);
    this.clocks.set(r.rid, { ...markPeerWait(r.sentAt, this.opts.busyMs?.(peer)), answered: false });
    if (this.serves(p)) this.servingRids.add(r.rid);
    return r;
  }
}

/** Remembers that `p` went silent on its claim of `author` (bounded: the oldest is dropped). */
function doubt(p: PeerState, author: string, now: number): void {
  p.doubtful.delete(author);
  p.doubtful.set(author, now);
  if (p.doubtful.size > GAP_DOUBTFUL_PER_PEER) p.doubtful.delete(p.doubtful.keys().next().value!);
}

/** Whether a connected peer's claim was refused only for its silence (it still counts as missing). */
function hasSilent(refused: ReadonlyMap<string, Refusal>): boolean {
  for (const r of refused.values()) if (r.silent) return true;
  return false;
}

/**
 * Whether a fork want counts as missing: a holder that has not timed out (or answered errors)
 * GAP_DOUBT_TIMEOUTS rounds in a row on it, as countedGap rules for a target's claims (evidence
 * is one entry: a holder that delivered it ended the want), or a holder refused for silence only.
 * A doubtful want is still asked, of every holder; it is unconfirmed until one answers.
 */
function forkCounted(f: ForkWant): boolean {
  for (const p of f.holders) if ((f.timeouts.get(p)?.n ?? 0) < GAP_DOUBT_TIMEOUTS) return true;
  return hasSilent(f.refused);
}

/** The highest seq a holder of `t` claims (its last one when no holder is left). */
function wantOf(t: Target): number {
  let want = 0;
  for (const h of t.holders.values()) if (h > want) want = h;
  return t.holders.size > 0 ? want : t.lastWant;
}

/**
 * What a claim can bring to a feed void here from `s` (void.ts): its canonical part, below both
 * forks (a void claim's canonical top is unknown: s' - 1 bounds it).
 */
function capClaim(claim: number, s: number): number {
  return Math.min(isVoidSeq(claim) ? forkSeqOf(claim) - 1 : claim, s - 1);
}

/**
 * The highest seq worth asking a holder for, given its claim, the local head and `s` (the local
 * void's fork seq): a plain claim as it is; a feed void here: the claim's canonical bound
 * (capClaim); a void claim for a feed not void here: its fork seq s' (an honest server answers
 * up to s' - 1 and appends the evidence at s', §11.5), or just the next seq when the local head
 * is at or past s' (the server answers with the evidence): one request brings the rest of the
 * feed, and no further ranges are asked of that holder beyond its fork.
 */
function reachOf(claim: number, local: number, s: number | undefined): number {
  if (s !== undefined) return capClaim(claim, s);
  return isVoidSeq(claim) ? Math.max(forkSeqOf(claim), local + 1) : claim;
}

/** Whether a holder's claim can bring anything above `local` (`s`: the local void's fork seq). */
function claimWanted(claim: number, local: number, s: number | undefined): boolean {
  if (s !== undefined) return capClaim(claim, s) > local;
  return isVoidSeq(claim) || claim > local;
}

/**
 * Whether every claim of `t` above `local` is a void head with a canonical part above `local`
 * (s' - 1 > local): a feed known here only as an equivocating author's, still to fetch.
 */
function voidOnly(t: Target, local: number): boolean {
  let any = false;
  for (const h of t.holders.values()) {
    if (!isVoidSeq(h)) {
      if (h > local) return false;
    } else if (forkSeqOf(h) - 1 > local) any = true;
  }
  return any;
}

/**
 * Entries of a target missing above `local`: up to its highest plain (not void) claim, plus 1 for
 * fork evidence when a holder claims a void head. (A void claim alone must not hide a longer
 * plain gap: any peer can announce any author's void head.) For a feed void here from `s`:
 * up to the highest claim's canonical bound below the fork (capClaim); its evidence is a fork want.
 */
function gapOfTarget(t: Target, local: number, s?: number, counted?: (peer: string) => boolean): number {
  if (t.holders.size === 0) return gapOf(t.lastWant, local, s);
  let plain = 0;
  let anyVoid = false;
  for (const [p, h] of t.holders) {
    if (counted !== undefined && !counted(p)) continue;
    if (s !== undefined) plain = Math.max(plain, capClaim(h, s));
    else if (isVoidSeq(h)) anyVoid = true;
    else if (h > plain) plain = h;
  }
  return Math.max(0, plain - local) + (anyVoid ? 1 : 0);
}

/**
 * Entries missing between a local head and a wanted one. A void head (void.ts) stands for fork
 * evidence, not for entries: a gap up to one counts as 1 (for a feed void here, its canonical
 * bound counts).
 */
function gapOf(want: number, local: number, s?: number): number {
  if (s !== undefined) return Math.max(0, capClaim(want, s) - local);
  if (want <= local) return 0;
  return isVoidSeq(want) ? 1 : want - local;
}
