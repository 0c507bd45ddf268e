// A light replica in the simulated network (issue 9, roles): over 10,000 writes by two full
// replicas, it stays within its storage budget, its state equals theirs, and a full replica that
// joins afterwards still catches up completely (the light node only announces and serves what it
// holds: its hello lists the feeds it pruned).
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';

const BUDGET = 256 * 1024;
const WRITES = Number(process.env.SIM_LIGHT_WRITES ?? 10_000);

describe('sync simulation: a light replica', () => {
  it(`stays within its budget over ${WRITES} writes and keeps the same state`, async () => {
    for (const seed of seeds(1, 7000)) {
      const c = new Cluster({ seed, link: { loss: 0.05, dup: 0.05, latencyMin: 2, latencyMax: 40 }, gossip: true });
      await c.addNode('f0', 1);
      await c.addNode('f1', 2);
      const light = await c.addNode('l', 3, { ledger: { role: 'light', budgetBytes: BUDGET } });
      c.refreshLinks();
      let peak = 0;
      for (let i = 0; i < WRITES; i++) {
        await c.write(i % 2 === 0 ? 'f0' : 'f1', `k${i % 500}`, `v${i}`);
        if (i % 100 === 99) {
          await c.net.run(() => false, c.net.time + 200);
          peak = Math.max(peak, light.tl.ledger.stats({ digest: false }).storage.bytesUsed);
        }
      }
      await c.net.run(() => compareHonest(c).length === 0, c.net.time + 60_000);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
      const s = light.tl.ledger.stats({ digest: false }).storage;
      console.log(`SEED=${seed} light replica: peak ${peak} B, now ${s.bytesUsed} B of ${BUDGET}, pruned ${s.pruned}`);
      expect(s.bytesUsed, `SEED=${seed}`).toBeLessThanOrEqual(BUDGET);
      // Between two checks the light node may take in one more sync or gossip batch before it prunes.
      expect(peak, `SEED=${seed}`).toBeLessThanOrEqual(BUDGET + 128 * 1024);
      expect(s.pruned, `SEED=${seed}`).toBeGreaterThan(WRITES / 2);
      expect(light.tl.ledger.stats().entries).toBe(WRITES);

      // A full replica joining now gets all of it (from the full peers; the light one holds less).
      const late = await c.addNode('late', 4);
      c.refreshLinks();
      const root = headsRoot(c.nodes.get('f0')!.tl.ledger.heads());
      await c.net.run(() => headsRoot(late.tl.ledger.heads()) === root, c.net.time + 120_000);
      expect(late.tl.ledger.stats().entries, `SEED=${seed}`).toBe(WRITES);
      expect(JSON.stringify(late.tl.ledger.records())).toBe(JSON.stringify(light.tl.ledger.records()));
    }
  }, 600_000);
});
