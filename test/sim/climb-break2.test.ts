// A liar whose claims climb (issue 7 red team, round 2): the "refused" fix ignores a claim a peer
// answered "nothing" for only until the peer claims more. This liar syncs honestly, then every
// 500 ms raises its head for each honest author by one (fake hashes) and answers nothing past
// what it really holds. The honest nodes must converge, keep writing, never believe a fork, ask
// the liar about once per claim per exchange (not in a loop), and once it leaves report nothing
// missing. SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';

const link = { loss: 0.02, dup: 0.02, latencyMin: 2, latencyMax: 40 };
const PERIOD_MS = 3000;

describe('sync red team 2: claims that climb every exchange', () => {
  it('honest nodes converge, believe no fork, ask the liar a bounded number of times, and report nothing missing once it leaves', async () => {
    for (const seed of seeds(2, 9400)) {
      const c = new Cluster({ seed, link, gossip: true, periodMs: PERIOD_MS });
      const honest = [await c.addNode('a', 1), await c.addNode('b', 2), await c.addNode('c', 3)];
      const gets = { n: 0, fake: 0 };
      let push: ((hs: FeedHead[]) => void) | undefined;
      const real = new Map<string, number>();
      await c.addNode('liar', 66, {
        honest: false,
        wrapReplica: (base: SyncReplica): SyncReplica => ({
          ...base,
          onHeadsChanged(cb) {
            push = cb;
            return base.onHeadsChanged((hs, complete) => {
              for (const h of hs) real.set(h.author, Math.max(real.get(h.author) ?? 0, h.seq));
              cb(hs, complete);
            });
          },
          async getRange(author, from, to, maxBytes) {
            gets.n++;
            if (from > (real.get(author) ?? 0)) gets.fake++;
            return base.getRange(author, from, to, maxBytes);
          }
        })
      });
      c.refreshLinks();
      const authors = honest.map((n) => n.tl.ledger.author);
      let k = 0;
      const climb = (): void => {
        k++;
        push?.(authors.map((a) => ({ author: a, seq: (real.get(a) ?? 0) + k, hash: 'ee'.repeat(32) })));
        c.net.schedule(500, climb);
      };
      c.net.schedule(500, climb);
      for (let i = 0; i < 60; i++) c.net.schedule(i * 100, () => c.write(['a', 'b', 'c'][i % 3], `k${i % 7}`, i));
      await c.net.run(() => false, 10_000);
      await c.net.run(() => compareHonest(c).length === 0, c.net.time + 30_000);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
      const before = gets.fake;
      await c.net.run(() => false, c.net.time + 60_000);
      const asked = gets.fake - before;
      // 3 honest nodes, 3 claimed authors, one exchange per period (plus jitter) each way (~360).
      const bound = 1.5 * 3 * 3 * 2 * (60_000 / PERIOD_MS); // 1.5: retries after lost steps
      const missing = honest.map((n) => n.engine.status().missing);
      console.log(
        `SEED=${seed}: liar asked ${asked} times for seqs it lacks in 60 s (bound ${bound}), claims now +${k}; missing while it is connected ${missing}`
      );
      expect(asked, `SEED=${seed}`).toBeLessThanOrEqual(bound);
      for (const n of honest) {
        expect(n.tl.ledger.forks(), `SEED=${seed} ${n.id}`).toEqual([]);
        expect(n.tl.ledger.stats({ digest: false }).pending, `SEED=${seed} ${n.id}`).toBe(0);
      }
      await c.write('c', 'late', 1);
      await c.net.run(() => honest.every((n) => n.tl.ledger.get('late') === 1), c.net.time + 30_000);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
      c.net.offline.add('liar');
      c.refreshLinks();
      await c.net.run(() => honest.every((n) => n.engine.status().missing === 0), c.net.time + 60_000);
      expect(
        honest.map((n) => n.engine.status().missing),
        `SEED=${seed}`
      ).toEqual([0, 0, 0]);
    }
  }, 60_000);
});
