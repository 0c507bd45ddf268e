// Peer scores and bans, pure (clock injected). One PeerBook per node: the sync driver and the
// gossip validators report what each peer's answers were worth; gap fill and join rank peers by
// score; the connection gater asks isBanned().
//
// Score (higher is better, about [-1.25, 1]): an exponential moving average of outcome values
// (PEER_OUTCOME_VALUES: useful +1, empty 0, late -0.5, timeout -1, invalid -1) minus an RTT
// term (up to PEER_RTT_WEIGHT). A new peer starts at 0.
//
// Bans: an offence (isBanOffence(code)) bans the peer for BAN_BASE_MS × BAN_FACTOR^(n-1), at most
// BAN_MAX_MS, where n counts its bans not yet forgotten (BAN_FORGET_MS after the last). Offences
// during a ban (a burst of junk already in flight) do not count again.
// Protected peers (the site's relays) are never banned; their offences only lower the score.
// Memory is bounded: at most `maxPeers` entries, the least recently touched unbanned peer goes
// first, then the ban that ends soonest.
import {
  BAN_BASE_MS,
  BAN_FACTOR,
  BAN_FORGET_MS,
  BAN_MAX_MS,
  BAN_STATUS_MAX,
  PEER_BOOK_MAX,
  PEER_OUTCOME_VALUES,
  PEER_RTT_SCALE_MS,
  PEER_RTT_WEIGHT,
  PEER_SCORE_ALPHA
} from './constants.js';
import { isBanOffence } from './offences.js';

/** How one answer (or message) of a peer went. */
export type PeerOutcome = keyof typeof PEER_OUTCOME_VALUES;

/** One ban, as status() and /metrics report it. Times are ms since the epoch. */
export interface BanInfo {
  peer: string;
  /** The error code that caused it (e.g. `bad-signature`). */
  reason: string;
  since: number;
  until: number;
  /** Bans of this peer not yet forgotten, this one included (1 = first ban). */
  offences: number;
}

/** A ban (or a remembered repeat offence) as it is saved across reloads (ban-persist.ts). */
export interface SavedBan extends BanInfo {
  /** When the last ban of this peer started (ms since the epoch); offences are forgotten BAN_FORGET_MS after it. */
  lastOffenceAt: number;
}

/** One peer's score as status() reports it. */
export interface PeerScoreInfo {
  peer: string;
  /** EMA of outcomes minus the RTT term; see the module comment. */
  score: number;
  /** Answers counted per outcome. */
  counts: Record<PeerOutcome, number>;
  /** ms since the epoch while banned, else null. */
  bannedUntil: number | null;
}

export interface PeerBookOptions {
  now: () => number;
  /** Peers never banned (the site's relays): offences only lower their score. */
  isProtected?: (peer: string) => boolean;
  maxPeers?: number;
  alpha?: number;
  banBaseMs?: number;
  banFactor?: number;
  banMaxMs?: number;
  banForgetMs?: number;
}

interface PeerRecord {
  ema: number;
  rttMs: number | null;
  counts: Record<PeerOutcome, number>;
  offences: number;
  lastOffenceAt: number;
  ban: BanInfo | null;
}

const zeroCounts = (): Record<PeerOutcome, number> => ({ useful: 0, empty: 0, late: 0, timeout: 0, invalid: 0 });

export class PeerBook {
  /** Map order = recency (re-inserted on every touch). */
  private readonly peers = new Map<string, PeerRecord>();
  private readonly o: Required<Omit<PeerBookOptions, 'isProtected'>> & Pick<PeerBookOptions, 'isProtected'>;
  /** Bans imposed since start (monotonic, for /metrics). */
  bansTotal = 0;
  /** Called after every new ban (e.g. to save the bans, ban-persist.ts). */
  onBan: ((ban: BanInfo) => void) | undefined;

  constructor(opts: PeerBookOptions) {
    this.o = {
      maxPeers: PEER_BOOK_MAX,
      alpha: PEER_SCORE_ALPHA,
      banBaseMs: BAN_BASE_MS,
      banFactor: BAN_FACTOR,
      banMaxMs: BAN_MAX_MS,
      banForgetMs: BAN_FORGET_MS,
      ...opts
    };
  }

  /** Counts one outcome of `peer` into its moving average. */
  record(peer: string, outcome: PeerOutcome): void {
    const r = this.touch(peer);
    r.counts[outcome]++;
    r.ema += this.o.alpha * (PEER_OUTCOME_VALUES[outcome] - r.ema);
  }

  /** Last measured round trip to `peer`, ms. */
  setRtt(peer: string, rttMs: number): void {
    if (Number.isFinite(rttMs) && rttMs >= 0) this.touch(peer).rttMs = rttMs;
  }

  /**
   * `peer` sent data that failed with error `code`: counted as `invalid`, and when the code is a
   * ban offence (and the peer is not protected) the peer is banned. Returns the new ban, or null.
   */
  offence(peer: string, code: string): BanInfo | null {
    this.record(peer, 'invalid');
    if (!isBanOffence(code) || this.o.isProtected?.(peer) === true) return null;
    return this.ban(peer, code);
  }

  /**
   * Bans `peer` now, longer for each offence not yet forgotten. Offences while a ban is in force
   * (messages already in flight when it started) neither lengthen nor count as repeats: the ban
   * in force is returned. Protected peers are not banned (null).
   */
  ban(peer: string, reason: string): BanInfo | null {
    if (this.o.isProtected?.(peer) === true) return null;
    const now = this.o.now();
    const r = this.touch(peer);
    if (r.ban !== null && r.ban.until > now) return { ...r.ban };
    if (r.offences > 0 && now - r.lastOffenceAt > this.o.banForgetMs) r.offences = 0;
    r.offences++;
    r.lastOffenceAt = now;
    const length = Math.min(this.o.banMaxMs, this.o.banBaseMs * this.o.banFactor ** (r.offences - 1));
    r.ban = { peer, reason, since: now, until: now + length, offences: r.offences };
    this.bansTotal++;
    this.onBan?.({ ...r.ban });
    return { ...r.ban };
  }

  /**
   * What to save across a reload: every peer whose offences are not yet forgotten (its ban may
   * have ended: a repeat offence still bans it longer), the most recent offence first, at most `max`.
   */
  saved(max: number): SavedBan[] {
    const now = this.o.now();
    const out: SavedBan[] = [];
    for (const r of this.peers.values()) {
      if (r.ban === null || r.offences === 0 || now - r.lastOffenceAt > this.o.banForgetMs) continue;
      out.push({ ...r.ban, lastOffenceAt: r.lastOffenceAt });
    }
    return out.sort((a, b) => b.lastOffenceAt - a.lastOffenceAt || (a.peer < b.peer ? -1 : 1)).slice(0, max);
  }

  /**
   * Puts saved bans back (after a reload). Expiry still applies: a ban whose `until` passed while
   * the node was away is not in force (its offence count is kept until forgotten); forgotten
   * offences and protected peers are skipped. A peer already known keeps its newer record.
   * Returns the number of bans in force after the restore among `saved`.
   */
  restore(saved: readonly SavedBan[]): number {
    const now = this.o.now();
    let active = 0;
    for (const b of saved) {
      if (now - b.lastOffenceAt > this.o.banForgetMs || this.o.isProtected?.(b.peer) === true) continue;
      const known = this.peers.get(b.peer);
      if (known !== undefined && known.lastOffenceAt >= b.lastOffenceAt) continue;
      const r = this.touch(b.peer);
      r.offences = b.offences;
      r.lastOffenceAt = b.lastOffenceAt;
      r.ban = { peer: b.peer, reason: b.reason, since: b.since, until: b.until, offences: b.offences };
      if (b.until > now) active++;
    }
    return active;
  }

  /** Whether `peer` is banned now. */
  isBanned(peer: string): boolean {
    return this.bannedUntil(peer) !== null;
  }

  /** When `peer`'s ban ends (ms since the epoch), or null when it is not banned. */
  bannedUntil(peer: string): number | null {
    const ban = this.peers.get(peer)?.ban;
    return ban != null && ban.until > this.o.now() ? ban.until : null;
  }

  /** Score of `peer` (0 for a peer never seen); see the module comment. */
  score(peer: string): number {
    const r = this.peers.get(peer);
    if (r === undefined) return 0;
    const rtt = r.rttMs === null ? 0 : PEER_RTT_WEIGHT * Math.min(1, r.rttMs / PEER_RTT_SCALE_MS);
    return r.ema - rtt;
  }

  /** `peers` without the banned ones, best score first (ties by id, so the order is stable). */
  rank(peers: Iterable<string>): string[] {
    return [...peers]
      .filter((p) => !this.isBanned(p))
      .map((p) => ({ p, s: this.score(p) }))
      .sort((a, b) => b.s - a.s || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0))
      .map(({ p }) => p);
  }

  /** Score details of `peer`, or undefined when never seen. */
  info(peer: string): PeerScoreInfo | undefined {
    const r = this.peers.get(peer);
    if (r === undefined) return undefined;
    return { peer, score: this.score(peer), counts: { ...r.counts }, bannedUntil: this.bannedUntil(peer) };
  }

  /** Bans in force, the most recent first, at most `max`. */
  bans(max = BAN_STATUS_MAX): BanInfo[] {
    const now = this.o.now();
    const out: BanInfo[] = [];
    for (const r of this.peers.values()) if (r.ban !== null && r.ban.until > now) out.push({ ...r.ban });
    return out.sort((a, b) => b.since - a.since || (a.peer < b.peer ? -1 : 1)).slice(0, max);
  }

  /** Peers remembered. */
  get size(): number {
    return this.peers.size;
  }

  private touch(peer: string): PeerRecord {
    let r = this.peers.get(peer);
    if (r !== undefined) {
      this.peers.delete(peer);
    } else {
      if (this.peers.size >= this.o.maxPeers) this.evict();
      r = { ema: 0, rttMs: null, counts: zeroCounts(), offences: 0, lastOffenceAt: 0, ban: null };
    }
    this.peers.set(peer, r);
    return r;
  }

  /** Drops the least recently touched peer not banned; if every one is banned, the ban ending soonest. */
  private evict(): void {
    const now = this.o.now();
    let soonest: string | undefined;
    let soonestUntil = Infinity;
    for (const [peer, r] of this.peers) {
      const until = r.ban !== null && r.ban.until > now ? r.ban.until : null;
      if (until === null) {
        this.peers.delete(peer);
        return;
      }
      if (until < soonestUntil) [soonest, soonestUntil] = [peer, until];
    }
    if (soonest !== undefined) this.peers.delete(soonest);
  }
}
