// Gossip flow control's state machine (core/gossip-shed.ts) on an injected clock.
import { describe, expect, it } from 'vitest';
import { GossipShed } from '../../src/lib/core/gossip-shed.js';

describe('GossipShed', () => {
  it('a drop takes the node off the topic once; it joins again only after the backoff and with nothing in progress', () => {
    const s = new GossipShed({ minMs: 2_000, maxMs: 30_000, stableMs: 30_000, standingMs: 0 });
    expect(s.shed).toBe(false);
    expect(s.mayJoin(0, 0)).toBe(false); // not off the topic
    expect(s.dropped(1_000, null)).toBe(true);
    expect(s.dropped(1_100, null)).toBe(false); // already off
    expect(s).toMatchObject({ shed: true, sheds: 1, backoff: 2_000 });
    expect(s.mayJoin(2_999, 0)).toBe(false); // backoff not over
    expect(s.mayJoin(3_000, 5)).toBe(false); // queue not empty
    expect(s.mayJoin(3_500, 0)).toBe(true);
    expect(s).toMatchObject({ shed: false, shedMs: 2_500 });
  });

  it('the backoff doubles (up to maxMs) while sheds follow soon after joining, and starts over after a stable stretch', () => {
    const s = new GossipShed({ minMs: 1_000, maxMs: 3_000, stableMs: 10_000, standingMs: 0 });
    let t = 0;
    const cycle = (gap: number): number => {
      t += gap;
      s.dropped(t, null);
      const b = s.backoff;
      t += b;
      expect(s.mayJoin(t, 0)).toBe(true);
      return b;
    };
    expect([cycle(0), cycle(100), cycle(100), cycle(100)]).toEqual([1_000, 2_000, 3_000, 3_000]);
    expect(cycle(10_000)).toBe(1_000); // joined for stableMs: back to minMs
    expect(s.sheds).toBe(5);
  });

  it('a drop takes the node off the topic only while its queue is standing: a burst over a young queue does not', () => {
    const s = new GossipShed({ minMs: 1_000, maxMs: 30_000, stableMs: 30_000, standingMs: 1_000 });
    expect(s.dropped(5_000, null)).toBe(false); // nothing queued: the burst is being verified
    expect(s.dropped(5_000, 4_500)).toBe(false); // the oldest queued 500 ms ago
    expect(s).toMatchObject({ shed: false, sheds: 0, burstDrops: 2 });
    expect(s.dropped(5_000, 4_000)).toBe(true); // queued 1 s ago: standing
    expect(s).toMatchObject({ shed: true, sheds: 1, burstDrops: 2 });
    expect(s.dropped(5_100, 0)).toBe(false); // already off: not a burst either
    expect(s.burstDrops).toBe(2);
  });
});
