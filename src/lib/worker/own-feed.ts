// The worker's side of the own-feed check (core/own-feed-check.ts): reads when a node last ran
// on this store, notes that one runs now (and every OWN_FEED_ALIVE_EVERY_MS), and feeds the
// check with the own feed's growth. The runtime feeds it comparisons and a network that cannot
// start, and makes local writes await `check.ready`.
import { OWN_FEED_ALIVE_EVERY_MS } from '../core/constants.js';
import type { Ledger } from '../core/ledger.js';
import { lastAlive, noteAlive, OwnFeedCheck } from '../core/own-feed-check.js';

export interface OwnFeedWatch {
  check: OwnFeedCheck;
  /** Stops the alive notes and the check (writes still held go ahead). */
  stop(): void;
}

export async function watchOwnFeed(ledger: Ledger): Promise<OwnFeedWatch> {
  const lastAliveAt = await lastAlive(ledger.store);
  const check = new OwnFeedCheck({
    author: ledger.author,
    ownSeq: () => ledger.head(ledger.author)?.seq ?? 0,
    lastAliveAt,
    now: Date.now,
    setTimer: (fn, ms) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    }
  });
  // Alive is noted only once the check no longer holds: a reload or a takeover of a store still
  // being checked must check again. A failed note (quota, a closing store) only makes the next
  // open hold its first write.
  let beat: ReturnType<typeof setInterval> | undefined;
  let stopped = false;
  const note = () => void noteAlive(ledger.store, Date.now()).catch(() => undefined);
  void check.ready.then(() => {
    if (stopped || check.state === 'closed') return;
    note();
    beat = setInterval(note, OWN_FEED_ALIVE_EVERY_MS);
  });
  const off = ledger.onAppend(() => check.advanced());
  return {
    check,
    stop: () => {
      stopped = true;
      clearInterval(beat);
      off();
      check.close();
    }
  };
}
