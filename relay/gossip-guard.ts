// Per-peer publish rate limit and peer scoring for the relay's gossipsub.
//
// Every first-seen message passes a topic validator that takes one token from its sender's bucket
// (`rate` tokens per second, at most `burst`; a batch on the entries topic takes one per entry,
// core/gossip-batch.ts). Without a token the message is ignored (neither
// delivered nor forwarded) and the sender earns a strike; strikes feed gossipsub's application
// score (P5), so a peer that keeps flooding falls below the graylist threshold and gossipsub then
// drops all of its RPCs. Strikes halve every `strikeHalfLifeMs` and stop at `maxStrikes`, so an
// honest burst over the rate (a writer that did not pace itself) costs a bounded time below the
// graylist, not minutes. A graylisted peer's messages never reach this validator, so a flood adds
// no strikes while it lasts: the peer is let in again each time its strikes decay below the
// graylist, until gossipsub next scores it (a heartbeat), then dropped again.
import { TopicValidatorResult, type GossipsubOpts, type Message } from '@libp2p/gossipsub';
import { BANNED_APP_SCORE, gossipScoring, SCORE_THRESHOLDS } from '../src/lib/platform/gossip-scoring.js';
import type { GossipSub } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { UnsupportedLibraryError } from './errors.js';

export interface RateLimit {
  /** Tokens per second (a message costs one; an entries batch one per entry). */
  rate: number;
  /** Bucket size, tokens. */
  burst: number;
  /** Strikes halve after this long, ms. */
  strikeHalfLifeMs: number;
  /** Strikes stop growing here (default: no cap). */
  maxStrikes?: number;
}

interface Bucket {
  tokens: number;
  strikes: number;
  /** ms timestamp of the last refill / decay. */
  at: number;
}

/** Sweep idle buckets once the map holds this many. */
const SWEEP_AT = 4096;

/** Token buckets and decaying strike counts, one per peer id string. */
export class PeerRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** Messages refused since start. */
  refused = 0;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now
  ) {}

  private refill(peer: string): Bucket {
    const t = this.now();
    let b = this.buckets.get(peer);
    if (b === undefined) {
      if (this.buckets.size >= SWEEP_AT) this.sweep();
      b = { tokens: this.limit.burst, strikes: 0, at: t };
      this.buckets.set(peer, b);
      return b;
    }
    const dt = Math.max(0, t - b.at);
    b.tokens = Math.min(this.limit.burst, b.tokens + (dt * this.limit.rate) / 1000);
    b.strikes *= 0.5 ** (dt / this.limit.strikeHalfLifeMs);
    b.at = t;
    return b;
  }

  /**
   * Takes `cost` tokens (default 1: a message; a batch on the entries topic costs its entries)
   * for `peer`; false (and a strike), taking none, when its bucket holds fewer.
   */
  take(peer: string, cost = 1): boolean {
    const b = this.refill(peer);
    // A batch bigger than the bucket (a low --gossip-rate) costs the whole bucket, not more:
    // all or nothing, it would otherwise never pass and strike an honest writer each time.
    cost = Math.min(cost, this.limit.burst);
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return true;
    }
    b.strikes = Math.min(this.limit.maxStrikes ?? Infinity, b.strikes + 1);
    this.refused++;
    return false;
  }

  /** Current (decayed) strikes of `peer`. */
  strikes(peer: string): number {
    return this.buckets.has(peer) ? this.refill(peer).strikes : 0;
  }

  /** Drops buckets that are full and carry (almost) no strikes: they hold no information. */
  sweep(): void {
    for (const [peer, b] of this.buckets) {
      this.refill(peer);
      if (b.tokens >= this.limit.burst && b.strikes < 0.5) this.buckets.delete(peer);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** Below this gossipsub score a peer's RPCs are dropped unread (platform/gossip-scoring.ts). */
export const GRAYLIST_THRESHOLD = SCORE_THRESHOLDS.graylistThreshold;

/**
 * Gossipsub options that score `topics` (the browsers' parameters, platform/gossip-scoring.ts):
 * invalid messages count against their originator (P4, squared), rate-limit strikes and bans
 * through P5 (a banned peer is far below the graylist). Mesh delivery penalties are off
 * (browsers may be quiet for hours), and so is IP colocation (P6): browsers behind one NAT (or
 * all on loopback) share an address, and gossipsub keeps the (zero) scores of disconnected
 * peers for an hour and counts them, so after ten browsers had ever connected from one address
 * every new one fell below the gossip threshold and never heard peer discovery. The relay caps
 * connections and reservations per IP itself (relay/gater.ts).
 */
export function scoringOptions(
  topics: string[],
  limiter: PeerRateLimiter,
  isBanned: (peer: string) => boolean = () => false,
  /** Connected from an abusive IP (relay/ip-abuse.ts): scored as a banned peer. */
  isAbusive: (peer: string) => boolean = () => false
): Partial<GossipsubOpts> {
  return gossipScoring(
    topics,
    (peer) =>
      -limiter.strikes(peer) + (isBanned(peer) ? BANNED_APP_SCORE : 0) + (isAbusive(peer) ? BANNED_APP_SCORE : 0)
  );
}

/** The validator every relayed topic gets: `cost(msg)` tokens (default one) per first-seen message. */
export function rateLimitValidator(limiter: PeerRateLimiter, cost: (msg: Message) => number = () => 1) {
  return (peer: PeerId, msg: Message): TopicValidatorResult =>
    limiter.take(peer.toString(), cost(msg)) ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore;
}

/** The gossipsub 17 method its read loop calls when a peer's inbound stream fails. */
interface ReadErrorHook {
  handlePeerReadStreamError?: (err: Error, peer: PeerId) => void;
}

/** Errors the frame decoder throws for a length prefix over the cap (it-length-prefixed 11). */
const OVERSIZED_FRAME_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError']);

/**
 * Calls `onOversized(peer)` when a peer's gossip stream ends because a frame's length prefix was
 * over `maxInboundDataLength` (gossipsub itself then drops the peer's streams). Throws
 * UnsupportedLibraryError if this gossipsub has no such hook, so an upgrade cannot silently
 * drop the reaction.
 */
export function onOversizedFrame(pubsub: GossipSub, onOversized: (peer: PeerId) => void): void {
  const hook = pubsub as unknown as ReadErrorHook;
  const original = hook.handlePeerReadStreamError;
  if (typeof original !== 'function') throw new UnsupportedLibraryError('no handlePeerReadStreamError hook');
  hook.handlePeerReadStreamError = (err, peer) => {
    original.call(pubsub, err, peer);
    if (OVERSIZED_FRAME_ERRORS.has(err?.name)) onOversized(peer);
  };
}
