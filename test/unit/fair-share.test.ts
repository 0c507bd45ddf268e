// fair-share.ts: who gives up an entry when a bounded store is full. Each case sits at a boundary
// (equal bytes, one entry more or less), so an off-by-one in the rule changes who is evicted.
import { describe, expect, it } from 'vitest';
import { biggest, makeRoom, outranks, type FairShareStore, type Share } from '../../src/lib/core/fair-share.js';

/** A store of `max` entries; each holder's entries are a list of sizes (bytes), last = highest seq. */
function storeOf(max: { count: number; bytes: number }, held: Record<string, number[]>) {
  const evicted: string[] = [];
  const total = () => Object.values(held).flat();
  const share = (k: string): Share => ({
    bytes: (held[k] ?? []).reduce((a, b) => a + b, 0),
    count: held[k]?.length ?? 0
  });
  const store: FairShareStore = {
    fits: (bytes) => total().length < max.count && total().reduce((a, b) => a + b, 0) + bytes <= max.bytes,
    shares: () => Object.keys(held).map((k) => [k, share(k)] as const),
    evict: (k) => {
      held[k].pop();
      evicted.push(k);
    }
  };
  return { store, evicted, share, held };
}

describe('fair share', () => {
  it('biggest: most bytes, then most entries, then the highest key; empty holders are passed over', () => {
    expect(biggest([])).toBeUndefined();
    expect(biggest([['a', { bytes: 0, count: 0 }]])).toBeUndefined();
    // [a's bytes, a's count, b's bytes, b's count, which is biggest]; each pair in both orders.
    const cases: [number, number, number, number, string][] = [
      [10, 1, 9, 5, 'a'], // bytes first
      [10, 1, 10, 2, 'b'], // then entries
      [10, 2, 10, 2, 'b'] // then the highest key
    ];
    for (const [ab, ac, bb, bc, want] of cases) {
      const a = ['a', { bytes: ab, count: ac }] as const;
      const b = ['b', { bytes: bb, count: bc }] as const;
      expect([biggest([a, b])?.[0], biggest([b, a])?.[0]]).toEqual([want, want]);
    }
  });

  it('outranks: only strictly more than the newcomer would hold (bytes, then entries)', () => {
    const mine = { bytes: 10, count: 1 };
    expect(outranks({ bytes: 15, count: 1 }, mine, 5)).toBe(false); // bytes equal, count 1 <= 2
    expect(outranks({ bytes: 15, count: 2 }, mine, 5)).toBe(false); // bytes equal, count 2 <= 2
    expect(outranks({ bytes: 15, count: 3 }, mine, 5)).toBe(true); // bytes equal, count 3 > 2
    expect(outranks({ bytes: 16, count: 1 }, mine, 5)).toBe(true);
    expect(outranks({ bytes: 14, count: 9 }, mine, 5)).toBe(false);
  });

  it('evicts the biggest holder until the newcomer fits, and never the newcomer itself', () => {
    const s = storeOf({ count: 4, bytes: 100 }, { a: [1, 1, 1], b: [1] });
    expect(makeRoom(s.store, 'c', s.share('c'), 1)).toBe(true); // 4 entries held: one must go
    expect(s.evicted).toEqual(['a']);
    expect(s.held.a).toEqual([1, 1]);
    // a holds 2 (bytes 2), c would hold 1 + 1 = 2 with count 2: a does not hold more, so c does not fit.
    const t = storeOf({ count: 3, bytes: 100 }, { a: [1, 1], c: [1] });
    expect(makeRoom(t.store, 'c', t.share('c'), 1)).toBe(false);
    expect(t.evicted).toEqual([]);
    // The biggest is the newcomer's own holder: nothing is evicted.
    const u = storeOf({ count: 3, bytes: 100 }, { a: [1, 1, 1] });
    expect(makeRoom(u.store, 'a', u.share('a'), 1)).toBe(false);
    expect(u.evicted).toEqual([]);
  });

  it('evicts as often as the bytes need, from whoever is biggest each time', () => {
    const s = storeOf({ count: 100, bytes: 10 }, { a: [3, 3], b: [2, 2] });
    // 10 held, 4 more wanted: a (6) gives 3, then a (3) and b (4): b gives 2; 10 - 3 - 2 + 4 = 9.
    expect(makeRoom(s.store, 'c', s.share('c'), 4)).toBe(true);
    expect(s.evicted).toEqual(['a', 'b']);
  });

  it('fits at exactly the byte bound', () => {
    const s = storeOf({ count: 100, bytes: 10 }, { a: [6] });
    expect(makeRoom(s.store, 'c', s.share('c'), 4)).toBe(true);
    expect(s.evicted).toEqual([]);
  });
});
