// Flow control for entry gossip. Gossip is pushed: a node that cannot keep up with the entries it
// is sent still receives, decodes and signature-checks every message before its validator can drop
// it. In S10 (2026-12-02) a simulated node received ~1,000 messages/s and dropped 98% of them over
// its queue cap: its CPU went to that, its event loop had no room for its own ledger, and it held
// a few hundred of the 33k entries when the load stopped (receive livelock). Sync is pulled: a
// node asks for ranges at its own pace, many entries per message.
//
// So a node that drops gossip over its cap while its queue is standing leaves the entries topic
// (gossipsub UNSUBSCRIBE: its peers stop sending to it; what still arrives, in flight or from a
// peer that ignores it, is dropped unread) and fills its gaps by sync; it joins again once its
// queue is empty and a backoff has passed. The backoff doubles when it has to leave again soon
// after joining (within `stableMs`), up to `maxMs`, and starts again from `minMs` after a stable
// stretch. Standing: the oldest entry waiting for the ledger was queued `standingMs` ago or more
// (CoDel's idea: a queue's delay, not its length, tells a standing queue from a burst). A burst
// that overflows the cap while the queue is young, such as one peer's 257 messages in one RPC,
// loses its excess to sync and the node stays: before, any peer with a direct link could take it
// off the topic that way each time it joined.
// Pure: the caller owns the clock, the topic and the timer.

import { GOSSIP_SHED_MAX_MS, GOSSIP_SHED_MIN_MS, GOSSIP_SHED_STABLE_MS, GOSSIP_SHED_STANDING_MS } from './constants.js';

export interface GossipShedOptions {
  /** Shortest time off the topic after a drop, ms. */
  minMs: number;
  /** Longest, after repeated sheds, ms. */
  maxMs: number;
  /** Joined this long without a shed, the next shed starts from `minMs` again, ms. */
  stableMs: number;
  /** A drop sheds only when the oldest queued entry was queued this long ago or more, ms (0: any drop). */
  standingMs: number;
}

export const GOSSIP_SHED_DEFAULTS: GossipShedOptions = {
  minMs: GOSSIP_SHED_MIN_MS,
  maxMs: GOSSIP_SHED_MAX_MS,
  stableMs: GOSSIP_SHED_STABLE_MS,
  standingMs: GOSSIP_SHED_STANDING_MS
};

export class GossipShed {
  private readonly opts: GossipShedOptions;
  private shedAt: number | null = null;
  private joinedAt = -Infinity;
  private backoffMs = 0;
  /** Times the node left the topic, and ms spent off it (closed stretches). */
  sheds = 0;
  shedMs = 0;
  /** Drops while on the topic that did not take it off (the queue was young: a burst). */
  burstDrops = 0;

  constructor(opts: Partial<GossipShedOptions> = {}) {
    this.opts = { ...GOSSIP_SHED_DEFAULTS, ...opts };
  }

  /** Off the topic now. */
  get shed(): boolean {
    return this.shedAt !== null;
  }

  /** The current (or last) stretch off the topic, ms. */
  get backoff(): number {
    return this.backoffMs;
  }

  /**
   * A message was dropped over the queue cap at `now` (ms); `queuedSince`: when the oldest entry
   * waiting for the ledger (or being ingested) was queued, null when none is. True: leave the
   * topic now (the queue is standing); false: off already, or a burst (counted in burstDrops).
   */
  dropped(now: number, queuedSince: number | null): boolean {
    if (this.shedAt !== null) return false;
    const standing = queuedSince !== null && now - queuedSince >= this.opts.standingMs;
    if (!standing && this.opts.standingMs > 0) {
      this.burstDrops++;
      return false;
    }
    const soon = now - this.joinedAt < this.opts.stableMs;
    this.backoffMs = soon && this.backoffMs > 0 ? Math.min(this.backoffMs * 2, this.opts.maxMs) : this.opts.minMs;
    this.shedAt = now;
    this.sheds++;
    return true;
  }

  /**
   * Off the topic, the backoff over and nothing left in progress (`inProgress` messages being
   * verified or queued for the ledger): true, join the topic now. Otherwise false.
   */
  mayJoin(now: number, inProgress: number): boolean {
    if (this.shedAt === null || now - this.shedAt < this.backoffMs || inProgress > 0) return false;
    this.shedMs += now - this.shedAt;
    this.shedAt = null;
    this.joinedAt = now;
    return true;
  }
}
