// A bootstrapped void feed after a compaction (PROTOCOL.md §6.1.2, §10; red team 6d-4): open reads
// only the stored entries above the top j the compaction's void head v(s, j) binds, found with the
// meta hint `void-compacted-tops` and checked against the sealed head (entry j's hash). A hint that
// does not hold costs a walk from k0, never trust; what the store holds is still checked: a changed
// or missing entry j, a deleted entry below it, a changed entry above it, a row forged at or below
// k0 are CorruptStoreError.
import { describe, expect, it } from 'vitest';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { COMPACTED_TOPS_META } from '../../src/lib/core/bootstrapped-voids.js';
import type { LedgerStore } from '../../src/lib/core/storage.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { ledgerView, memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';

const L_KEY = 64;
const N = 10; // E#1..10 canonical, two variants of E#11: void from 11

interface Setup {
  loc: ReturnType<typeof memoryLocation>;
  G: TestLedger;
  E: IdentityKeys;
  e: string;
  chain: HashedEntry[];
}

/**
 * Full node F holds E#1 and the fork pair at 11 (k0 = 1); light L imports F's snapshot, takes
 * E#2..6, compacts (j = 6), takes E#7, E#8 and closes. Full node G holds all of it.
 */
async function setup(): Promise<Setup> {
  const F = await openLedger(memoryLocation(), 61, { compactEvery: 0 });
  const G = await openLedger(memoryLocation(), 62, { compactEvery: 0 });
  const net = F.ledger.networkId;
  const E = await keysFromByte(63);
  const e = toHex(E.publicKey);
  const chain = await makeChain(E, N + 1, net);
  const alt = await createEntry({ ...chain[N].entry, keys: E, time: chain[N].entry.time + 7 }, net);
  await F.ledger.ingest([chain[0], chain[N], alt]);
  await G.ledger.ingest([...chain.slice(0, 8), chain[N], alt]);
  const loc = memoryLocation();
  const L = await openLedger(loc, L_KEY, { compactEvery: 0 });
  await importLedgerSnapshot(L.ledger, await collectBytes(exportLedgerSnapshot(F.ledger, 'light')));
  await L.ledger.ingest(chain.slice(1, 6));
  await L.ledger.compact();
  await L.ledger.ingest(chain.slice(6, 8));
  expect(L.ledger.voidTop(e)?.seq).toBe(8);
  await L.ledger.close();
  return { loc, G, E, e, chain };
}

/** Opens L on a store that counts the rows of `e` it returns (getRange and getEntry). */
async function openCounting(loc: Setup['loc'], e: string): Promise<{ L: TestLedger; rows: () => number }> {
  const store: LedgerStore = await loc.open();
  let rows = 0;
  const getRange = store.getRange.bind(store);
  const getEntry = store.getEntry.bind(store);
  store.getRange = async (author, from, to, limit) => {
    const r = await getRange(author, from, to, limit);
    if (author === e) rows += r.length;
    return r;
  };
  store.getEntry = async (author, seq) => {
    const r = await getEntry(author, seq);
    if (author === e && r !== undefined) rows++;
    return r;
  };
  const L = await openLedger(loc, L_KEY, { compactEvery: 0, store });
  return { L, rows: () => rows };
}

describe('a bootstrapped void feed reopens from its compacted top', () => {
  it('reads entry j and the entries above it only, and reaches the same state as a full node', async () => {
    const { loc, G, e } = await setup();
    expect(loc.disk.meta.get(COMPACTED_TOPS_META)).toEqual([{ author: e, seq: 6 }]);
    const { L, rows } = await openCounting(loc, e);
    expect(rows()).toBe(3); // entry 6 (the compacted top), 7 and 8
    expect(L.ledger.voidTop(e)?.seq).toBe(8);
    expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
  });

  it('a hint that does not hold costs a walk from k0, not trust; the walk rewrites it', async () => {
    const { loc, G, e } = await setup();
    for (const hint of [[{ author: e, seq: 3 }], [{ author: e, seq: 999 }], 'x', [{ author: e, seq: -1 }]]) {
      loc.disk.meta.set(COMPACTED_TOPS_META, hint);
      const { L, rows } = await openCounting(loc, e);
      expect(rows()).toBeGreaterThanOrEqual(7); // entries 2..8
      expect(L.ledger.voidTop(e)?.seq).toBe(8);
      expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
      await L.ledger.close();
      expect(loc.disk.meta.get(COMPACTED_TOPS_META)).toEqual([{ author: e, seq: 6 }]);
    }
    // Gone (a crash between the compaction and the hint's write): the same.
    loc.disk.meta.delete(COMPACTED_TOPS_META);
    const { L } = await openCounting(loc, e);
    expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
  });

  it('a failed hint write after the compaction leaves a store that opens', async () => {
    const { loc, G, e, chain } = await setup();
    let L = await openLedger(loc, L_KEY, { compactEvery: 0, faults: { failOnTable: 'meta' } });
    await L.ledger.ingest([chain[8]]);
    await L.ledger.compact(); // the compaction is stored, its hint is not
    await L.ledger.close();
    expect(loc.disk.meta.get(COMPACTED_TOPS_META)).toEqual([{ author: e, seq: 6 }]);
    await G.ledger.ingest([chain[8]]);
    L = await openLedger(loc, L_KEY, { compactEvery: 0 });
    expect(L.ledger.voidTop(e)?.seq).toBe(9);
    expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
  });

  it('finds what was changed, deleted or forged in the store, behind the compacted top too', async () => {
    const { loc, e, chain } = await setup();
    const rows = loc.disk.entries.get(e)!;
    const open = () => openLedger(loc, L_KEY, { compactEvery: 0 });
    const corrupt = (text: string) => ({ name: 'CorruptStoreError', message: expect.stringContaining(text) });
    const [r4, r6, r7] = [rows.get(4)!, rows.get(6)!, rows.get(7)!];
    // Entry j (the compacted top) changed: the hint's entry fails, the walk finds it.
    rows.set(6, { ...r6, lamport: r6.lamport + 1 });
    await expect(open()).rejects.toMatchObject(corrupt('stored hash does not match'));
    // Entry j gone: the walk finds the gap.
    rows.delete(6);
    await expect(open()).rejects.toMatchObject(corrupt('is not the next one'));
    rows.set(6, r6);
    // An entry below j deleted: the count.
    rows.delete(4);
    await expect(open()).rejects.toMatchObject(corrupt('the store lacks 1 entries'));
    rows.set(4, r4);
    // An entry above j changed.
    rows.set(7, { ...r7, lamport: r7.lamport + 1 });
    await expect(open()).rejects.toMatchObject(corrupt('stored hash does not match'));
    rows.set(7, r7);
    // A row at or below k0 (never held by a bootstrapped feed).
    rows.set(1, { ...r4, seq: 1, hash: chain[0].hash });
    await expect(open()).rejects.toMatchObject(corrupt('at or below a bootstrapped void top'));
    rows.delete(1);
    await (await open()).ledger.close();
  });

  it('a fork above the compacted top, after a restart, ends where a full node does', async () => {
    const { loc, G, E, e, chain } = await setup();
    const alt8 = await createEntry({ ...chain[7].entry, keys: E, time: chain[7].entry.time + 9 }, G.ledger.networkId);
    let L = await openLedger(loc, L_KEY, { compactEvery: 0 });
    await L.ledger.ingest([alt8]);
    await G.ledger.ingest([alt8]);
    expect([L.ledger.voidFrom(e), L.ledger.voidTop(e)?.seq]).toEqual([8, 7]);
    expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
    await L.ledger.close();
    L = await openLedger(loc, L_KEY, { compactEvery: 0 });
    expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
  });
});
