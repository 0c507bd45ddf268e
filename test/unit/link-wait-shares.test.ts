// Each peer's share of gossip entries waiting for a predecessor (core/link-wait-shares.ts), and
// ChainLinks asking for it before a long wait (core/chain-links.ts, check's `mayWait`).
import { describe, expect, it, vi } from 'vitest';
import { LinkWaitShares } from '../../src/lib/core/link-wait-shares.js';
import { ChainLinks } from '../../src/lib/core/chain-links.js';

const hx = (n: number): string => n.toString(16).padStart(64, '0');

function manualLinks() {
  const timers: (() => void)[] = [];
  const links = new ChainLinks({
    waitMs: 60_000,
    setTimer: (fn: () => void): unknown => timers.push(fn),
    clearTimer: () => undefined
  });
  return { links, timers };
}

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

describe('ChainLinks: long waits ask first', () => {
  it('a predecessor never seen: asked; refused, the entry is a gap at once (no timer)', async () => {
    const { links, timers } = manualLinks();
    const asked = vi.fn(() => false);
    expect(await links.check('a', 2, hx(1), { hash: hx(2), mayWait: asked })).toBe('gap');
    expect(asked).toHaveBeenCalledTimes(1);
    expect(timers).toHaveLength(0);
    expect(links.counts).toMatchObject({ gaps: 1, refusedWaits: 1, waited: 0 });
  });

  it('a predecessor that is itself waiting for one never seen: asked (a chain behind a gap)', async () => {
    const { links, timers } = manualLinks();
    const endSecond = links.begin('a', 2, hx(2), hx(1));
    const second = links.check('a', 2, hx(1), { hash: hx(2), mayWait: () => true });
    await vi.waitFor(() => expect(timers).toHaveLength(1)); // seq 2 waits for seq 1
    links.begin('a', 3, hx(3), hx(2));
    const asked = vi.fn(() => false);
    expect(await links.check('a', 3, hx(2), { hash: hx(3), mayWait: asked })).toBe('gap');
    expect(asked).toHaveBeenCalledTimes(1);
    timers.shift()!();
    expect(await second).toBe('gap');
    endSecond(false);
  });

  it('a predecessor only being verified: waited for without asking', async () => {
    const { links, timers } = manualLinks();
    const endFirst = links.begin('a', 1, hx(1), hx(0));
    const asked = vi.fn(() => false);
    const second = links.check('a', 2, hx(1), { hash: hx(2), mayWait: asked });
    await vi.waitFor(() => expect(links.waiting).toBe(1));
    endFirst(true);
    expect(await second).toBe('links');
    expect(asked).not.toHaveBeenCalled();
    expect(timers).toHaveLength(0);
  });
});
