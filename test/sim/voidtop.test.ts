// Void heads bind the canonical part each node holds (void.ts, PROTOCOL.md §6.1.2), in the seeded
// simulation under loss: hostile X signs seq 1..6, then two entries at seq 9 (a fork whose
// canonical part 7..8 never exists). Each of five nodes gets a different prefix of X's feed
// (none to all six) and X's fork evidence, at different times. Nodes holding different parts
// report different void heads, so sync keeps comparing until every node holds the longest
// canonical part: then all reach the same heads root, records and state digest, and nothing is
// left missing. SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';

const lossy = { loss: 0.1, dup: 0.05, latencyMin: 2, latencyMax: 60 };
const LEN = 6;
const FORK = 9;

describe('sync simulation: void feeds whose canonical part the nodes hold in part', () => {
  it('nodes that learn the fork at different times with different canonical parts converge', async () => {
    for (const seed of seeds(3, 9400)) {
      const c = new Cluster({ seed, link: lossy, gossip: false, periodMs: 3000, timeoutMs: 1500 });
      const ids = ['n0', 'n1', 'n2', 'n3', 'n4'];
      for (const [i, id] of ids.entries()) await c.addNode(id, i + 1);
      c.refreshLinks();
      const net = c.nodes.get('n0')!.tl.ledger.networkId;
      const X = await keysFromByte(240);
      const x = toHex(X.publicKey);
      const chain = await makeChain(X, LEN, net);
      const fork = await Promise.all(
        ['p', 'q'].map((t, i) =>
          createEntry(
            {
              keys: X,
              seq: FORK,
              prev: new Uint8Array(32).fill(i + 1),
              lamport: FORK,
              time: 1_700_000_000_100,
              clock: LEN + 1,
              payload: yUpdateAt(`fork-${t}`, t, clientIdOf(x), LEN)
            },
            net
          )
        )
      );
      const r = mulberry32(seed);
      const plan: string[] = [];
      for (const [i, id] of ids.entries()) {
        const part = i === 0 ? 0 : i === ids.length - 1 ? LEN : Math.floor(r() * (LEN + 1));
        const atPart = Math.floor(r() * 5000);
        const atFork = Math.floor(r() * 8000);
        const l = c.nodes.get(id)!.tl.ledger;
        c.net.schedule(atPart, () => l.ingest(chain.slice(0, part)));
        c.net.schedule(atFork, () => l.ingest(fork));
        // A node writes too, so honest feeds travel alongside.
        c.net.schedule(Math.floor(r() * 8000), () => c.write(id, `w-${id}`, i));
        plan.push(`${id}: X#1..${part} at ${atPart} ms, fork at ${atFork} ms`);
      }
      await c.net.run(() => false, 8_000);
      const done = await c.settle(120_000);
      const roots = new Set(ids.map((id) => headsRoot(c.nodes.get(id)!.tl.ledger.heads())));
      const digests = new Set(ids.map((id) => c.nodes.get(id)!.tl.ledger.stats().stateDigest));
      console.log(
        `sim voidtop SEED=${seed}: ${plan.join('; ')}; converged ${done} at ${Math.round(c.net.time)} ms (virtual), ${roots.size} roots, ${digests.size} digests`
      );
      expect(done, `SEED=${seed}`).toBe(true);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
      expect(digests.size, `SEED=${seed}`).toBe(1);
      for (const id of ids) {
        const l = c.nodes.get(id)!.tl.ledger;
        expect(l.voidFrom(x), `SEED=${seed} ${id}`).toBe(FORK);
        expect(l.voidTop(x), `SEED=${seed} ${id}`).toEqual({ seq: LEN, hash: toHex(chain[LEN - 1].hash) });
        expect(c.nodes.get(id)!.engine.status().missing, `SEED=${seed} ${id}`).toBe(0);
      }
    }
  }, 180_000);
});
