// Red team 6e (refused-variants.ts, stored since today; rejudge.ts): a causal refusal that a void
// made acceptable is judged again and stored, but it stayed in RefusedVariants, in memory and as
// a stored meta row, for good: it kept its author's fair share and a slot of the 1,024 / 4 MiB,
// was re-verified at every open, and scanned by every later void's markDue. Its place is no
// longer a refused variant (a second variant at its seq now meets the stored entry), so the
// table's eviction decisions (which depend on shares) differ between a node that accepted the
// entry directly and one that accepted it after refusing it: the same entries, a different
// memory of refused variants, so under a flood a different fork verdict (see 6d-2).
//
// Input: node A ingests X#1..12, 40 junk keys J_i with J_i#1 and a causal refusal J_i#2 (deps
//   [X@12], acceptable once X@12 is void), then X's second variant of seq 12; flushVoids().
// Expected: all 40 J_i#2 stored, RefusedVariants empty, no `refused-variant:<slot>` row left.
// Was (measured): 40 stored, and still 40 remembered (40 rows), also after a reopen.
// Severity: low (capacity and determinism of the bounded memory; no wrong verdict by itself).
// Fixed: an entry stored by an ingest is forgotten as a refused variant (RefusedVariants.forget:
//   its share and slot given back, its row deleted by the same flush).
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { causalRefusals, keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const JUNK = 40;
const remembered = (l: Ledger) =>
  (l as unknown as { refusedVariants: { size: { count: number } } }).refusedVariants.size.count;

describe('redteam6e: a refusal accepted after a void', () => {
  it('Fixed: is no longer remembered (nor stored) as a refused variant', async () => {
    const loc = memoryLocation();
    let A = await openLedger(loc, 121, { compactEvery: 0 });
    const net = A.ledger.networkId;
    const X = await keysFromByte(122);
    const chain = await makeChain(X, 12, net);
    const junk = await causalRefusals(JUNK, { author: toHex(X.publicKey), seq: 12 }, net);
    await A.ledger.ingest(chain);
    await A.ledger.ingest(junk);
    expect(remembered(A.ledger)).toBe(JUNK);
    const alt = await createEntry({ ...chain[11].entry, keys: X, time: chain[11].entry.time + 99 }, net);
    await A.ledger.ingest([alt]);
    await A.ledger.flushVoids();
    for (const j of junk)
      expect(await A.ledger.entryHashes(toHex(j.entry.author), j.entry.seq)).toEqual([toHex(j.hash)]);
    expect(remembered(A.ledger)).toBe(0);
    let rows = 0;
    for (let slot = 0; slot < JUNK; slot++)
      if ((await A.store.getMeta(`refused-variant:${slot}`)) !== undefined) rows++;
    expect(rows).toBe(0);
    await A.ledger.close();
    A = await openLedger(loc, 121, { compactEvery: 0 });
    expect(remembered(A.ledger)).toBe(0);
    await A.ledger.close();
  });
});
