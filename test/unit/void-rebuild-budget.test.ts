// Void rebuilds under a time budget (rebuild-budget.ts, PROTOCOL.md §6.1): a fork of entries the
// state applied replays the store, and fresh keys cost an attacker nothing, so rebuilds may take
// at most a share of the wall time. One that does not fit is deferred: the state shows the voided
// entries a little longer (stats().staleVoids), nothing stale is ever compacted, and the rebuild
// runs by itself (or on flushVoids) to the same state as an immediate one.
import { describe, expect, it } from 'vitest';
import { RebuildBudget } from '../../src/lib/core/rebuild-budget.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { publicKeyFromSeed } from '../../src/lib/core/ed25519.js';
import type { IdentityKeys } from '../../src/lib/core/types.js';
import { yUpdateAt } from '../helpers/ledger-fixtures.js';
import { ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { holdsWithin } from '../helpers/poll.js';

async function freshKey(i: number): Promise<IdentityKeys> {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, 0x7eb0000 + i);
  return { seed, publicKey: await publicKeyFromSeed(seed) };
}

/** Two entries of `keys` at seq 1 (a fork), each putting key `k`. */
async function twins(keys: IdentityKeys, k: string, net: Uint8Array) {
  const a = toHex(keys.publicKey);
  const client = clientIdOf(a);
  const mk = (v: string, time: number) =>
    createEntry(
      {
        keys,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 1,
        time,
        clock: 1,
        payload: yUpdateAt(k, { v, a, t: time, l: 1 }, client, 0)
      },
      net
    );
  return [await mk('a', 1_700_000_000_000), await mk('b', 1_700_000_000_001)];
}

describe('RebuildBudget', () => {
  it('lets runs use at most `share` of the window, the first always, and says how long to wait', () => {
    let t = 0;
    const b = new RebuildBudget({ now: () => t, windowMs: 1000, share: 0.1 });
    expect(b.waitMs()).toBe(0);
    b.record(250); // longer than the whole budget: allowed because it was first
    expect(b.waitMs()).toBe(1000);
    t = 600;
    expect(b.waitMs()).toBe(400);
    t = 1001;
    expect(b.waitMs()).toBe(0);
    b.record(40);
    t = 1100;
    expect(b.waitMs()).toBe(0);
    b.record(70); // 110 ms within the window: over 100
    expect(b.waitMs()).toBe(901); // until the 40 ms run (ended at 1001) leaves the window
  });
});

describe('ledger: deferred void rebuilds', () => {
  it('over budget a void waits, the state stays stale but is never compacted, and a flush or the timer rebuilds it', async () => {
    let t = 0;
    const clock = { now: () => t };
    const loc = memoryLocation();
    const a = await openLedger(loc, 61, {
      compactEvery: 1,
      voidRebuild: { share: 0.1, windowMs: 50, ...clock }
    });
    const net = a.ledger.networkId;
    const pairs = [];
    for (let i = 0; i < 3; i++) pairs.push(await twins(await freshKey(i), `x${i}`, net));
    await a.ledger.ingest(pairs.map((p) => p[0])); // applied everywhere first
    await a.ledger.put('honest', 1);
    expect(
      a.ledger
        .records()
        .map((r) => r.key)
        .sort()
    ).toEqual(['honest', 'x0', 'x1', 'x2']);

    // First fork: rebuilt at once (its run fills the 5 ms budget of the window).
    t = 0;
    await a.ledger.ingest([pairs[0][1]]);
    a.ledger['rebuildBudget'].record(10); // as if it had taken 10 ms
    expect(a.ledger.stats().staleVoids).toBe(0);
    expect(a.ledger.get('x0')).toBeUndefined();

    // Second fork within the window: deferred. The voided record still shows; nothing stale is compacted.
    await a.ledger.ingest([pairs[1][1]]);
    expect(a.ledger.stats()).toMatchObject({ staleVoids: 1, forkedAuthors: 2 });
    expect(a.ledger.get('x1')).toBe('a');
    const compactedAt = a.ledger.stats().lastCompactionAt;
    await a.ledger.put('during', 2); // writes go on
    await a.ledger.compact();
    expect(a.ledger.stats().lastCompactionAt).toBe(compactedAt);

    // flushVoids rebuilds: the same state as a node that rebuilt at once (a fresh open of the same store).
    await a.ledger.flushVoids();
    expect(a.ledger.stats().staleVoids).toBe(0);
    expect(a.ledger.get('x1')).toBeUndefined();
    expect(a.ledger.get('during')).toBe(2);

    // Third fork: deferred again, then the timer (windowMs 50 in real time) rebuilds it by itself.
    t = 1;
    a.ledger['rebuildBudget'].record(10);
    await a.ledger.ingest([pairs[2][1]]);
    expect(a.ledger.stats().staleVoids).toBe(1);
    t = 1000; // the window has passed for the budget's clock too
    expect(await holdsWithin(() => a.ledger.stats().staleVoids === 0, 5000)).toBe(true);
    expect(a.ledger.get('x2')).toBeUndefined();
    const view = ledgerView(a.ledger);
    await a.ledger.close();

    const b = await openLedger(loc, 61);
    expect(ledgerView(b.ledger)).toEqual(view);
    // A node given the same entries with rebuilds never deferred ends the same.
    const c = await openLedger(memoryLocation(), 62);
    await c.ledger.ingest(pairs.map((p) => p[0]));
    await c.ledger.ingest(a.log.filter((h) => toHex(h.entry.author) === a.ledger.author));
    for (const p of pairs) await c.ledger.ingest([p[1]]);
    expect(ledgerView(c.ledger).records).toBe(view.records);
    expect(ledgerView(c.ledger).digest).toBe(view.digest);
    await b.ledger.close();
    await c.ledger.close();
  });
});
