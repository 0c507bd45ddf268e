// The worker's side of the own-feed check (worker/own-feed.ts): the alive mark is written only
// once the check no longer holds, so a reload or a takeover of a store still being checked checks
// again; a stop while holding leaves the state `closed` (held writes then fail, never signed).
// Found by a break-it review (2026-12-04): the mark was written at start, before the check ended.
import { describe, expect, it } from 'vitest';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { ALIVE_META, lastAlive } from '../../src/lib/core/own-feed-check.js';
import { watchOwnFeed } from '../../src/lib/worker/own-feed.js';

describe('own-feed watch in the worker', () => {
  it('a store still being checked is checked again at the next open; alive is noted once the check ends', async () => {
    const disk = new MemoryDisk();
    const loc = memoryLocation(disk);
    const first = await openLedger(loc, 7);
    await first.ledger.put('a', 1);
    const hourAgo = Date.now() - 3_600_000;
    await first.store.setMeta(ALIVE_META, hourAgo);
    await first.ledger.close();

    const second = await openLedger(loc, 7);
    const w = await watchOwnFeed(second.ledger);
    expect(w.check.state).toBe('holding');
    await new Promise((r) => setTimeout(r, 10));
    expect(await lastAlive(second.store)).toBe(hourAgo); // not noted while holding
    w.stop();
    await w.check.ready;
    expect(w.check.state).toBe('closed');
    await new Promise((r) => setTimeout(r, 10));
    expect(await lastAlive(second.store)).toBe(hourAgo);
    await second.ledger.close();

    const third = await openLedger(loc, 7);
    const again = await watchOwnFeed(third.ledger);
    expect(again.check.state).toBe('holding');
    again.check.offline(); // ended: alive is noted now
    await again.check.ready;
    await new Promise((r) => setTimeout(r, 10));
    expect((await lastAlive(third.store))!).toBeGreaterThan(hourAgo);
    again.stop();
    await third.ledger.close();
  });
});
