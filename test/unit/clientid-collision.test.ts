// Yjs clientID collisions (PROTOCOL.md §6.2): two keys whose clientIDs are equal void BOTH feeds
// from seq 1, whatever order a node saw them in. A real colliding pair costs ~2^26 key
// generations, so the derivation is overridden here (overrideClientIds): key Y maps to key X's
// clientID. X writes three records, Y two, an honest node overwrites one of X's records and writes
// its own, and a bystander Z writes too. Nodes given these entries in opposite orders (and in
// random orders and batches) must agree on heads, records and digest, also after a reopen; the
// evidence must spread over sync, and must not be forgeable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf, overrideClientIds } from '../../src/lib/core/state/client-id.js';
import { isCollision } from '../../src/lib/core/collision.js';
import { voidHead } from '../../src/lib/core/void.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import { decodeEntry } from '../../src/lib/core/entry.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, mulberry, openLedger, shuffle, ledgerView } from '../helpers/ledger-nodes.js';

const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) : Date.now() % 2 ** 31;
console.log(`clientid-collision SEED=${SEED}`);

let restore: () => void = () => undefined;
let x = '';
let y = '';
let xs: HashedEntry[] = [];
let ys: HashedEntry[] = [];
let zs: HashedEntry[] = [];
let honest: HashedEntry[] = [];

beforeAll(async () => {
  const [kx, ky] = await Promise.all([keysFromByte(201), keysFromByte(202)]);
  x = toHex(kx.publicKey);
  y = toHex(ky.publicKey);
  const cx = clientIdOf(x);
  restore = overrideClientIds((author, real) => (author === y ? cx : real));
  expect(clientIdOf(y)).toBe(clientIdOf(x));
  const writer = async (byte: number, tag: string, n: number) => {
    const l = await openLedger(memoryLocation(), byte, { compactEvery: 0 });
    for (let i = 1; i <= n; i++) await l.ledger.put(`k${tag}${i}`, `${tag}${i}`);
    await l.ledger.close();
    return l.log;
  };
  xs = await writer(201, 'x', 3);
  ys = await writer(202, 'y', 2);
  zs = await writer(203, 'z', 2);
  const w = await openLedger(memoryLocation(), 41, { compactEvery: 0 });
  await w.ledger.ingest(xs);
  await w.ledger.put('kx3', 'honest-overwrite'); // builds on X's item: void with it everywhere
  await w.ledger.put('mine', 1);
  honest = w.log.filter((h) => toHex(h.entry.author) === w.ledger.author);
  await w.ledger.close();
}, 30_000);

afterAll(() => restore());

function view(l: Ledger) {
  return { ...ledgerView(l), entries: l.stats().entries, yjsPending: l.stats().yjsPending };
}

async function deliverOneByOne(l: Ledger, items: readonly HashedEntry[]): Promise<void> {
  for (const h of items) {
    const r = await l.ingest([h]);
    for (const x of r.rejected) expect(x.code, `${x.code}: ${x.message}`).not.toBe('client-id-collision');
  }
}

describe(`clientID collisions void both feeds from seq 1 (SEED=${SEED})`, () => {
  it('X first or Y first: equal records, heads and digest, before and after a reopen', async () => {
    const loc1 = memoryLocation();
    const loc2 = memoryLocation();
    const l1 = await openLedger(loc1, 50, { compactEvery: 2 });
    const l2 = await openLedger(loc2, 51, { compactEvery: 2 });
    await deliverOneByOne(l1.ledger, [...xs, ...honest, ...zs, ...ys]);
    await deliverOneByOne(l2.ledger, [...ys, ...zs, ...xs, ...honest]);
    const v1 = view(l1.ledger);
    const v2 = view(l2.ledger);
    expect(v2).toEqual(v1);
    for (const l of [l1.ledger, l2.ledger]) {
      expect(l.voidFrom(x)).toBe(1);
      expect(l.voidFrom(y)).toBe(1);
      expect(
        l
          .forks()
          .filter(isCollision)
          .map((ev) => ev.author)
          .sort()
      ).toEqual([x, y].sort());
    }
    expect(v1.heads.find((h) => h.author === x)).toEqual(voidHead(x, 1));
    expect(v1.heads.find((h) => h.author === y)).toEqual(voidHead(y, 1));
    // Neither X's nor Y's records, nor the overwrite built on X's; Z's and the honest one stay.
    expect(JSON.parse(v1.records).map((r: { key: string; value: unknown }) => [r.key, r.value])).toEqual([
      ['kz1', 'z1'],
      ['kz2', 'z2'],
      ['mine', 1]
    ]);
    expect(v1.pending).toBe(0);
    expect(v1.yjsPending).toBe(false);
    await l1.ledger.close();
    await l2.ledger.close();
    const r1 = await openLedger(loc1, 50, { compactEvery: 2 });
    const r2 = await openLedger(loc2, 51, { compactEvery: 2 });
    expect(view(r1.ledger)).toEqual(v1);
    expect(view(r2.ledger)).toEqual(v1);
    await r1.ledger.close();
    await r2.ledger.close();
  }, 30_000);

  it('random orders and batches give the same state', async () => {
    const items = [...xs, ...ys, ...zs, ...honest];
    const rand = mulberry(SEED);
    let ref: ReturnType<typeof view> | undefined;
    for (let run = 0; run < 8; run++) {
      const loc = memoryLocation();
      const opts = run % 2 === 0 ? { compactEvery: 0 } : { compactEvery: 1 };
      const n = await openLedger(loc, 60 + run, opts);
      const order = shuffle(items, rand);
      while (order.length > 0) await n.ledger.ingest(order.splice(0, 1 + Math.floor(rand() * 4)));
      await n.ledger.ingest(items); // re-offered, as sync would
      const v = view(n.ledger);
      ref ??= v;
      expect({ run, ...v }).toEqual({ run, ...ref });
      await n.ledger.close();
      const again = await openLedger(loc, 60 + run, opts);
      expect({ run, reopened: true, ...view(again.ledger) }).toEqual({ run, reopened: true, ...ref });
      await again.ledger.close();
    }
  }, 60_000);

  it('a void feed is served as the evidence pair, which voids both feeds on a node that saw neither', async () => {
    const a = await openLedger(memoryLocation(), 70, { compactEvery: 0 });
    await a.ledger.ingest([...xs, ...zs]);
    await a.ledger.ingest(ys);
    const served = await ledgerReplica(a.ledger).getRange(y, 1, 100, 1 << 20);
    expect(served.map((b) => toHex(decodeEntry(b, genesis.maxEntryBytes).entry.author))).toEqual([y, x]);
    const b = await openLedger(memoryLocation(), 71, { compactEvery: 0 });
    await b.ledger.ingest(zs);
    const r = await b.ledger.ingest(served);
    expect(r.forks).toBe(2);
    expect(b.ledger.voidFrom(x)).toBe(1);
    expect(b.ledger.voidFrom(y)).toBe(1);
    expect(view(b.ledger)).toEqual(view(a.ledger));
    await a.ledger.close();
    await b.ledger.close();
  }, 30_000);

  it("this node's own key collides: its feed is void, its writes are refused, and the ledger keeps working", async () => {
    const loc = memoryLocation();
    const own = await openLedger(loc, 201, { compactEvery: 0 }); // X's key: its store already has X's feed
    await own.ledger.ingest(xs);
    await own.ledger.ingest([...ys, ...zs]);
    expect(own.ledger.voidFrom(x)).toBe(1);
    expect(own.ledger.voidFrom(y)).toBe(1);
    await expect(own.ledger.put('after', 1)).rejects.toMatchObject({ name: 'StateUsageError' });
    expect(own.ledger.get('kz1')).toBe('z1');
    const v = view(own.ledger);
    await own.ledger.close();
    const again = await openLedger(loc, 201, { compactEvery: 0 });
    expect(view(again.ledger)).toEqual(v);
    await again.ledger.close();
  }, 30_000);

  it('evidence is bounded: one record per voided key, none on re-delivery; a third key of the clientID is void too', async () => {
    const bytes = [210, 211, 212, 213, 214, 215, 216];
    const hexes = await Promise.all(bytes.map(async (b) => toHex((await keysFromByte(b)).publicKey)));
    // 210/211, 212/213 and 214/215 are pairs; 216 shares the first pair's clientID.
    const partner = new Map([
      [hexes[1], hexes[0]],
      [hexes[3], hexes[2]],
      [hexes[5], hexes[4]],
      [hexes[6], hexes[0]]
    ]);
    restore(); // this test's own mapping replaces X/Y's until it ends
    const base = new Map(hexes.map((h) => [h, clientIdOf(h)]));
    restore = overrideClientIds((author, real) => {
      const p = partner.get(author);
      return p === undefined ? real : (base.get(p) ?? real);
    });
    try {
      const entries: HashedEntry[] = [];
      for (const [i, b] of bytes.slice(0, 6).entries()) {
        const l = await openLedger(memoryLocation(), b, { compactEvery: 0 });
        await l.ledger.put(`f${i}`, i);
        await l.ledger.put(`g${i}`, i);
        await l.ledger.close();
        entries.push(...l.log);
      }
      const n = await openLedger(memoryLocation(), 74, { compactEvery: 0 });
      await n.ledger.ingest(entries);
      await n.ledger.ingest(entries);
      await n.ledger.ingest([...entries].reverse());
      expect(n.ledger.forks().filter(isCollision)).toHaveLength(6);
      expect(n.ledger.records()).toEqual([]);
      const third = await openLedger(memoryLocation(), 216, { compactEvery: 0 });
      await third.ledger.put('t', 1);
      await third.ledger.close();
      await n.ledger.ingest(third.log);
      expect(n.ledger.voidFrom(hexes[6])).toBe(1);
      expect(n.ledger.forks().filter(isCollision)).toHaveLength(7);
      await n.ledger.close();
    } finally {
      restore();
      const cx = clientIdOf(x);
      restore = overrideClientIds((author, real) => (author === y ? cx : real));
    }
  }, 30_000);

  it('a stored "collision" between keys that do not share a clientID does not load', async () => {
    const loc = memoryLocation();
    const a = await openLedger(loc, 72, { compactEvery: 0 });
    await a.ledger.ingest([...xs, ...zs]);
    // A forged row: X's and Z's entries as collision evidence (their clientIDs differ).
    await a.store.putFork({ author: x, seq: 1, a: xs[0], b: zs[0], detectedAt: 1 });
    await a.ledger.close();
    await expect(openLedger(loc, 72, { compactEvery: 0 })).rejects.toMatchObject({ name: 'CorruptStoreError' });
  }, 30_000);

  it('without the collision nothing is void (the rule only fires on a shared clientID)', async () => {
    restore();
    try {
      const a = await openLedger(memoryLocation(), 73, { compactEvery: 0 });
      // ys were signed with X's clientID in their structs: refused now, as foreign-client payloads.
      const r = await a.ledger.ingest([...xs, ...zs, ...ys]);
      expect(r.forks).toBe(0);
      expect(a.ledger.voidFrom(x)).toBeUndefined();
      expect(a.ledger.get('kx3')).toBe('x3');
      await a.ledger.close();
    } finally {
      const cx = clientIdOf(x);
      restore = overrideClientIds((author, real) => (author === y ? cx : real));
    }
  }, 30_000);
});
