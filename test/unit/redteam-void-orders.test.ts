// Red team (PROTOCOL.md §6.1): a forker signs variants at two seqs of one feed (a lower fork that
// moves the void down), a child on a variant's branch, and an honest node writes on top of the
// forked items (an overwrite of a forked record, and records of its own). The same entries are
// delivered one by one in many orders to fresh nodes that compact every 2 entries (so forks land
// below compactions), full and light; then each node reopens. Every node must end with the same
// heads, records and digest, nothing pending, and the same again after the reopen.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { memoryLocation, mulberry, openLedger, shuffle, ledgerView } from '../helpers/ledger-nodes.js';

const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) : Date.now() % 2 ** 31;
console.log(`redteam-void-orders SEED=${SEED}`);

function view(l: Ledger) {
  return { ...ledgerView(l), entries: l.stats().entries };
}

/** Evil's chain 1..6, twins at seq 4 and seq 2, a child of the seq-2 twin; honest writes on top. */
async function world() {
  const w = await openLedger(memoryLocation(), 41, { compactEvery: 0 });
  const net = w.ledger.networkId;
  const evil = await keysFromByte(92);
  const chain = await makeChain(evil, 6, net);
  const twin = async (h: HashedEntry, dt: number, prev = h.entry.prev) =>
    createEntry({ ...h.entry, keys: evil, prev, time: h.entry.time + dt }, net);
  const twin4 = await twin(chain[3], 7);
  const twin2 = await twin(chain[1], 9);
  const child3 = await twin(chain[2], 0, twin2.hash); // seq 3 on the seq-2 twin's branch
  // The honest node saw the canonical chain and wrote on it: an overwrite of evil's k3 (void on
  // every node once the fork at 2 is known) and records of its own.
  await w.ledger.ingest(chain);
  await w.ledger.put('k3', 'overwritten');
  await w.ledger.put('mine', 1);
  await w.ledger.put('k1', 'also-overwritten'); // k1 is evil's seq 1: below every fork, stays
  const honest = w.log.filter((h) => toHex(h.entry.author) === w.ledger.author);
  await w.ledger.close();
  return [...chain, twin4, twin2, child3, ...honest];
}

describe(`redteam: forks at two seqs, below compactions, in any order (SEED=${SEED})`, () => {
  it('every order gives the same heads, records and digest, before and after a reopen', async () => {
    const items = await world();
    const rand = mulberry(SEED);
    let ref: ReturnType<typeof view> | undefined;
    for (let run = 0; run < 12; run++) {
      const light = run % 3 === 2;
      const opts = light ? { compactEvery: 2, role: 'light' as const, budgetBytes: 600 } : { compactEvery: 2 };
      const loc = memoryLocation();
      const node = await openLedger(loc, 50 + run, opts);
      const order = run === 0 ? items : shuffle(items, rand);
      for (const h of order) {
        const r = await node.ledger.ingest([h]);
        for (const x of r.rejected) expect(x.code, `${x.code}: ${x.message}`).not.toBe('causality');
      }
      await node.ledger.ingest(items); // re-offered, as sync would
      const v = view(node.ledger);
      expect(node.ledger.voidFrom(toHex((await keysFromByte(92)).publicKey))).toBe(2);
      ref ??= v;
      expect({ run, light, ...v }).toEqual({ run, light, ...ref });
      expect(v.pending).toBe(0);
      await node.ledger.close();
      const again = await openLedger(loc, 50 + run, opts);
      expect({ run, light, reopened: true, ...view(again.ledger) }).toEqual({ run, light, reopened: true, ...ref });
      await again.ledger.close();
    }
    expect(JSON.parse(ref!.records).map((r: { key: string }) => r.key)).toEqual(['k1', 'mine']);
  }, 60_000);
});
