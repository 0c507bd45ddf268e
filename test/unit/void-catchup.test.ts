// A bootstrapped void feed catches up (void heads v2, PROTOCOL.md §6.1.2, §10): a light replica
// whose void head came from a light snapshot with canonical top k0 < s - 1 takes the canonical
// entries k0 + 1 .. s - 1 in order. Each is stored in ONE write (store.ingest: below the void head,
// which stays); the stored void head row and the light head headers keep the bootstrap's k0, and
// replay walks the stored entries above it (verified, linked from the header's topHash) to find k.
// So a crash at any point leaves a store that opens, and rows forged into it are found on open.
import { describe, expect, it } from 'vitest';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { PrunedHeaders } from '../../src/lib/core/pruned-headers.js';
import { FeedSet } from '../../src/lib/core/feeds.js';
import { voidHead } from '../../src/lib/core/void.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { genesis } from '../helpers/ledger-nodes.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import {
  dexieLocation,
  ledgerView,
  memoryLocation,
  openLedger,
  type Location,
  type TestLedger
} from '../helpers/ledger-nodes.js';

const L_KEY = 44;

/**
 * Forker E signs E#1..4 and a second E#4'. Full node F holds E#1, E#4, E#4' (void from 4, k = 1);
 * full node G holds all (k = 3). Returns F's light snapshot, G and E's entries.
 */
async function scenario(): Promise<{ snap: Uint8Array; G: TestLedger; e: string; chain: HashedEntry[] }> {
  const F = await openLedger(memoryLocation(), 41, { compactEvery: 0 });
  const G = await openLedger(memoryLocation(), 42, { compactEvery: 0 });
  const E = await keysFromByte(43);
  const chain = await makeChain(E, 4, F.ledger.networkId);
  const alt4 = await createEntry({ ...chain[3].entry, keys: E, time: chain[3].entry.time + 7 }, F.ledger.networkId);
  await F.ledger.ingest([chain[0], chain[3], alt4]);
  await G.ledger.ingest([...chain, alt4]);
  const e = toHex(E.publicKey);
  expect([F.ledger.voidTop(e)?.seq, G.ledger.voidTop(e)?.seq]).toEqual([1, 3]);
  const snap = await collectBytes(exportLedgerSnapshot(F.ledger, 'light'));
  return { snap, G, e, chain };
}

async function bootstrapped(loc: Location, snap: Uint8Array): Promise<TestLedger> {
  const L = await openLedger(loc, L_KEY, { compactEvery: 0 });
  await importLedgerSnapshot(L.ledger, snap);
  return L;
}

describe('a bootstrapped void feed takes its canonical entries above the light top', () => {
  for (const kind of ['memory', 'dexie'] as const) {
    it(`keeps them across restarts and compactions (${kind})`, async () => {
      const { snap, G, e, chain } = await scenario();
      const loc = kind === 'memory' ? memoryLocation() : dexieLocation();
      let L = await bootstrapped(loc, snap);
      // Gossip forwards entry k0 + 1: its prev is the bootstrapped top's hash (chain-links.ts).
      expect(await L.ledger.entryHashes(e, 1)).toEqual([toHex(chain[0].hash)]);
      expect((await L.ledger.ingest([chain[1]])).dropped).toBe(0);
      expect(L.ledger.voidTop(e)?.seq).toBe(2);
      await L.ledger.close();
      // Reopened with entry 2 stored above the bootstrap and no compaction since.
      L = await openLedger(loc, L_KEY, { compactEvery: 0 });
      expect(L.ledger.voidTop(e)).toEqual({ seq: 2, hash: toHex(chain[1].hash) });
      await L.ledger.ingest([chain[2]]);
      await L.ledger.compact();
      await L.ledger.close();
      L = await openLedger(loc, L_KEY, { compactEvery: 0 });
      expect(L.ledger.voidTop(e)?.seq).toBe(3);
      expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
      // A duplicate of a caught-up entry is a duplicate; one below the bootstrap is pruned history.
      const r = await L.ledger.ingest([chain[2], chain[0]]);
      expect([r.duplicates, r.dropped]).toEqual([1, 1]);
      await L.ledger.close();
    });
  }

  it('exports a light snapshot of its caught-up top that another node imports', async () => {
    const { snap, G, e, chain } = await scenario();
    const L = await bootstrapped(memoryLocation(), snap);
    await L.ledger.ingest([chain[1], chain[2]]);
    await L.ledger.compact();
    const M = await openLedger(memoryLocation(), 46, { compactEvery: 0 });
    await importLedgerSnapshot(M.ledger, await collectBytes(exportLedgerSnapshot(L.ledger, 'light')));
    expect(M.ledger.voidTop(e)?.seq).toBe(3);
    expect(ledgerView(M.ledger)).toEqual(ledgerView(G.ledger));
  });

  it('a failed write (crash) at either step leaves a store that opens at what was durable', async () => {
    const { snap, G, e, chain } = await scenario();
    const loc = memoryLocation();
    (await bootstrapped(loc, snap)).ledger.close();
    // The entry's write fails: nothing of it stays, the bootstrap's top holds.
    let L = await openLedger(loc, L_KEY, { compactEvery: 0, faults: { failOnTable: 'entries' } });
    await expect(L.ledger.ingest([chain[1]])).rejects.toThrow();
    await L.ledger.close().catch(() => undefined);
    L = await openLedger(loc, L_KEY, { compactEvery: 0 });
    expect(L.ledger.voidTop(e)?.seq).toBe(1);
    await L.ledger.close();
    // The entry is durable, the compaction after it fails: replay applies it on the old compaction.
    L = await openLedger(loc, L_KEY, { compactEvery: 0, faults: { failOnTable: 'compaction' } });
    await L.ledger.ingest([chain[1], chain[2]]);
    await expect(L.ledger.compact()).rejects.toThrow();
    await L.ledger.close().catch(() => undefined);
    L = await openLedger(loc, L_KEY, { compactEvery: 0 });
    expect(L.ledger.voidTop(e)?.seq).toBe(3);
    expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
  });

  it('finds rows forged into or deleted from the entries above the bootstrap', async () => {
    const { snap, e, chain } = await scenario();
    const open = () => openLedger(loc, L_KEY, { compactEvery: 0 });
    const loc = memoryLocation();
    const L = await bootstrapped(loc, snap);
    await L.ledger.ingest([chain[1], chain[2]]);
    await L.ledger.close();
    const rows = loc.disk.entries.get(e)!;
    const [r2, r3] = [rows.get(2)!, rows.get(3)!];
    // A gap: entry 2 gone (entry 3 then does not follow the header's top).
    rows.delete(2);
    await expect(open()).rejects.toMatchObject({
      name: 'CorruptStoreError',
      message: expect.stringContaining('is not the next one')
    });
    // A changed byte in entry 3.
    rows.set(2, r2);
    rows.set(3, { ...r3, lamport: r3.lamport + 1 });
    await expect(open()).rejects.toMatchObject({
      name: 'CorruptStoreError',
      message: expect.stringContaining('stored hash does not match')
    });
    rows.set(3, r3);
    const ok = await open();
    await ok.ledger.compact();
    await ok.ledger.close();
    // Behind a compaction that binds top 3: both rows gone is found too (not only a count).
    rows.delete(2);
    rows.delete(3);
    await expect(open()).rejects.toMatchObject({
      name: 'CorruptStoreError',
      message: expect.stringContaining('binds a void top this store does not hold')
    });
  });

  it('a light replica that pruned entry s - 1 before a lower fork binds it from entry s (k = s - 1)', async () => {
    const E = await keysFromByte(53);
    const e = toHex(E.publicKey);
    const loc = memoryLocation();
    let P = await openLedger(loc, 54, { compactEvery: 0, role: 'light' });
    const G = await openLedger(memoryLocation(), 52, { compactEvery: 0 });
    const chain = await makeChain(E, 5, P.ledger.networkId);
    const alt3 = await createEntry({ ...chain[2].entry, keys: E, time: chain[2].entry.time + 7 }, P.ledger.networkId);
    await P.ledger.ingest(chain);
    await P.ledger.compact();
    await P.ledger.close();
    // What the light budget does behind a compaction: headers first, then the entries 1..2.
    const store = await loc.open();
    await new PrunedHeaders(store, P.keys.seed).keep(e, chain.slice(0, 2)); // sealed, as the ledger does
    expect(await store.pruneBefore(e, 3)).toBe(2);
    await store.close();
    P = await openLedger(loc, 54, { compactEvery: 0, role: 'light' });
    await P.ledger.ingest([alt3]);
    await G.ledger.ingest([...chain, alt3]);
    expect(P.ledger.voidFrom(e)).toBe(3);
    expect(P.ledger.voidTop(e)).toEqual({ seq: 2, hash: toHex(chain[1].hash) });
    expect(P.ledger.head(e)).toEqual(G.ledger.head(e));
    await P.ledger.close();
    P = await openLedger(loc, 54, { compactEvery: 0, role: 'light' });
    expect(P.ledger.head(e)).toEqual(G.ledger.head(e));
  });

  it('a light budget does not prune them (they are what binds the void head above k0)', async () => {
    const { snap, G, e, chain } = await scenario();
    const loc = memoryLocation();
    (await bootstrapped(loc, snap)).ledger.close();
    let L = await openLedger(loc, L_KEY, { compactEvery: 0, role: 'light', budgetBytes: 1 });
    await L.ledger.ingest([chain[1], chain[2]]);
    await L.ledger.compact();
    expect(L.ledger.stats().storage).toMatchObject({ role: 'light', pruned: 0 });
    await L.ledger.close();
    L = await openLedger(loc, L_KEY, { compactEvery: 0, role: 'light', budgetBytes: 1 });
    expect(L.ledger.voidTop(e)?.seq).toBe(3);
    expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
  });

  it('a lower fork found after catching up moves the top to the entry held below it', async () => {
    const { snap, G, e, chain } = await scenario();
    const net = G.ledger.networkId;
    const E = await keysFromByte(43);
    const alt3 = await createEntry({ ...chain[2].entry, keys: E, time: chain[2].entry.time + 9 }, net);
    const loc = memoryLocation();
    let L = await bootstrapped(loc, snap);
    await L.ledger.ingest([chain[1], chain[2]]);
    // (Not compacted in between: a compaction holding entry 3 could not be rebuilt below the new
    // fork, as for pruned history, PROTOCOL.md §6.1.4; the state would keep it, marked unverified.)
    await L.ledger.ingest([alt3]);
    await G.ledger.ingest([alt3]);
    expect([G.ledger.voidFrom(e), G.ledger.voidTop(e)?.seq]).toEqual([3, 2]);
    expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
    await L.ledger.close();
    L = await openLedger(loc, L_KEY, { compactEvery: 0 });
    expect(L.ledger.voidTop(e)).toEqual({ seq: 2, hash: toHex(chain[1].hash) });
    expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
  });

  it('takes them from a full snapshot too (not skipped as pruned history)', async () => {
    const { snap, G, e } = await scenario();
    const L = await bootstrapped(memoryLocation(), snap);
    const r = await importLedgerSnapshot(L.ledger, await collectBytes(exportLedgerSnapshot(G.ledger, 'full')));
    expect(r).toMatchObject({ added: 2, rejected: 0 });
    expect(L.ledger.voidTop(e)?.seq).toBe(3);
    expect(ledgerView(L.ledger)).toEqual(ledgerView(G.ledger));
  });
});

describe('FeedSet: a bootstrapped void head moves its canonical top', () => {
  it('appends k0 + 1 .. s - 1 in order (held out of order, refused when not linking), never s', async () => {
    const E = await keysFromByte(73);
    const e = toHex(E.publicKey);
    const chain = await makeChain(E, 5, networkId(genesis));
    const alien = await makeChain(await keysFromByte(74), 2, networkId(genesis));
    const top = (i: number) => ({ seq: i + 1, hash: toHex(chain[i].hash) });
    const f = FeedSet.fromHeads({ heads: [voidHead(e, 5, top(0))], voidTops: [{ author: e, ...top(0) }] });
    expect(f.ingest(chain[2]).kind).toBe('pending');
    // A seq 2 whose prev is not the top's hash: a broken chain.
    const bad = await createEntry({ ...chain[1].entry, keys: E, prev: alien[0].hash }, networkId(genesis));
    expect(f.ingest(bad).kind).toBe('broken-chain');
    const r = f.ingest(chain[1]);
    expect(r.kind === 'appended' && r.entries.map((h) => h.entry.seq)).toEqual([2, 3]);
    expect(f.head(e)).toEqual(voidHead(e, 5, top(2)));
    expect(f.ingest(chain[3]).kind).toBe('appended');
    expect(f.ingest(chain[4]).kind).toBe('dropped'); // seq 5 = s: void
    expect(f.ingest(chain[0]).kind).toBe('needs-lookup'); // at or below k0: pruned history
    expect(f.voidTop(e)).toEqual(top(3));
  });
});
