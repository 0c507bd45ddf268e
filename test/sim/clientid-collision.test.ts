// clientID collisions (PROTOCOL.md §6.2) in the seeded simulation: keys P and Q share one Yjs
// clientID (overrideClientIds; a real pair costs ~2^26 key generations). Each half of a 3+3
// partition sees one of them first (P on the a-side, Q on the b-side), and an honest node on each
// side overwrites the colliding record. Under a first-seen rule the halves would keep different
// owners for good; here, after healing, every node holds the evidence, P and Q are void from
// seq 1 everywhere, the overwrites built on them are void with them, and heads roots, records and
// conflicts are equal. The honest authors keep writing.
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { clientIdOf, overrideClientIds } from '../../src/lib/core/state/client-id.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { Cluster } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';

const lossy = { loss: 0.05, dup: 0.05, latencyMin: 2, latencyMax: 60 };

/** The entries of a fresh author (key byte `b`) writing `cc` = `v` and one record of its own. */
async function writerEntries(b: number, v: string): Promise<{ hex: string; entries: HashedEntry[] }> {
  const l = await openLedger(memoryLocation(), b, { compactEvery: 0 });
  await l.ledger.put('cc', v);
  await l.ledger.put(`own-${v}`, 1);
  await l.ledger.close();
  return { hex: l.ledger.author, entries: l.log };
}

describe('sync simulation: two keys with one clientID', () => {
  it('halves that saw different keys first converge once healed: both feeds void from seq 1', async () => {
    const pHex = toHex((await keysFromByte(97)).publicKey);
    const qHex = toHex((await keysFromByte(98)).publicKey);
    const restore = overrideClientIds((author, real) => (author === qHex ? clientIdOf(pHex) : real));
    try {
      expect(clientIdOf(qHex)).toBe(clientIdOf(pHex));
      const p = await writerEntries(97, 'P');
      const q = await writerEntries(98, 'Q');
      for (const seed of seeds(3, 9100)) {
        const c = new Cluster({ seed, link: lossy, gossip: true });
        const ids = ['a0', 'a1', 'a2', 'b0', 'b1', 'b2'];
        for (const [i, id] of ids.entries()) await c.addNode(id, i + 1);
        c.net.partition([ids.slice(0, 3), ids.slice(3)]);
        c.refreshLinks();
        await c.nodes.get('a0')!.tl.ledger.ingest(p.entries.map((h) => encodeEntry(h.entry)));
        await c.nodes.get('b0')!.tl.ledger.ingest(q.entries.map((h) => encodeEntry(h.entry)));
        const saw = (id: string) => c.nodes.get(id)!.tl.ledger.get('cc') !== undefined;
        await c.net.run(() => ids.every(saw), 20_000);
        expect(ids.every(saw), `SEED=${seed}: each side saw its key`).toBe(true);
        expect(c.nodes.get('a1')!.tl.ledger.get('cc')).toBe('P');
        expect(c.nodes.get('b1')!.tl.ledger.get('cc')).toBe('Q');
        await c.write('a1', 'cc', 'honest-a1');
        await c.write('b1', 'cc', 'honest-b1');
        await c.net.run(() => false, c.net.time + 3000);
        c.net.heal();
        c.refreshLinks();
        await c.net.run(() => compareHonest(c).length === 0, c.net.time + 60_000);
        expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
        for (const id of ids) {
          const l = c.nodes.get(id)!.tl.ledger;
          expect(l.voidFrom(p.hex), `SEED=${seed} ${id}`).toBe(1);
          expect(l.voidFrom(q.hex), `SEED=${seed} ${id}`).toBe(1);
          expect(l.stats().pending, `SEED=${seed} ${id}`).toBe(0);
          expect(l.stats().yjsPending, `SEED=${seed} ${id}`).toBe(false);
          expect(l.get('cc'), `SEED=${seed} ${id}: the colliding record and the overwrites on it are void`).toBe(
            undefined
          );
          expect(l.get('own-P'), `SEED=${seed} ${id}`).toBe(undefined);
          expect(l.get('own-Q'), `SEED=${seed} ${id}`).toBe(undefined);
        }
        await c.write('a1', 'after-a1', 1);
        await c.write('b1', 'after-b1', 2);
        const has = () =>
          ids.every(
            (id) => c.nodes.get(id)!.tl.ledger.get('after-a1') === 1 && c.nodes.get(id)!.tl.ledger.get('after-b1') === 2
          );
        await c.net.run(has, c.net.time + 60_000);
        expect(has(), `SEED=${seed}`).toBe(true);
        expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
        console.log(`sim clientID collision SEED=${seed}: converged at ${Math.round(c.net.time)} ms (virtual)`);
      }
    } finally {
      restore();
    }
  }, 180_000);
});
