// The own-feed check: before its first local write after a long absence, a node learns from a
// peer whether that peer holds later entries of the node's own feed than its store does. A store
// can be an older copy of itself (a restored profile backup, a VM snapshot); writing from it at
// once signs a seq the node already signed in the lost part, which forks its own feed and makes
// it void on every node (PROTOCOL.md §6). Sync brings the later entries back; this check makes
// the first write wait for that, bounded (OWN_FEED_HOLD_MS), so a device alone still writes.
//
// Pure state machine: the caller reports comparisons (SyncEngine onCompared), own-feed growth
// and a browser that says it is offline; writes await `ready`. It cannot help a copy still running
// elsewhere (two live devices with one key fork whatever they wait for).
import { OWN_FEED_ABSENCE_MS, OWN_FEED_CLAIMED_HOLD_MS, OWN_FEED_HOLD_MS } from './constants.js';
import type { Difference } from './sync/reconcile.js';
import type { LedgerStore } from './storage.js';

/** Meta key: when a node last ran on this store, ms since the epoch (noted once no check holds, then every OWN_FEED_ALIVE_EVERY_MS). */
export const ALIVE_META = 'aliveAt';

/**
 * `not-needed`: nothing to check (no own entries, or the store was in use moments ago);
 * `holding`: the first write waits; `compared`: a peer showed the same own head (or what it held
 * more was fetched); `timed-out`: no such peer within the hold; `offline`: the browser says it is
 * offline; `closed`: the node stopped while holding (held writes must fail, not be signed).
 */
export type OwnFeedCheckState = 'not-needed' | 'holding' | 'compared' | 'timed-out' | 'offline' | 'closed';

export interface OwnFeedCheckOptions {
  /** This node's author key, hex. */
  author: string;
  /** The own feed's head seq in the ledger now (0: none). */
  ownSeq: () => number;
  /** ALIVE_META as read from the store at open, ms since the epoch; undefined when never noted. */
  lastAliveAt: number | undefined;
  /** ms since the epoch. */
  now: () => number;
  /** Runs `fn` after `ms`; returns a cancel. */
  setTimer: (fn: () => void, ms: number) => () => void;
  absenceMs?: number;
  holdMs?: number;
  claimedHoldMs?: number;
}

export class OwnFeedCheck {
  /** Resolves when local writes may go ahead; never rejects. */
  readonly ready: Promise<void>;
  private current: OwnFeedCheckState;
  /** The highest own seq a peer said it holds above ours (0: none heard). */
  private target = 0;
  private release: () => void = () => undefined;
  private cancelTimer: () => void = () => undefined;

  constructor(private readonly opts: OwnFeedCheckOptions) {
    const absence = opts.absenceMs ?? OWN_FEED_ABSENCE_MS;
    const last = opts.lastAliveAt;
    const recent = last !== undefined && Math.abs(opts.now() - last) < absence;
    if (opts.ownSeq() === 0 || recent) {
      this.current = 'not-needed';
      this.ready = Promise.resolve();
      return;
    }
    this.current = 'holding';
    this.ready = new Promise<void>((resolve) => (this.release = resolve));
    const hold = opts.holdMs ?? OWN_FEED_HOLD_MS;
    this.cancelTimer = opts.setTimer(() => this.holdEnded(hold), hold);
  }

  /**
   * The hold's end: go ahead, unless a peer claimed own entries above ours that have not come
   * back yet. Signing then would fork the feed for certain if the claim is true, so the check
   * waits on for them up to OWN_FEED_CLAIMED_HOLD_MS in all (a liar delays writes that long).
   */
  private holdEnded(held: number): void {
    const claimed = this.opts.claimedHoldMs ?? OWN_FEED_CLAIMED_HOLD_MS;
    if (this.current !== 'holding') return;
    if (this.target > this.opts.ownSeq() && claimed > held)
      this.cancelTimer = this.opts.setTimer(() => this.finish('timed-out'), claimed - held);
    else this.finish('timed-out');
  }

  get state(): OwnFeedCheckState {
    return this.current;
  }

  /**
   * A comparison with a peer finished (SyncEngine onCompared; its differences are complete).
   * - The own feed is not among them: the peer holds the same own head. Writes may go ahead.
   * - The peer holds more of it: the check waits for those entries (advanced()).
   * - The peer holds less or none of it (a relay, a peer that never got it): that proves
   *   nothing; the check keeps waiting for another peer or the hold's end.
   * - A fork of the own feed already exists: waiting cannot undo it; writes go ahead.
   */
  compared(diffs: readonly Difference[]): void {
    if (this.current !== 'holding') return;
    const own = diffs.find((d) => d.author === this.opts.author);
    if (own === undefined || own.fork) {
      if (this.target === 0 || own?.fork === true) this.finish('compared');
      return;
    }
    if (own.theirs > own.mine) {
      this.target = Math.max(this.target, own.theirs);
      this.advanced();
    }
  }

  /** The own feed grew (entries of it came back from peers): done once it reaches what a peer holds. */
  advanced(): void {
    if (this.current === 'holding' && this.target > 0 && this.opts.ownSeq() >= this.target) this.finish('compared');
  }

  /** The browser says it is offline: nobody to learn from now. */
  offline(): void {
    if (this.current === 'holding') this.finish('offline');
  }

  /** The node stops: the timer ends and `ready` resolves with state `closed` (held writes must then fail). */
  close(): void {
    if (this.current === 'holding') this.finish('closed');
  }

  private finish(state: OwnFeedCheckState): void {
    this.current = state;
    this.cancelTimer();
    this.release();
  }
}

/** Notes in `store` that a node runs on it now (ALIVE_META). */
export function noteAlive(store: Pick<LedgerStore, 'setMeta'>, now: number): Promise<void> {
  return store.setMeta(ALIVE_META, now);
}

/** ALIVE_META as `store` holds it; undefined when never noted (or not a finite number). */
export async function lastAlive(store: Pick<LedgerStore, 'getMeta'>): Promise<number | undefined> {
  const v = await store.getMeta(ALIVE_META);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
