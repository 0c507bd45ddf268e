// Each peer's share of gossip entries waiting for a predecessor (core/link-wait-shares.ts).
import { describe, expect, it } from 'vitest';
import { LinkWaitShares } from '../../src/lib/core/link-wait-shares.js';

describe('LinkWaitShares', () => {
  it('bounds each peer by entries and bytes, and all peers together; a run is taken whole or not at all', () => {
    const s = new LinkWaitShares({ perPeer: 4, perPeerBytes: 1_000, total: 6, totalBytes: 10_000 });
    expect(s.take('a', 3, 300)).toBe(true);
    expect(s.take('a', 2, 100)).toBe(false); // 5 entries > 4
    expect(s.take('a', 1, 800)).toBe(false); // 1,100 bytes > 1,000
    expect(s.take('a', 1, 100)).toBe(true);
    expect(s.take('b', 3, 100)).toBe(false); // 7 entries in all > 6
    expect(s.take('b', 2, 100)).toBe(true);
    expect(s).toMatchObject({ entries: 6, bytes: 500, refused: 3 });
    s.give('a', 3, 300);
    expect(s.of('a')).toBe(1);
    expect(s.take('b', 2, 100)).toBe(true);
    s.give('a', 1, 100);
    s.give('b', 4, 200);
    expect(s).toMatchObject({ entries: 0, bytes: 0 });
    expect(s.of('a') + s.of('b')).toBe(0);
    s.give('c', 1, 1); // never taken: nothing to give back
    expect(s.entries).toBe(0);
  });
});
