// Fuzzer, part 3: "any order, same result" with fork variants in the mix (PROTOCOL.md §6). The
// world's entries (honest A and B, evil E building on them, bystander C) plus fork variants of
// any author's entries (a re-signed twin, optionally with a child on the twin's branch) are
// delivered to two empty ledgers in two random orders, batched, duplicated and re-offered
// (as sync would). Invariants: same heads, records, digest and conflicts; nothing left pending;
// some author marked forked; a reopen from the store gives the same again (marks included).
//
// Part 3b: clientID collisions (PROTOCOL.md §6.2). A key T is made to share evil E's Yjs clientID
// (overrideClientIds: a real pair costs ~2^26 key generations); T writes on A's and B's records
// and an honest H overwrites T's. The same delivery in two random orders, with fork variants in
// the mix, must give the same heads, records, digest and conflicts; E and T are void from seq 1.
//
// Part 3c: snapshots and joins of such worlds (PROTOCOL.md §9, §13.4): a full and a light snapshot
// and a join body of a node holding void feeds bring a fresh node to the same heads, records and
// digest.
//
// SEED=<n> replays a run; FUZZ_RUNS=<n> scales it (this property gets 3% of the total, at least
// 20; the collision one 2%, at least 15; the snapshot one 1%, at least 10).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEntry } from '../../src/lib/core/entry.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { memoryLocation, mulberry, openLedger, shuffle, ledgerView } from '../helpers/ledger-nodes.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { overrideClientIds } from '../../src/lib/core/state/client-id.js';
import { buildWorld, type Author, type World } from './world.js';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { installJoinSnapshot, ledgerClaim, ledgerJoinSource } from '../../src/lib/core/join/ledger-source.js';
import { verifyJoinSnapshot } from '../../src/lib/core/join/verify.js';
import { genesis } from '../helpers/ledger-nodes.js';

const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) : Date.now() ^ (Math.random() * 2 ** 31);
const TOTAL = Number(process.env.FUZZ_RUNS ?? 10_000);
const RUNS = Math.max(20, Math.ceil(TOTAL * 0.03));
const COLLISION_RUNS = Math.max(15, Math.ceil(TOTAL * 0.02));
const SNAPSHOT_RUNS = Math.max(10, Math.ceil(TOTAL * 0.01));
console.log(`forks fuzz SEED=${SEED} runs=${RUNS} collision runs=${COLLISION_RUNS} snapshot runs=${SNAPSHOT_RUNS}`);

let w: World;
/** T (sharing E's clientID) and honest H's entries: T builds on A and B, H overwrites T's record. */
let colliding: HashedEntry[] = [];
let restoreIds: () => void = () => undefined;
beforeAll(async () => {
  w = await buildWorld();
  const t = await openLedger(memoryLocation(), 15, { compactEvery: 0 });
  const tHex = t.ledger.author;
  await t.ledger.close();
  restoreIds = overrideClientIds((author, real) => (author === tHex ? w.e.client : real));
  const t2 = await openLedger(memoryLocation(), 15, { compactEvery: 0 });
  await t2.ledger.ingest(w.base);
  await t2.ledger.put('shared', 'from-t'); // overwrites B's
  await t2.ledger.put('t1', 'tee');
  await t2.ledger.delete('b1');
  const tOwn = t2.log.filter((h) => toHex(h.entry.author) === tHex);
  const h = await openLedger(memoryLocation(), 16, { compactEvery: 0 });
  await h.ledger.ingest([...w.base, ...tOwn]);
  await h.ledger.put('t1', 'honest-over-t'); // built on T's item: void with it
  await h.ledger.put('h1', 'aitch');
  colliding = [...tOwn, ...h.log.filter((x) => toHex(x.entry.author) === h.ledger.author)];
  await t2.ledger.close();
  await h.ledger.close();
}, 60_000);
afterAll(() => restoreIds());

interface VariantPlan {
  who: 'a' | 'b' | 'e' | 'c';
  at: number;
  child: boolean;
  tweak: number;
}

const variantArb: fc.Arbitrary<VariantPlan> = fc.record({
  who: fc.constantFrom('a' as const, 'b' as const, 'e' as const, 'c' as const),
  at: fc.nat(20),
  child: fc.boolean(),
  tweak: fc.integer({ min: 1, max: 1000 })
});

/** A twin of one of `au`'s entries (same fields, another time: another hash), and maybe its child. */
async function variant(au: Author, p: VariantPlan): Promise<HashedEntry[]> {
  const orig = au.entries[p.at % au.entries.length].entry;
  const twin = await createEntry({ ...orig, keys: au.keys, time: orig.time + p.tweak }, w.networkId);
  const next = au.entries[(p.at % au.entries.length) + 1]?.entry;
  if (!p.child || next === undefined) return [twin];
  const child = await createEntry({ ...next, keys: au.keys, prev: twin.hash }, w.networkId);
  return [twin, child];
}

/** Three rounds of one random order each (with duplicates), in batches of 1..4. */
async function deliver(l: Ledger, items: readonly HashedEntry[], seed: number): Promise<void> {
  const rand = mulberry(seed);
  for (let round = 0; round < 3; round++) {
    const order = shuffle([...items, ...items.filter(() => rand() < 0.3)], rand);
    while (order.length > 0) {
      const rep = await l.ingest(order.splice(0, 1 + Math.floor(rand() * 4)));
      for (const r of rep.rejected) expect(r.code, r.message).toMatch(/^[a-z-]+$/);
    }
  }
}

function view(l: Ledger) {
  return { ...ledgerView(l), conflicts: JSON.stringify(l.conflicts()), forked: l.stats().forkedAuthors };
}

let keyByte = 150;

describe(`fork fuzzer (SEED=${SEED})`, () => {
  it(
    'the same entries and fork variants in any order give the same heads, records and digest',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(variantArb, { minLength: 1, maxLength: 3 }),
          fc.integer(),
          fc.integer(),
          async (plans, s1, s2) => {
            const twins: HashedEntry[] = [];
            for (const p of plans) twins.push(...(await variant(w[p.who], p)));
            const items = [...w.base, ...w.e.entries, ...w.c.entries, ...twins];
            const loc = memoryLocation();
            const kb = 150 + (keyByte++ % 50);
            const l1 = await openLedger(loc, kb, { compactEvery: 0 });
            const l2 = await openLedger(memoryLocation(), kb, { compactEvery: 0 });
            try {
              await deliver(l1.ledger, items, s1);
              await deliver(l2.ledger, items, s2);
              const v1 = view(l1.ledger);
              const v2 = view(l2.ledger);
              // Fork marks are evidence seen, not state: a twin above a feed's cut is dropped
              // unexamined, so which authors are marked may differ; the canonical state may not.
              expect({ ...v2, forked: 0 }).toEqual({ ...v1, forked: 0 });
              expect(v1.pending).toBe(0);
              expect(Math.min(v1.forked, v2.forked)).toBeGreaterThanOrEqual(1);
              await l1.ledger.close();
              const again = await openLedger(loc, kb, { compactEvery: 0 });
              expect(view(again.ledger)).toEqual(v1);
              await again.ledger.close();
            } finally {
              await l1.ledger.close().catch(() => undefined);
              await l2.ledger.close();
            }
          }
        ),
        { seed: (SEED + 7) | 0, numRuns: RUNS, endOnFailure: false }
      );
    },
    120_000 + RUNS * 500
  );
});

describe(`fork fuzzer with a clientID collision (SEED=${SEED})`, () => {
  it(
    'two keys with one clientID, in any order and with fork variants: both void from seq 1, same state everywhere',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(variantArb, { minLength: 0, maxLength: 2 }),
          fc.integer(),
          fc.integer(),
          async (plans, s1, s2) => {
            const twins: HashedEntry[] = [];
            for (const p of plans) twins.push(...(await variant(w[p.who], p)));
            const items = [...w.base, ...w.e.entries, ...w.c.entries, ...colliding, ...twins];
            const loc = memoryLocation();
            const kb = 150 + (keyByte++ % 50);
            const l1 = await openLedger(loc, kb, { compactEvery: 0 });
            const l2 = await openLedger(memoryLocation(), kb, { compactEvery: 3 });
            const tHex = toHex(colliding[0].entry.author);
            try {
              await deliver(l1.ledger, items, s1);
              await deliver(l2.ledger, items, s2);
              const v1 = view(l1.ledger);
              const v2 = view(l2.ledger);
              expect({ ...v2, forked: 0 }).toEqual({ ...v1, forked: 0 });
              expect(v1.pending).toBe(0);
              for (const l of [l1.ledger, l2.ledger]) {
                expect(l.voidFrom(w.e.hex)).toBe(1);
                expect(l.voidFrom(tHex)).toBe(1);
                expect(l.get('t1')).toBeUndefined();
                expect(l.get('h1')).toBe('aitch');
              }
              await l1.ledger.close();
              const again = await openLedger(loc, kb, { compactEvery: 0 });
              expect(view(again.ledger)).toEqual(v1);
              await again.ledger.close();
            } finally {
              await l1.ledger.close().catch(() => undefined);
              await l2.ledger.close();
            }
          }
        ),
        { seed: (SEED + 11) | 0, numRuns: COLLISION_RUNS, endOnFailure: false }
      );
    },
    120_000 + COLLISION_RUNS * 500
  );
});

/** Heads, records and digest: what a snapshot or a join must carry over. */
function carried(l: Ledger) {
  const v = ledgerView(l);
  return { heads: v.heads, records: v.records, digest: v.digest };
}

/** A full and a light snapshot, and a join body, of `l` into fresh ledgers: the same heads, records and digest. */
async function roundTrips(l: Ledger, why: string): Promise<void> {
  await l.flushVoids();
  const want = carried(l);
  for (const kind of ['full', 'light'] as const) {
    const fresh = await openLedger(memoryLocation(), kind === 'full' ? 240 : 241, { compactEvery: 0 });
    try {
      const r = await importLedgerSnapshot(fresh.ledger, await collectBytes(exportLedgerSnapshot(l, kind)));
      expect(r.rejected, `${why} ${kind}`).toBe(0);
      expect(carried(fresh.ledger), `${why} ${kind}`).toEqual(want);
    } finally {
      await fresh.ledger.close();
    }
  }
  const snap = await ledgerJoinSource(l, { rebuildMs: 0 }).snapshot();
  expect(snap, `${why}: join served`).toBeDefined();
  const v = await verifyJoinSnapshot(snap!.body, snap!.claim, { networkId: l.networkId, genesis });
  const joined = await openLedger(memoryLocation(), 242, { compactEvery: 0 });
  try {
    const verdict = {
      verified: true,
      by: 'quorum' as const,
      asked: 3,
      agreeing: 3,
      claim: snap!.claim,
      checkpoint: null
    };
    await installJoinSnapshot(joined.ledger, v, verdict);
    expect(carried(joined.ledger), `${why} join`).toEqual(want);
    expect(ledgerClaim(joined.ledger), `${why} join claim`).toEqual(snap!.claim);
  } finally {
    await joined.ledger.close();
  }
}

describe(`fork fuzzer: snapshots and joins of void feeds (SEED=${SEED})`, () => {
  it(
    'full and light snapshots and join bodies of a node holding void feeds give a fresh node the same view',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(variantArb, { minLength: 1, maxLength: 3 }),
          fc.boolean(),
          fc.integer(),
          async (plans, collide, s1) => {
            const twins: HashedEntry[] = [];
            for (const p of plans) twins.push(...(await variant(w[p.who], p)));
            const items = [...w.base, ...w.e.entries, ...w.c.entries, ...(collide ? colliding : []), ...twins];
            const l1 = await openLedger(memoryLocation(), 150 + (keyByte++ % 50), { compactEvery: 0 });
            try {
              await deliver(l1.ledger, items, s1);
              await roundTrips(l1.ledger, `SEED=${SEED} s1=${s1}`);
            } finally {
              await l1.ledger.close();
            }
          }
        ),
        { seed: (SEED + 13) | 0, numRuns: SNAPSHOT_RUNS, endOnFailure: false }
      );
    },
    120_000 + SNAPSHOT_RUNS * 1000
  );
});
