// A light replica whose void head came from a light snapshot below s - 1 catches up by sync
// (void heads v2, PROTOCOL.md §6.1.2), in the seeded simulation under loss: forker E signs E#1..4
// and E#4'. Full node F holds E#1, E#4, E#4' (void from 4, canonical top 1) and exports a light
// snapshot, which light node l imports. Full node g holds E#1..4, E#4' (top 3) and honest B's write,
// which depends on E@3. l and g sync: l fetches E#2, E#3 (its void head becomes g's), then B's
// write joins its feed. Both end with the same heads root, records and digest, nothing missing.
// SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';

const lossy = { loss: 0.1, dup: 0.05, latencyMin: 2, latencyMax: 60 };

describe('sync simulation: a light replica catches up a bootstrapped void feed', () => {
  it('takes the canonical entries above its light top and the writes that depend on them', async () => {
    for (const seed of seeds(2, 9600)) {
      const F = await openLedger(memoryLocation(), 61, { compactEvery: 0 });
      const B = await openLedger(memoryLocation(), 65, { compactEvery: 0 });
      const net = F.ledger.networkId;
      const E = await keysFromByte(63);
      const e = toHex(E.publicKey);
      const chain = await makeChain(E, 4, net);
      const alt4 = await createEntry({ ...chain[3].entry, keys: E, time: chain[3].entry.time + 7 }, net);
      await F.ledger.ingest([chain[0], chain[3], alt4]);
      await B.ledger.ingest(chain.slice(0, 3));
      const b1 = await B.ledger.put('k3', 'b-overwrites');
      const loc = memoryLocation();
      const boot = await openLedger(loc, 64, { compactEvery: 0 });
      await importLedgerSnapshot(boot.ledger, await collectBytes(exportLedgerSnapshot(F.ledger, 'light')));
      await boot.ledger.close();

      const c = new Cluster({ seed, link: lossy, gossip: false, periodMs: 3000, timeoutMs: 1500 });
      const g = await c.addNode('g', 62);
      const l = await c.addNode('l', 64, { location: loc, ledger: { role: 'light' } });
      c.refreshLinks();
      expect(l.tl.ledger.voidTop(e)?.seq).toBe(1);
      await g.tl.ledger.ingest([...chain, alt4, b1]);
      await c.net.run(() => false, 2_000);
      const done = await c.settle(120_000);
      console.log(`sim voidcatch SEED=${seed}: converged ${done} at ${Math.round(c.net.time)} ms (virtual)`);
      expect(done, `SEED=${seed}`).toBe(true);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
      expect(l.tl.ledger.voidTop(e), `SEED=${seed}`).toEqual({ seq: 3, hash: toHex(chain[2].hash) });
      expect(l.tl.ledger.get('k3'), `SEED=${seed}`).toBe('b-overwrites');
      expect(l.tl.ledger.stats().stateDigest, `SEED=${seed}`).toBe(g.tl.ledger.stats().stateDigest);
      expect(l.engine.status().missing, `SEED=${seed}`).toBe(0);
    }
  }, 120_000);
});
