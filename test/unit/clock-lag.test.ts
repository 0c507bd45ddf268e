// Replication lag (core/clock/lag.ts) and the sync-latency origin correction (core/clock/latency.ts).
import { describe, expect, it } from 'vitest';
import { LagBook } from '../../src/lib/core/clock/lag.js';
import { originOnLocalClock } from '../../src/lib/core/clock/latency.js';
import { LatencyTracker } from '../../src/lib/worker/latency-tracker.js';

const T = 1_700_000_000_000;

describe('LagBook: this node', () => {
  it('is 0 when nothing is missing, else entries missing and how long the oldest gap is open', () => {
    const b = new LagBook();
    b.observeSelf(T, 0, []);
    expect(b.self(T)).toEqual({ entries: 0, ms: 0 });
    b.observeSelf(T + 1000, 5, [{ author: 'a', missing: 5 }]);
    b.observeSelf(T + 3000, 8, [
      { author: 'a', missing: 3 },
      { author: 'b', missing: 5 }
    ]);
    expect(b.self(T + 4000)).toEqual({ entries: 8, ms: 3000 }); // a's gap opened at T + 1000
    b.observeSelf(T + 5000, 5, [{ author: 'b', missing: 5 }]); // a caught up
    expect(b.self(T + 6000)).toEqual({ entries: 5, ms: 3000 }); // b's gap opened at T + 3000
    b.observeSelf(T + 7000, 0, []);
    expect(b.self(T + 8000)).toEqual({ entries: 0, ms: 0 });
  });

  it('counts gaps of authors not listed (beyond the status cap) from when the total went above 0', () => {
    const b = new LagBook();
    b.observeSelf(T, 3, []);
    b.observeSelf(T + 500, 3, []);
    expect(b.self(T + 2000)).toEqual({ entries: 3, ms: 2000 });
  });
});

describe('LagBook: peers', () => {
  it('a peer is behind the best known heads by Σ max(0, best − theirs) over the authors that differed', () => {
    const b = new LagBook();
    const heads: Record<string, number> = { a: 10, b: 4, c: 7 };
    const best = (x: string) => Math.max(heads[x] ?? 0, b.peerHead(x));
    expect(b.peer(T, 'p', best)).toBeNull();
    // p lacks 4 of a, and is ahead on b (we lack 2 of b: best becomes 6).
    b.observePeer(
      T,
      'p',
      [
        { author: 'a', mine: 10, theirs: 6 },
        { author: 'b', mine: 4, theirs: 6 }
      ],
      best
    );
    // q is behind on b relative to p's 6 and equal on everything else.
    b.observePeer(T + 100, 'q', [{ author: 'b', mine: 4, theirs: 3 }], best);
    expect(b.peer(T + 2000, 'p', best)).toEqual({ entries: 4, ms: 2000, at: T });
    expect(b.peer(T + 2000, 'q', best)).toEqual({ entries: 3, ms: 1900, at: T + 100 });
    // A later comparison still finds p behind: its "behind since" is kept.
    b.observePeer(
      T + 5000,
      'p',
      [
        { author: 'a', mine: 10, theirs: 9 },
        { author: 'b', mine: 4, theirs: 6 }
      ],
      best
    );
    expect(b.peer(T + 6000, 'p', best)).toEqual({ entries: 1, ms: 6000, at: T + 5000 });
    // Caught up: lag 0, and the next gap counts from its own start.
    b.observePeer(T + 7000, 'p', [{ author: 'b', mine: 4, theirs: 6 }], best);
    expect(b.peer(T + 8000, 'p', best)).toEqual({ entries: 0, ms: 0, at: T + 7000 });
    b.forget('q');
    expect(b.peer(T + 8000, 'q', best)).toBeNull();
  });

  it('keeps at most maxPeers peers and maxAuthors authors (largest gaps) per peer', () => {
    const b = new LagBook(2, 2);
    const best = () => 100;
    b.observePeer(
      T,
      'p',
      [
        { author: 'a', mine: 100, theirs: 99 },
        { author: 'b', mine: 100, theirs: 50 },
        { author: 'c', mine: 100, theirs: 90 }
      ],
      best
    );
    expect(b.peer(T, 'p', best)?.entries).toBe(60);
    b.observePeer(T, 'q', [], best);
    b.observePeer(T, 'r', [], best);
    expect(b.peer(T, 'p', best)).toBeNull();
    expect(b.peer(T, 'r', best)).toEqual({ entries: 0, ms: 0, at: T });
  });
});

describe('sync latency origin', () => {
  it('moves the author time onto our clock by the author offset, else the node offset, else as is', () => {
    expect(originOnLocalClock(T, 250, -40)).toBe(T - 250);
    expect(originOnLocalClock(T, null, -40)).toBe(T + 40);
    expect(originOnLocalClock(T, null, null)).toBe(T);
  });

  it('a corrected author clock 2 s ahead gives the real latency, not 0', () => {
    let now = T;
    const t = new LatencyTracker(() => now);
    // Written at our T - 30 by an author whose clock runs 2000 ms ahead; applied here at T.
    const authorTime = T - 30 + 2000;
    t.record(authorTime); // uncorrected: negative, counted as 0
    t.record(originOnLocalClock(authorTime, 2000, null));
    now += 1;
    expect(t.summary()).toMatchObject({ p50: 0, p99: 30, count: 2 });
  });
});
