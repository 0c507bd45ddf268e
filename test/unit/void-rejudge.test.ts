// Remembered causal refusals judged again after a void (rejudge.ts, Ledger markDue/takeDue,
// PROTOCOL.md §6.1): a bounded slice in the ingest that found the fork, the rest by a budgeted
// timer, never lost; and the closure over the remembered set (an entry refused for resting on
// another refused entry is judged again with it).
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { generateKeys } from '../../src/lib/core/ed25519.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { LEDGER_REJUDGE_PER_STEP } from '../../src/lib/core/constants.js';
import { affectedRefusals } from '../../src/lib/core/rejudge.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

/** J's seq 2, linked, depending on `dep`, with a lamport 5 above what the rules expect: refused until `dep` is void. */
async function refusedSecond(J: IdentityKeys, j1: HashedEntry, dep: HashedEntry, net: Uint8Array) {
  return createEntry(
    {
      keys: J,
      seq: 2,
      prev: j1.hash,
      lamport: Math.max(j1.entry.lamport, dep.entry.lamport) + 1 + 5,
      time: j1.entry.time + 1,
      clock: 2,
      payload: yUpdateAt('x', 1, clientIdOf(toHex(J.publicKey)), 1),
      deps: [{ author: toHex(dep.entry.author), seq: dep.entry.seq }]
    },
    net
  );
}

const heldAt = async (l: Ledger, h: HashedEntry) =>
  (await l.entryHashes(toHex(h.entry.author), h.entry.seq)).includes(toHex(h.hash));

async function until(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A stand-in remembered entry (only author, seq and deps matter to affectedRefusals). */
function fake(authorByte: number, seq: number, deps: [string, number][]): HashedEntry {
  const author = new Uint8Array(32).fill(authorByte);
  return { hash: author, entry: { author, seq, deps: deps.map(([a, s]) => ({ author: a, seq: s })) } } as never;
}
const hex = (b: number) => toHex(new Uint8Array(32).fill(b));

describe('affectedRefusals', () => {
  const X = hex(1);
  const Y = hex(2);
  it('takes a dependency at or above the fork seq, not below', () => {
    const below = fake(10, 2, [[X, 7]]);
    const at = fake(11, 2, [[X, 8]]);
    expect(affectedRefusals([below, at], { from: new Map([[X, 8]]) })).toEqual([at]);
  });
  it('takes entries naming or written by an author whose items turned GC; a single void author only at its fork', () => {
    const onY = fake(10, 2, [[Y, 1]]);
    const byY = fake(2, 5, []);
    const onXLow = fake(11, 2, [[X, 1]]);
    const gc = new Set([X, Y]);
    expect(affectedRefusals([onY, byY, onXLow], { from: new Map([[X, 8]]), gc })).toEqual([onY, byY]);
    // Two voids at once: X's items below its fork may build on Y's voided ones.
    const two = affectedRefusals([onY, onXLow], {
      from: new Map([
        [X, 8],
        [Y, 3]
      ]),
      gc
    });
    expect(two).toContain(onXLow);
  });
  it('closes over the remembered set: what follows or depends on a taken entry', () => {
    const j2 = fake(20, 2, [[X, 9]]);
    const j3 = fake(20, 3, []); // follows J#2 in its feed
    const k1 = fake(21, 1, [[hex(20), 2]]); // depends on J@2
    const k0 = fake(22, 1, [[hex(20), 1]]); // below J#2: unchanged
    const out = affectedRefusals([k1, k0, j3, j2], { from: new Map([[X, 8]]) });
    expect(out[0]).toBe(j2); // causes first
    expect(new Set(out)).toEqual(new Set([j2, j3, k1]));
  });
});

describe('void re-judging of remembered refusals', () => {
  it('judges a slice in the fork ingest and the rest by the timer, without a flush', async () => {
    const N = await openLedger(memoryLocation(), 131, { compactEvery: 0 });
    const net = N.ledger.networkId;
    const X = await keysFromByte(132);
    const chain = await makeChain(X, 12, net);
    await N.ledger.ingest(chain);
    const n = LEDGER_REJUDGE_PER_STEP + 8;
    const batch: HashedEntry[] = [];
    const seconds: HashedEntry[] = [];
    for (let i = 0; i < n; i++) {
      const J = await generateKeys();
      const [j1] = await makeChain(J, 1, net);
      const j2 = await refusedSecond(J, j1, chain[11], net);
      batch.push(j1, j2);
      seconds.push(j2);
    }
    const r = await N.ledger.ingest(batch);
    expect(r.rejected).toHaveLength(n);
    const alt = await createEntry({ ...chain[11].entry, keys: X, time: chain[11].entry.time + 99 }, net);
    await N.ledger.ingest([alt]);
    const s = N.ledger.stats();
    expect(s.rejudged).toBe(LEDGER_REJUDGE_PER_STEP);
    expect(s.rejudgeDue).toBe(n - LEDGER_REJUDGE_PER_STEP);
    let accepted = 0;
    for (const j2 of seconds) if (await heldAt(N.ledger, j2)) accepted++;
    expect(accepted).toBe(LEDGER_REJUDGE_PER_STEP);
    // The timer takes the rest (no flushVoids).
    await until(async () => N.ledger.stats().rejudgeDue === 0);
    await N.ledger.idle();
    for (const j2 of seconds) expect(await heldAt(N.ledger, j2)).toBe(true);
    expect(N.ledger.stats().rejudged).toBe(n);
    await N.ledger.close();
  }, 60_000);

  it('an entry refused for resting on a refused entry is judged again with it (closure over the remembered set)', async () => {
    const N = await openLedger(memoryLocation(), 133, { compactEvery: 0 });
    const net = N.ledger.networkId;
    const X = await keysFromByte(134);
    const chain = await makeChain(X, 12, net);
    await N.ledger.ingest(chain);
    const J = await keysFromByte(135);
    const K = await keysFromByte(136);
    const [j1] = await makeChain(J, 1, net);
    const j2 = await refusedSecond(J, j1, chain[11], net);
    // K#1 depends on J@2 only (no dependency on X): refused with J#2 in the same batch.
    const k1 = await createEntry(
      {
        keys: K,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: j2.entry.lamport + 1,
        time: j2.entry.time + 1,
        clock: 1,
        payload: yUpdateAt('y', 1, clientIdOf(toHex(K.publicKey)), 0),
        deps: [{ author: toHex(J.publicKey), seq: 2 }]
      },
      net
    );
    const r = await N.ledger.ingest([j1, j2, k1]);
    expect(r.rejected.map((x) => x.seq)).toEqual([2, 1]);
    const alt = await createEntry({ ...chain[11].entry, keys: X, time: chain[11].entry.time + 99 }, net);
    await N.ledger.ingest([alt]);
    await N.ledger.flushVoids();
    expect(await heldAt(N.ledger, j2)).toBe(true);
    expect(await heldAt(N.ledger, k1)).toBe(true);
    await N.ledger.close();
  }, 60_000);
});
