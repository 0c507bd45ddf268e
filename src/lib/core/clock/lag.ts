// Replication lag (pure): how far a node is behind the best heads it knows, in entries and in ms.
//
// Best known head of an author: the highest seq that this node holds or that a peer was seen
// to hold in a Merkle comparison (the gap-fill's targets).
// - This node: entries = entries known missing (best − ours, summed over authors, from the gap
//   fill); ms = 0 when nothing is missing, else how long the oldest still-missing gap has been
//   known (per author, since its gap opened on our clock). It is a lower bound on how old the
//   newest write we lack is, and it needs no clock offset (a duration on one clock).
// - A peer: as of our last comparison with it (`at`): entries = Σ over the authors where it
//   differed of max(0, best − its seq); ms = how long (on our clock) successive comparisons have
//   found it behind, 0 when not behind.
import { LAG_MAX_AUTHORS_PER_PEER, LAG_MAX_PEERS } from './constants.js';

/** Lag in entries and ms (ms: a duration on this node's clock). */
export interface Lag {
  entries: number;
  ms: number;
}

/** A peer's lag as of our last comparison with it (`at`, our clock, ms). */
export interface PeerLag extends Lag {
  at: number;
}

/** One author where a comparison found our heads and the peer's different. */
export interface HeadDifference {
  author: string;
  mine: number;
  theirs: number;
}

interface PeerRecord {
  at: number;
  theirs: Map<string, number>;
  behindSince: number | null;
}

export class LagBook {
  private readonly selfSince = new Map<string, number>();
  private selfAnySince: number | null = null;
  private selfMissing = 0;
  private readonly peers = new Map<string, PeerRecord>();

  constructor(
    private readonly maxAuthors = LAG_MAX_AUTHORS_PER_PEER,
    private readonly maxPeers = LAG_MAX_PEERS
  ) {}

  /**
   * Our own gaps at `now`: total entries missing and the per-author breakdown the gap fill
   * reports (possibly truncated to the largest). Call periodically (about every second).
   */
  observeSelf(now: number, missing: number, byAuthor: readonly { author: string; missing: number }[]): void {
    this.selfMissing = missing;
    this.selfAnySince = missing > 0 ? (this.selfAnySince ?? now) : null;
    const open = new Set(byAuthor.filter((g) => g.missing > 0).map((g) => g.author));
    for (const a of [...this.selfSince.keys()]) if (!open.has(a)) this.selfSince.delete(a);
    for (const a of open) if (!this.selfSince.has(a)) this.selfSince.set(a, now);
  }

  /** This node's lag at `now`. */
  self(now: number): Lag {
    if (this.selfMissing <= 0 || this.selfAnySince === null) return { entries: 0, ms: 0 };
    let since = this.selfAnySince;
    // Authors listed: the oldest open gap among them; the total's start covers unlisted ones.
    if (this.selfSince.size > 0) since = Math.min(...this.selfSince.values());
    return { entries: this.selfMissing, ms: Math.max(0, now - since) };
  }

  /**
   * A comparison with `peer` finished at `now`: the authors where our heads differ (any number;
   * the largest gaps are kept up to the cap). `best(author)` is the best known head seq.
   */
  observePeer(now: number, peer: string, diffs: readonly HeadDifference[], best: (author: string) => number): void {
    const kept = [...diffs].sort((x, y) => y.mine - y.theirs - (x.mine - x.theirs)).slice(0, this.maxAuthors);
    const prev = this.peers.get(peer);
    const rec: PeerRecord = { at: now, theirs: new Map(kept.map((d) => [d.author, d.theirs])), behindSince: null };
    if (this.entriesBehind(rec, best) > 0) rec.behindSince = prev?.behindSince ?? now;
    this.peers.delete(peer);
    this.peers.set(peer, rec);
    if (this.peers.size > this.maxPeers) this.peers.delete(this.peers.keys().next().value as string);
  }

  forget(peer: string): void {
    this.peers.delete(peer);
  }

  /** `peer`'s lag at `now` against today's best known heads; null before any comparison. */
  peer(now: number, peer: string, best: (author: string) => number): PeerLag | null {
    const rec = this.peers.get(peer);
    if (rec === undefined) return null;
    const entries = this.entriesBehind(rec, best);
    return { entries, ms: entries > 0 ? Math.max(0, now - (rec.behindSince ?? rec.at)) : 0, at: rec.at };
  }

  /** Highest seq of `author` any remembered comparison saw a peer hold (0: none). */
  peerHead(author: string): number {
    let max = 0;
    for (const r of this.peers.values()) max = Math.max(max, r.theirs.get(author) ?? 0);
    return max;
  }

  private entriesBehind(rec: PeerRecord, best: (author: string) => number): number {
    let n = 0;
    for (const [author, theirs] of rec.theirs) n += Math.max(0, best(author) - theirs);
    return n;
  }
}
