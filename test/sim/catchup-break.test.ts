// Catch-up, tried as a demanding user (issue 7 red team): a device that joins late, one that is
// closed while the others write and reopens from the same store, a light replica in either role,
// and a fork that happens while a device is closed. Every honest node must end with the same heads
// root, records and conflicts, nothing pending and nothing known missing. SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { GAP_WINDOW_SEQS } from '../../src/lib/core/sync/constants.js';
import { Cluster, type SimNode } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { equivocate } from './hostile.js';

const link = { loss: 0.03, dup: 0.03, latencyMin: 2, latencyMax: 40 };
const LIGHT = { role: 'light' as const, budgetBytes: 96 * 1024 };

/** Problems left once the honest nodes should have caught up (empty = caught up). */
function leftovers(c: Cluster): string[] {
  const out = compareHonest(c);
  for (const n of c.honest()) {
    const st = n.tl.ledger.stats({ digest: false });
    if (st.pending > 0) out.push(`${n.id}: ${st.pending} pending`);
    const missing = n.engine.status().missing;
    if (missing > 0) out.push(`${n.id}: ${missing} missing`);
  }
  return out;
}

async function settle(c: Cluster, maxMs: number): Promise<string[]> {
  await c.net.run(() => leftovers(c).length === 0, c.net.time + maxMs);
  return leftovers(c);
}

async function writeMany(c: Cluster, ids: string[], n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    await c.write(ids[i % ids.length], `${tag}${i % 97}`, `${tag}-${i}`);
    if (i % 100 === 99) await c.net.run(() => false, c.net.time + 100);
  }
}

const entries = (n: SimNode): number => n.tl.ledger.stats({ digest: false }).entries;

describe('catch-up red team: late and returning devices', () => {
  it('an empty full node and an empty light node join 3 nodes after 2,000 writes', async () => {
    for (const seed of seeds(1, 7100)) {
      const c = new Cluster({ seed, link, gossip: true });
      const ids = ['a', 'b', 'c'];
      for (const [i, id] of ids.entries()) await c.addNode(id, i + 1);
      c.refreshLinks();
      await writeMany(c, ids, 2000, 'k');
      expect(await settle(c, 60_000), `SEED=${seed}`).toEqual([]);
      const t0 = c.net.time;
      const late = await c.addNode('late', 10);
      const lateLight = await c.addNode('late-light', 11, { ledger: LIGHT });
      c.refreshLinks();
      expect(await settle(c, 120_000), `SEED=${seed}`).toEqual([]);
      console.log(`SEED=${seed} late join of 2,000 entries: ${Math.round(c.net.time - t0)} ms virtual`);
      expect(entries(late)).toBe(2000);
      expect(entries(lateLight)).toBe(2000);
    }
  }, 300_000);

  it('a full and a light device closed while the others write 500 catch up after reopening from their stores', async () => {
    for (const seed of seeds(1, 7200)) {
      const c = new Cluster({ seed, link, gossip: true });
      for (const [i, id] of ['a', 'b', 'c'].entries()) await c.addNode(id, i + 1);
      await c.addNode('r', 4);
      await c.addNode('rl', 5, { ledger: LIGHT });
      c.refreshLinks();
      await writeMany(c, ['a', 'b', 'r', 'rl'], 200, 'pre');
      expect(await settle(c, 60_000), `SEED=${seed}`).toEqual([]);
      await c.closeNode('r');
      await c.closeNode('rl');
      await writeMany(c, ['a', 'b', 'c'], 500, 'off');
      const r = await c.reopenNode('r');
      const rl = await c.reopenNode('rl');
      // Writes made just after reopening (before the catch-up is done) reach everyone too.
      await c.write('r', 'back-r', 1);
      await c.write('rl', 'back-rl', 2);
      expect(await settle(c, 120_000), `SEED=${seed}`).toEqual([]);
      expect(entries(r)).toBe(702);
      expect(entries(rl)).toBe(702);
      expect(c.nodes.get('a')!.tl.ledger.get('back-rl')).toBe(2);
    }
  }, 300_000);

  it('a returning device whose only peer is a light replica, then a full one', async () => {
    for (const seed of seeds(1, 7300)) {
      const c = new Cluster({ seed, link, gossip: true });
      await c.addNode('f', 1);
      const l = await c.addNode('l', 2, { ledger: LIGHT });
      await c.addNode('r', 3);
      c.refreshLinks();
      await writeMany(c, ['f', 'r'], 100, 'pre');
      expect(await settle(c, 60_000), `SEED=${seed}`).toEqual([]);
      await c.closeNode('r');
      await writeMany(c, ['f', 'l'], 500, 'off');
      expect(await settle(c, 60_000), `SEED=${seed}`).toEqual([]);
      // Only the light replica is reachable: r takes what it can from it and stores nothing broken.
      c.net.offline.add('f');
      c.refreshLinks();
      const r = await c.reopenNode('r');
      await c.net.run(() => false, c.net.time + 30_000);
      // The light peer keeps its own feed whole, so r may hold some of it pending, waiting for
      // dependencies on f's entries the light peer pruned: bounded by the gap-fill window.
      expect(r.tl.ledger.stats({ digest: false }).pending, `SEED=${seed}`).toBeLessThanOrEqual(GAP_WINDOW_SEQS);
      const fromLight = entries(r);
      const cov = l.tl.ledger.coverage(10);
      console.log(
        `SEED=${seed} returning device served by a light peer only: ${fromLight} of 600 entries; the light peer ` +
          `pruned ${l.tl.ledger.stats({ digest: false }).storage.pruned}, holds ${JSON.stringify(
            cov.map((x) => [x.author.slice(0, 6), x.from])
          )}; r still reports ${r.engine.status().missing} missing`
      );
      // Whatever the light peer could serve contiguously was taken, as far as the causal rules let
      // it apply (the light peer's own feed depends on entries of f it pruned, which wait in the
      // pending buffer); what it pruned is still known missing.
      const rHeads = new Map(r.tl.ledger.heads().map((h) => [h.author, h.seq]));
      const pending = r.tl.ledger.stats({ digest: false }).pending;
      for (const h of l.tl.ledger.heads()) {
        const from = cov.find((x) => x.author === h.author)?.from ?? 1;
        const mine = rHeads.get(h.author) ?? 0;
        if (from <= mine + 1) expect(mine + pending, `SEED=${seed}`).toBeGreaterThanOrEqual(Math.min(h.seq, mine + 1));
      }
      expect(r.engine.status().missing, `SEED=${seed}`).toBeGreaterThan(0);
      c.net.offline.delete('f');
      c.refreshLinks();
      expect(await settle(c, 120_000), `SEED=${seed}`).toEqual([]);
      expect(entries(r)).toBe(600);
    }
  }, 300_000);
});

describe('catch-up red team: a fork while a device is closed', () => {
  it('the returning device (full or light) learns the void feed and converges', async () => {
    for (const seed of seeds(2, 7400)) {
      const c = new Cluster({ seed, link, gossip: true });
      for (const [i, id] of ['a', 'b', 'c'].entries()) await c.addNode(id, i + 1);
      await c.addNode('r', 4);
      await c.addNode('rl', 5, { ledger: LIGHT });
      c.refreshLinks();
      await writeMany(c, ['a', 'b'], 50, 'pre');
      expect(await settle(c, 60_000), `SEED=${seed}`).toEqual([]);
      await c.closeNode('r');
      await c.closeNode('rl');
      const { evil } = await equivocate(c, 'a', 'b');
      await c.write('c', 'eq', 'honest-c');
      await writeMany(c, ['a', 'b', 'c'], 300, 'off');
      expect(await settle(c, 60_000), `SEED=${seed}`).toEqual([]);
      expect(c.nodes.get('c')!.tl.ledger.voidFrom(evil)).toBe(1);
      await c.reopenNode('r');
      await c.reopenNode('rl');
      expect(await settle(c, 120_000), `SEED=${seed}`).toEqual([]);
      for (const id of ['r', 'rl']) {
        const l = c.nodes.get(id)!.tl.ledger;
        expect(l.voidFrom(evil), `SEED=${seed} ${id}`).toBe(1);
        expect(l.get('eq'), `SEED=${seed} ${id}`).toBe(c.nodes.get('c')!.tl.ledger.get('eq'));
      }
    }
  }, 300_000);

  it('a light replica that pruned past a fork still hands the void feed to a newcomer that reaches only it', async () => {
    for (const seed of seeds(1, 7500)) {
      const c = new Cluster({ seed, link, gossip: true });
      const f = await c.addNode('f', 1);
      const l = await c.addNode('l', 2, { ledger: LIGHT });
      c.refreshLinks();
      const { evil } = await equivocate(c, 'f', 'l');
      await writeMany(c, ['f', 'l'], 800, 'k');
      expect(await settle(c, 60_000), `SEED=${seed}`).toEqual([]);
      expect(l.tl.ledger.voidFrom(evil)).toBe(1);
      expect(l.tl.ledger.stats({ digest: false }).storage.pruned, `SEED=${seed}`).toBeGreaterThan(0);
      c.net.offline.add('f');
      c.refreshLinks();
      const z = await c.addNode('z', 3);
      c.refreshLinks();
      await c.net.run(() => z.tl.ledger.voidFrom(evil) === 1, c.net.time + 60_000);
      expect(z.tl.ledger.voidFrom(evil), `SEED=${seed}`).toBe(1);
      c.net.offline.delete('f');
      c.refreshLinks();
      expect(await settle(c, 120_000), `SEED=${seed}`).toEqual([]);
      expect(entries(z)).toBe(entries(f));
    }
  }, 300_000);
});
