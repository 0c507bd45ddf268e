// Forked feeds are void from the fork (PROTOCOL.md §6), in the seeded simulation: an author signs
// two entries at seq 1, one reaches each half of a 3+3 partition, and on both sides an honest
// node overwrites the forked record (its entry builds on the variant its side saw). After healing
// every node converges to the same heads root, records and conflicts; the forked author's feed is
// void everywhere; the honest overwrites, anchored on void items, are void with them (the same on
// every node); and the honest authors are not frozen: their next writes reach every node.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { equivocate } from './hostile.js';

const lossy = { loss: 0.05, dup: 0.05, latencyMin: 2, latencyMax: 60 };

describe('sync simulation: a forked author', () => {
  it('honest writes that built on different variants converge, and their authors keep writing', async () => {
    for (const seed of seeds(3, 9000)) {
      const c = new Cluster({ seed, link: lossy, gossip: true });
      const ids = ['a0', 'a1', 'a2', 'b0', 'b1', 'b2'];
      for (const [i, id] of ids.entries()) await c.addNode(id, i + 1);
      c.net.partition([ids.slice(0, 3), ids.slice(3)]);
      c.refreshLinks();
      const { evil } = await equivocate(c, 'a0', 'b0');
      // Each side learns its variant, then an honest node there overwrites the forked record.
      const saw = (id: string) => c.nodes.get(id)!.tl.ledger.get('eq') !== undefined;
      await c.net.run(() => ids.every(saw), 20_000);
      await c.write('a1', 'eq', 'honest-a1');
      await c.write('b1', 'eq', 'honest-b1');
      await c.net.run(() => false, c.net.time + 3000);
      c.net.heal();
      c.refreshLinks();
      await c.net.run(() => compareHonest(c).length === 0, c.net.time + 60_000);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
      for (const id of ids) {
        const l = c.nodes.get(id)!.tl.ledger;
        expect(l.voidFrom(evil), `SEED=${seed} ${id}`).toBe(1);
        expect(l.stats().pending, `SEED=${seed} ${id}`).toBe(0);
        expect(l.stats().yjsPending, `SEED=${seed} ${id}`).toBe(false);
        expect(l.get('eq'), `SEED=${seed} ${id}: the forked record and the overwrites built on it are void`).toBe(
          undefined
        );
      }
      // Not frozen: the honest authors' next writes reach everyone.
      await c.write('a1', 'after-a1', 1);
      await c.write('b1', 'after-b1', 2);
      const has = () =>
        ids.every(
          (id) => c.nodes.get(id)!.tl.ledger.get('after-a1') === 1 && c.nodes.get(id)!.tl.ledger.get('after-b1') === 2
        );
      await c.net.run(has, c.net.time + 60_000);
      expect(has(), `SEED=${seed}`).toBe(true);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
      console.log(
        `sim fork SEED=${seed}: converged at ${Math.round(c.net.time)} ms (virtual), honest authors still writing`
      );
    }
  }, 120_000);
});
