import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { mulberry32 } from '../helpers/fake-feed.js';

// No loss (so gossip alone converges each side) and a long anti-entropy period: after the heal,
// an exchange between two peers of the same side can only come from the partition-healed trigger.
const link = { loss: 0, dup: 0.05, latencyMin: 2, latencyMax: 60 };
const PERIOD_MS = 120_000;

describe('sync simulation: partition events', () => {
  it('a 3+3 partition is counted on every node, and its healing triggers catch-up', async () => {
    for (const seed of seeds(3, 5000)) {
      const c = new Cluster({ seed, link, gossip: true, periodMs: PERIOD_MS });
      const ids = ['a0', 'a1', 'a2', 'b0', 'b1', 'b2'];
      const side = (id: string) => ids.slice(id.startsWith('a') ? 0 : 3, id.startsWith('a') ? 3 : 6);
      for (const [i, id] of ids.entries()) await c.addNode(id, i + 1);
      c.refreshLinks();
      await c.net.run(() => false, 1000);
      for (const id of ids)
        expect(c.nodes.get(id)!.engine.status(), `SEED=${seed} ${id}`).toMatchObject({
          knownPeers: 5,
          reachablePeers: 5,
          partitioned: false,
          partitionEvents: 0
        });
      const cutAt = c.net.time;
      c.net.partition([ids.slice(0, 3), ids.slice(3)]);
      c.refreshLinks();
      const r = mulberry32(seed);
      for (let i = 0; i < 30; i++) {
        const who = ids[Math.floor(r() * 6)];
        c.net.schedule(r() * 2000, () => c.write(who, `k${i % 4}`, `${who}-${i}`));
      }
      await c.net.run(() => false, c.net.time + 5000);
      for (const id of ids)
        expect(c.nodes.get(id)!.engine.status(), `SEED=${seed} ${id}`).toMatchObject({
          knownPeers: 5,
          reachablePeers: 2,
          partitioned: true,
          partitionedSince: cutAt,
          partitionEvents: 1
        });
      const roots = new Set(ids.map((id) => headsRoot(c.nodes.get(id)!.tl.ledger.heads())));
      expect(roots.size, `SEED=${seed}: the sides differ`).toBe(2);
      // Exchanges completed with same-side peers, before the heal.
      const sameSide = (id: string) =>
        c.nodes
          .get(id)!
          .engine.status()
          .peers.filter((p) => side(id).includes(p.peer))
          .reduce((n, p) => n + p.exchangesCompleted, 0);
      const before = new Map(ids.map((id) => [id, sameSide(id)]));
      c.net.heal();
      c.refreshLinks();
      const healedAt = c.net.time;
      expect(await c.settle(PERIOD_MS / 4), `SEED=${seed}`).toBe(true);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
      for (const id of ids) {
        const st = c.nodes.get(id)!.engine.status();
        expect(st, `SEED=${seed} ${id}`).toMatchObject({
          partitioned: false,
          partitionedSince: null,
          partitionEvents: 1
        });
        expect(sameSide(id), `SEED=${seed} ${id}: the heal compared with same-side peers too`).toBeGreaterThan(
          before.get(id)!
        );
      }
      expect(
        c.nodes
          .get('a0')!
          .tl.ledger.heads()
          .reduce((n, h) => n + h.seq, 0)
      ).toBe(30);
      console.log(
        `sim partition events SEED=${seed}: counted on all 6 nodes; converged ${Math.round(c.net.time - healedAt)} ms (virtual) after healing`
      );
    }
  }, 120_000);
});
