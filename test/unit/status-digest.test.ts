// When the node's pushed status carries a freshly computed state digest (src/lib/worker/
// status-digest.ts): never computed by a push itself, refreshed once appends are quiet, paced,
// and bounded in age while appends never stop. Virtual time; counts refreshes (the O(state) work).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DigestSchedule } from '../../src/lib/worker/status-digest.js';

const OPTS = { everyMs: 2_000, costRatio: 20, quietMs: 1_000, maxStaleMs: 15_000 };

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

/** A node-runtime stand-in: pushes every 100 ms while appends flow, each carrying the last digest. */
function node(costMs = 5) {
  const refreshes: number[] = [];
  const schedule: DigestSchedule = new DigestSchedule({
    ...OPTS,
    refresh: () => {
      refreshes.push(Date.now());
      schedule.computed(costMs);
    }
  });
  schedule.computed(costMs); // the first status at start
  /** `ms` of writes: an append every `everyMs`, a (stale) push every 100 ms. */
  const write = (ms: number, everyMs = 5): void => {
    for (let t = 0; t < ms; t += everyMs) {
      schedule.appended();
      if (t % 100 === 0) schedule.pushedStale();
      vi.advanceTimersByTime(everyMs);
    }
  };
  return { schedule, refreshes, write };
}

describe('status digest schedule', () => {
  it('a burst of writes after an idle moment computes no digest until the writes stop', () => {
    const n = node();
    vi.advanceTimersByTime(60_000); // idle: the pushed digest is current
    const start = Date.now();
    n.write(3_000);
    expect(n.refreshes).toEqual([]); // before: one at the burst's first push (100 ms in)
    vi.advanceTimersByTime(2_000);
    // Once quiet: one refresh, quietMs after the last append.
    expect(n.refreshes.length).toBe(1);
    expect(n.refreshes[0]! - start).toBeGreaterThanOrEqual(3_000 + OPTS.quietMs - 5);
  });

  it('appends that never stop refresh it every maxStaleMs, not on every push', () => {
    const n = node();
    n.write(60_000);
    // 600 pushes; the digest refreshed 4 times (every 15 s), not 30 (every 2 s) nor 600.
    expect(n.refreshes.length).toBe(4);
  });

  it('an expensive digest is refreshed at most once per costRatio times its cost', () => {
    const n = node(1_000); // 1 s each: at most every 20 s, even though maxStaleMs is 15 s
    n.write(60_000);
    expect(n.refreshes.length).toBe(3);
  });

  it('pushes with no append since the digest was computed refresh nothing (it is current); stop() ends a refresh', () => {
    const n = node(1_000);
    for (let i = 0; i < 50; i++) {
      n.schedule.pushedStale();
      vi.advanceTimersByTime(100);
    }
    // 5 s of pushes (network changes), no append: the digest is current; re-running the cached
    // one would also reset the pacing of this 1 s digest (20 s) to everyMs (2 s).
    expect(n.refreshes.length).toBe(0);
    n.write(100);
    n.schedule.stop();
    vi.advanceTimersByTime(30_000);
    expect(n.refreshes.length).toBe(0);
  });

  it('says since when the pushed digest lags the state (staleFrom), and nothing once it is computed again', () => {
    const n = node();
    expect(n.schedule.staleFrom).toBeUndefined();
    vi.advanceTimersByTime(5_000);
    const first = Date.now();
    n.write(500);
    expect(n.schedule.staleFrom).toBe(first); // the first append after the digest, not the last
    vi.advanceTimersByTime(OPTS.quietMs + OPTS.everyMs); // quiet: refreshed
    expect(n.refreshes.length).toBe(1);
    expect(n.schedule.staleFrom).toBeUndefined();
  });

  it('a digest computed for a status() caller alone is still pushed to the pages that got the stale one', () => {
    const n = node();
    vi.advanceTimersByTime(5_000);
    n.schedule.appended();
    n.schedule.pushedStale(); // the pages now show a stale digest
    n.schedule.computed(5); // status() asked explicitly: the reply carries a fresh one, no push
    expect(n.refreshes).toEqual([]);
    vi.advanceTimersByTime(60_000);
    // Before: nothing was ever pushed again (red team 2026-12-01): the pages kept the stale one.
    expect(n.refreshes.length).toBe(1);
    expect(n.schedule.staleFrom).toBeUndefined();
  });
});
