// The own-feed check's state machine (core/own-feed-check.ts): when it holds a first write, what
// a comparison must show to release it, and its bounds. The whole path runs in
// test/sim/restored-store.test.ts and, in Chromium, test/e2e/restored-profile.spec.ts.
import { describe, expect, it } from 'vitest';
import { OwnFeedCheck, type OwnFeedCheckOptions } from '../../src/lib/core/own-feed-check.js';
import { OWN_FEED_CLAIMED_HOLD_MS, OWN_FEED_HOLD_MS } from '../../src/lib/core/constants.js';

function rig(over: Partial<OwnFeedCheckOptions> = {}) {
  let seq = 5;
  const timers: { fn: () => void; ms: number; live: boolean }[] = [];
  const check = new OwnFeedCheck({
    author: 'me',
    ownSeq: () => seq,
    lastAliveAt: 0,
    now: () => 3_600_000,
    setTimer: (fn, ms) => {
      const t = { fn, ms, live: true };
      timers.push(t);
      return () => (t.live = false);
    },
    ...over
  });
  let released = false;
  void check.ready.then(() => (released = true));
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { check, timers, setSeq: (n: number) => (seq = n), released: () => released, settle };
}

const diff = (author: string, mine: number, theirs: number, fork = false) => ({ author, mine, theirs, fork });

describe('own-feed check', () => {
  it('holds only when the own feed is not empty and the store was not in use within the absence', () => {
    const common = { author: 'a', ownSeq: () => 5, setTimer: () => () => undefined };
    expect(new OwnFeedCheck({ ...common, lastAliveAt: 100_000, now: () => 110_000 }).state).toBe('not-needed');
    expect(new OwnFeedCheck({ ...common, lastAliveAt: 100_000, now: () => 200_000 }).state).toBe('holding');
    // A mark far in the future (a clock that was ahead) is no proof of a recent run.
    expect(new OwnFeedCheck({ ...common, lastAliveAt: 900_000, now: () => 200_000 }).state).toBe('holding');
    expect(new OwnFeedCheck({ ...common, lastAliveAt: undefined, now: () => 1 }).state).toBe('holding');
    expect(new OwnFeedCheck({ ...common, ownSeq: () => 0, lastAliveAt: undefined, now: () => 1 }).state).toBe(
      'not-needed'
    );
  });

  it('a peer that holds less or none of the own feed does not release; one with the same head does', async () => {
    const r = rig();
    r.check.compared([diff('me', 5, 0)]); // a relay: none of it
    r.check.compared([diff('me', 5, 3), diff('other', 1, 2)]); // a peer behind on it
    await r.settle();
    expect([r.check.state, r.released()]).toEqual(['holding', false]);
    r.check.compared([diff('other', 1, 2)]); // same own head
    await r.settle();
    expect([r.check.state, r.released()]).toEqual(['compared', true]);
    expect(r.timers[0]!.live).toBe(false);
  });

  it('a peer with more of the own feed holds writes until those entries are back', async () => {
    const r = rig();
    r.check.compared([diff('me', 5, 9)]);
    r.check.compared([]); // another peer equal to us: not enough, 9 is known to exist
    r.setSeq(8);
    r.check.advanced();
    await r.settle();
    expect([r.check.state, r.released()]).toEqual(['holding', false]);
    r.setSeq(9);
    r.check.advanced();
    await r.settle();
    expect([r.check.state, r.released()]).toEqual(['compared', true]);
  });

  it('bounded: the hold ends after OWN_FEED_HOLD_MS, at once offline, and on close; a fork releases', async () => {
    const t = rig();
    expect(t.timers[0]!.ms).toBe(OWN_FEED_HOLD_MS);
    t.timers[0]!.fn();
    await t.settle();
    expect([t.check.state, t.released()]).toEqual(['timed-out', true]);
    // A claim of later own entries that have not come back holds on, to OWN_FEED_CLAIMED_HOLD_MS in all.
    const l = rig();
    l.check.compared([diff('me', 5, 1e12)]);
    l.timers[0]!.fn();
    await l.settle();
    expect([l.check.state, l.released(), l.timers[1]!.ms]).toEqual([
      'holding',
      false,
      OWN_FEED_CLAIMED_HOLD_MS - OWN_FEED_HOLD_MS
    ]);
    l.timers[1]!.fn();
    await l.settle();
    expect([l.check.state, l.released()]).toEqual(['timed-out', true]);
    const o = rig();
    o.check.offline();
    expect(o.check.state).toBe('offline');
    // Stopped while holding: `ready` resolves, and the state says held writes must fail.
    const c = rig();
    c.check.close();
    await c.settle();
    expect([c.check.state, c.released()]).toEqual(['closed', true]);
    const f = rig();
    f.check.compared([diff('me', 5, 5, true)]);
    expect(f.check.state).toBe('compared');
    // Once settled, nothing moves it again.
    f.check.offline();
    expect(f.check.state).toBe('compared');
  });
});
