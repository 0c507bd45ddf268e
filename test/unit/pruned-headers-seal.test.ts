// The headers a light replica keeps of the entries it pruned (meta `pruned-headers:<author>`,
// src/lib/core/pruned-headers.ts, PROTOCOL.md §10) are checked on open like the rest of the store:
// a deleted row is found by the entry count; a row forged to claim more pruned entries (hiding
// deleted ones) or with a changed lamport, clock or hash (which the causal rules, the check of
// fetched history and a void head's top trust) does not carry this node's seal and is CorruptStoreError.
import { describe, expect, it } from 'vitest';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { makeChain, keysFromByte } from '../helpers/ledger-fixtures.js';
import { toHex } from '../../src/lib/core/bytes.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { checkSeal, sealCompaction } from '../../src/lib/core/compaction-seal.js';

const P_KEY = 71;
const N = 12;

/** Light replica P holds A#1..12, compacted, with A#1..8 pruned by its budget (headers kept). */
async function setup(): Promise<{ loc: ReturnType<typeof memoryLocation>; a: string; chain: HashedEntry[] }> {
  const loc = memoryLocation();
  const P: TestLedger = await openLedger(loc, P_KEY, { role: 'light', budgetBytes: 1, compactEvery: 0 });
  const A = await keysFromByte(72);
  const a = toHex(A.publicKey);
  const chain = await makeChain(A, N, P.ledger.networkId);
  await P.ledger.ingest(chain);
  await P.ledger.compact(); // over budget: prunes behind the compaction
  expect(P.ledger.stats().storage.pruned).toBeGreaterThan(0);
  await P.ledger.close();
  return { loc, a, chain };
}

const open = (loc: ReturnType<typeof memoryLocation>) =>
  openLedger(loc, P_KEY, { role: 'light', budgetBytes: 1, compactEvery: 0 });
const corrupt = { name: 'CorruptStoreError' };

describe('pruned headers are verified on open', () => {
  it('a light replica that pruned reopens, and keeps the headers of what it pruned', async () => {
    const { loc, a, chain } = await setup();
    const P = await open(loc);
    const pruned = N - (loc.disk.entries.get(a)?.size ?? 0);
    expect(pruned).toBeGreaterThan(0);
    expect(await P.ledger.prunedHeader(a, 1)).toEqual({ lamport: chain[0].entry.lamport, clock: chain[0].entry.clock });
    await P.ledger.close();
  });

  it('a deleted row is found (the entry count)', async () => {
    const { loc, a } = await setup();
    loc.disk.meta.delete(`pruned-headers:${a}`);
    await expect(open(loc)).rejects.toMatchObject(corrupt);
  });

  it('a row forged to claim more pruned entries, hiding deleted ones, is found', async () => {
    const { loc, a, chain } = await setup();
    const rows = loc.disk.entries.get(a)!;
    const first = Math.min(...rows.keys());
    const row = structuredClone(loc.disk.meta.get(`pruned-headers:${a}`)) as {
      from: number;
      lamport: number[];
      clock: number[];
    };
    // Entry `first` deleted, the row extended to list it as pruned (its true header).
    rows.delete(first);
    row.lamport.push(chain[first - 1].entry.lamport);
    row.clock.push(chain[first - 1].entry.clock);
    loc.disk.meta.set(`pruned-headers:${a}`, { ...row });
    await expect(open(loc)).rejects.toMatchObject(corrupt);
  });

  it('a row with a changed lamport, clock or hash is found', async () => {
    const { loc, a } = await setup();
    const key = `pruned-headers:${a}`;
    const row = structuredClone(loc.disk.meta.get(key)) as { from: number; lamport: number[]; clock: number[] };
    loc.disk.meta.set(key, { ...row, lamport: row.lamport.map((x, i) => (i === 1 ? x + 5 : x)) });
    await expect(open(loc)).rejects.toMatchObject(corrupt);
    loc.disk.meta.set(key, { ...row, clock: row.clock.map((x, i) => (i === 0 ? x + 1 : x)) });
    await expect(open(loc)).rejects.toMatchObject(corrupt);
    // The hash it keeps of a pruned entry (a void head may bind it, void-pruned-top.test.ts).
    const hashes = (row as { hashes?: Uint8Array }).hashes!.slice();
    hashes[0] ^= 1;
    loc.disk.meta.set(key, { ...row, hashes });
    await expect(open(loc)).rejects.toMatchObject(corrupt);
    loc.disk.meta.set(key, row);
    await (await open(loc)).ledger.close();
  });

  it('a store sealed before v4 has its unsealed rows sealed on open; once sealed v4, a row stripped of its mac is found', async () => {
    const { loc, a } = await setup();
    const { seed } = await keysFromByte(P_KEY);
    const key = `pruned-headers:${a}`;
    const strip = () => {
      const { mac, ...row } = loc.disk.meta.get(key) as { mac?: string };
      expect(typeof mac).toBe('string');
      loc.disk.meta.set(key, row);
    };
    // As a store from before sealed rows: rows without a mac, the compaction sealed v3.
    strip();
    const { mac: _mac, ...c } = loc.disk.compaction!;
    loc.disk.compaction = {
      ...loc.disk.compaction!,
      mac: sealCompaction(c, seed, { unverified: false, headers: undefined }, 3)
    };
    let P = await open(loc);
    expect(checkSeal(loc.disk.compaction!, seed, undefined)).toMatchObject({ version: 3 });
    expect((loc.disk.meta.get(key) as { mac?: string }).mac).toEqual(expect.any(String));
    await P.ledger.put('x', 1);
    await P.ledger.compact();
    expect(checkSeal(loc.disk.compaction!, seed, undefined)).toMatchObject({ version: 4 });
    await P.ledger.close();
    P = await open(loc);
    await P.ledger.close();
    strip();
    await expect(open(loc)).rejects.toMatchObject(corrupt);
  });
});
