// Ledger.ingest: every rejection cause reported with its code and nothing stored for it; forks
// detected, stored and marked; pending entries; and replicas that exchange entries in any order,
// with duplicates, converge (records, conflicts, heads, state digest).
// Replay: SEED=<printed seed> npx vitest run test/unit/ledger-ingest.test.ts
import fc from 'fast-check';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { networkId } from '../../src/lib/core/genesis.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, mulberry, openLedger, shuffle, type TestLedger } from '../helpers/ledger-nodes.js';
import { voidHead } from '../../src/lib/core/void.js';

const NET = networkId(genesis);
const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31);
console.log('ledger-ingest seed', seed);

/**
 * A signed entry by `keys` whose payload sets text `t<seq>` under the author's clientID. Pass the
 * author's `doc` to continue its clock (a fresh doc starts at clock 0 again, like a fork would).
 */
async function entryBy(
  keys: IdentityKeys,
  seq: number,
  prev: Uint8Array,
  text: string,
  opts: { net?: Uint8Array; client?: number; doc?: Y.Doc } = {}
): Promise<HashedEntry> {
  const doc = opts.doc ?? new Y.Doc();
  doc.clientID = opts.client ?? clientIdOf(toHex(keys.publicKey));
  const before = Y.encodeStateVector(doc);
  doc.getText(`t${seq}`).insert(0, text);
  const payload = Y.encodeStateAsUpdate(doc, before);
  const clock = Y.getState(doc.store, doc.clientID);
  return createEntry({ keys, seq, prev, lamport: seq, time: 1_700_000_000_000 + seq, clock, payload }, opts.net ?? NET);
}

const zero = new Uint8Array(32);

async function snapshotOf(l: Ledger) {
  return { records: l.records(), conflicts: l.conflicts(), heads: l.heads(), digest: l.stats().stateDigest };
}

describe('Ledger.ingest: rejections', () => {
  it('reports each invalid entry with its code and stores nothing for it', async () => {
    const t = await openLedger(memoryLocation(), 1);
    const x = await keysFromByte(2);
    const xHex = toHex(x.publicKey);
    const doc = new Y.Doc();
    const first = await entryBy(x, 1, zero, 'one', { doc });
    expect(await t.ledger.ingest([first])).toMatchObject({ added: 1, rejected: [] });
    const countBefore = await t.store.count();
    const headsBefore = t.ledger.heads();

    const wrongNet = await entryBy(x, 2, first.hash, 'w', { net: networkId({ ...genesis, name: 'other' }) });
    const badSig = encodeEntry((await entryBy(x, 2, first.hash, 'sig')).entry);
    badSig[badSig.length - 3] ^= 1;
    const oversized = await entryBy(x, 2, first.hash, 'z'.repeat(genesis.maxEntryBytes));
    const garbage = new Uint8Array(200).fill(7);
    const truncated = encodeEntry(first.entry).slice(0, 150);
    const broken = await entryBy(x, 2, new Uint8Array(32).fill(9), 'broken');
    const foreign = await entryBy(x, 2, first.hash, 'forged', { client: 12345 });
    const goodTwo = await entryBy(x, 2, first.hash, 'two', { doc });
    const wrongHash: HashedEntry = { entry: goodTwo.entry, hash: new Uint8Array(32).fill(1) };
    const notAnEntry = { entry: { seq: 2 }, hash: zero } as unknown as HashedEntry;

    const report = await t.ledger.ingest([
      encodeEntry(wrongNet.entry),
      badSig,
      encodeEntry(oversized.entry),
      oversized,
      garbage,
      truncated,
      broken,
      foreign,
      wrongHash,
      notAnEntry
    ]);
    expect(report.rejected.map((r) => r.code)).toEqual([
      'wrong-network',
      'bad-signature',
      'oversized-entry',
      'oversized-entry',
      'malformed-entry',
      'malformed-entry',
      'foreign-client',
      'malformed-entry',
      'malformed-entry',
      'broken-chain' // FeedSet's verdict comes after every verification failure
    ]);
    expect(report).toMatchObject({ added: 0, forks: 0, pending: 0 });
    const brokenRej = report.rejected.find((r) => r.code === 'broken-chain')!;
    expect(brokenRej).toMatchObject({ author: xHex, seq: 2 });
    expect(report.rejected.find((r) => r.code === 'bad-signature')).toMatchObject({ author: xHex, seq: 2 });
    expect(await t.store.count()).toBe(countBefore);
    expect(t.ledger.heads()).toEqual(headsBefore);
    expect(await t.store.heads()).toEqual(headsBefore);
    expect(t.ledger.doc.getText('t2').toString()).toBe('');

    // x signed the broken-chain entry for seq 2 too: with the genuine seq 2 that is a fork
    // (PROTOCOL.md §6.1), whichever came first, so x's feed is void from seq 2 on.
    expect(await t.ledger.ingest([goodTwo])).toMatchObject({ forks: 1, rejected: [] });
    expect(t.ledger.voidFrom(xHex)).toBe(2);
    expect(t.ledger.doc.getText('t2').toString()).toBe('');
  });

  it('holds out-of-order entries as pending and appends them when the gap closes', async () => {
    const t = await openLedger(memoryLocation(), 3);
    const x = await keysFromByte(4);
    const chain: HashedEntry[] = [];
    const doc = new Y.Doc();
    for (let s = 1; s <= 5; s++) chain.push(await entryBy(x, s, chain.at(-1)?.hash ?? zero, `v${s}`, { doc }));
    expect(await t.ledger.ingest([chain[4], chain[2]])).toMatchObject({ added: 0, pending: 2 });
    expect(t.ledger.stats().pending).toBe(2);
    expect(t.log).toHaveLength(0);
    expect(await t.ledger.ingest([chain[1], chain[0], chain[1]])).toMatchObject({
      added: 3,
      duplicates: 1,
      pending: 0
    });
    expect(t.ledger.heads()[0].seq).toBe(3);
    expect(await t.ledger.ingest([chain[3]])).toMatchObject({ added: 2 });
    expect(t.log.map((h) => h.entry.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(t.ledger.doc.getText('t5').toString()).toBe('v5');
    expect(await t.ledger.ingest(chain.map((h) => encodeEntry(h.entry)))).toMatchObject({ added: 0, duplicates: 5 });
  });
});

describe('Ledger.ingest: forks', () => {
  it('counts a fork, stores the evidence, marks the author and voids its feed from the fork', async () => {
    const loc = memoryLocation();
    const t = await openLedger(loc, 5);
    const x = await keysFromByte(6);
    const xHex = toHex(x.publicKey);
    const a = await entryBy(x, 1, zero, 'first');
    const b = await entryBy(x, 1, zero, 'second');
    await t.ledger.ingest([a]);
    expect(t.ledger.doc.getText('t1').toString()).toBe('first');
    const report = await t.ledger.ingest([b, a]);
    // b is the evidence; a, at the void seq now, is dropped (PROTOCOL.md §6).
    expect(report).toMatchObject({ added: 0, forks: 1, duplicates: 0, dropped: 1, rejected: [] });
    expect(t.ledger.forks()).toHaveLength(1);
    expect(t.ledger.forks()[0]).toMatchObject({ author: xHex, seq: 1 });
    expect(t.ledger.isForked(xHex)).toBe(true);
    expect(t.ledger.stats().forkedAuthors).toBe(1);
    const stored = await t.store.forks();
    expect(stored).toHaveLength(1);
    expect([toHex(stored[0].a.hash), toHex(stored[0].b.hash)].sort()).toEqual([toHex(a.hash), toHex(b.hash)].sort());
    // Neither variant is applied: the first one left the state (not first-seen wins).
    expect(t.ledger.doc.getText('t1').toString()).toBe('');
    expect(t.ledger.heads()).toEqual([voidHead(xHex, 1)]);
    expect(t.ledger.stats().entries).toBe(0);
    const digest = t.ledger.stats().stateDigest;
    // The mark and the void survive a reopen.
    await t.ledger.close();
    const again = await openLedger(loc, 5);
    expect(again.ledger.isForked(xHex)).toBe(true);
    expect(again.ledger.stats().stateDigest).toBe(digest);
    expect(again.ledger.doc.getText('t1').toString()).toBe('');
    expect(await again.ledger.ingest([b])).toMatchObject({ forks: 0, duplicates: 1 });
  });

  it('finds a fork below the in-memory window by asking the store', async () => {
    const loc = memoryLocation();
    const t = await openLedger(loc, 7);
    const x = await keysFromByte(8);
    const chain: HashedEntry[] = [];
    const doc = new Y.Doc();
    for (let s = 1; s <= 40; s++) chain.push(await entryBy(x, s, chain.at(-1)?.hash ?? zero, `v${s}`, { doc }));
    await t.ledger.ingest(chain);
    const evil = await entryBy(x, 2, chain[0].hash, 'evil');
    expect(await t.ledger.ingest([chain[1]])).toMatchObject({ duplicates: 1, forks: 0 });
    expect(await t.ledger.ingest([evil])).toMatchObject({ forks: 1 });
    expect(await t.store.forks()).toHaveLength(1);
    // Void from seq 2: seq 1 stays, everything after it leaves the state.
    expect(t.ledger.doc.getText('t1').toString()).toBe('v1');
    expect(t.ledger.doc.getText('t2').toString()).toBe('');
    expect(t.ledger.doc.getText('t40').toString()).toBe('');
  });
});

describe('Ledger.ingest: convergence', () => {
  it('concurrent writes to one key make exactly one conflict on every replica', async () => {
    const [a, b] = [await openLedger(memoryLocation(), 11), await openLedger(memoryLocation(), 12)];
    await a.ledger.put('k', 'from a');
    await b.ledger.put('k', 'from b');
    await a.ledger.ingest(b.log);
    await b.ledger.ingest(a.log.map((h) => encodeEntry(h.entry)));
    const sa = await snapshotOf(a.ledger);
    expect(sa.conflicts).toHaveLength(1);
    expect(sa.conflicts[0]).toMatchObject({
      key: 'k',
      authors: expect.arrayContaining([a.ledger.author, b.ledger.author])
    });
    expect(await snapshotOf(b.ledger)).toEqual(sa);
  });

  it('a sequential overwrite makes no conflict', async () => {
    const [a, b] = [await openLedger(memoryLocation(), 13), await openLedger(memoryLocation(), 14)];
    await a.ledger.put('k', 1);
    await b.ledger.ingest(a.log);
    await b.ledger.put('k', 2);
    await a.ledger.ingest(b.log);
    expect(a.ledger.get('k')).toBe(2);
    expect(a.ledger.conflicts()).toEqual([]);
    expect(await snapshotOf(b.ledger)).toEqual(await snapshotOf(a.ledger));
  });

  type Op =
    | { t: 'put'; who: number; key: number; val: number }
    | { t: 'del'; who: number; key: number }
    | { t: 'sync'; from: number; to: number; mask: number; shuffle: number; bytes: boolean };
  const opArb = (n: number): fc.Arbitrary<Op> =>
    fc.oneof(
      fc.record({ t: fc.constant('put' as const), who: fc.nat(n - 1), key: fc.nat(3), val: fc.nat(99) }),
      fc.record({ t: fc.constant('del' as const), who: fc.nat(n - 1), key: fc.nat(3) }),
      fc.record({
        t: fc.constant('sync' as const),
        from: fc.nat(n - 1),
        to: fc.nat(n - 1),
        mask: fc.nat(),
        shuffle: fc.nat(),
        bytes: fc.boolean()
      })
    );
  const scenario = fc
    .integer({ min: 2, max: 3 })
    .chain((n) =>
      fc.record({ n: fc.constant(n), ops: fc.array(opArb(n), { minLength: 1, maxLength: 25 }), final: fc.nat() })
    );

  it('replicas exchanging entries in random order with duplicates converge (fast-check)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ n, ops, final }) => {
        run++;
        const nodes: TestLedger[] = [];
        for (let i = 0; i < n; i++)
          nodes.push(await openLedger(memoryLocation(), 30 + i + (run % 50) * 3, { compactEvery: 4 }));
        for (const op of ops) {
          if (op.t === 'put') await nodes[op.who].ledger.put(`k${op.key}`, op.val);
          else if (op.t === 'del') await nodes[op.who].ledger.delete(`k${op.key}`);
          else if (op.from !== op.to) {
            // A random subset (gaps make pending entries), shuffled, some sent twice, mixed forms.
            const rand = mulberry(op.shuffle);
            const log = nodes[op.from].log.filter((_, i) => ((op.mask >>> (i % 31)) & 1) === 1);
            const batch = shuffle([...log, ...log.filter(() => rand() < 0.3)], rand);
            const r = await nodes[op.to].ledger.ingest(batch.map((h) => (op.bytes ? encodeEntry(h.entry) : h)));
            expect(r.rejected).toEqual([]);
          }
        }
        // Final exchange: everything to everyone, shuffled, in small batches.
        const rand = mulberry(final);
        const all = nodes.flatMap((x) => x.log);
        for (const to of nodes) {
          const batch = shuffle([...all, ...all.filter(() => rand() < 0.2)], rand);
          for (let i = 0; i < batch.length; i += 3) await to.ledger.ingest(batch.slice(i, i + 3));
        }
        // A fresh replica that gets everything in one shuffled batch, and a reopened one.
        const fresh = await openLedger(memoryLocation(), 99);
        await fresh.ledger.ingest(shuffle(all, rand));
        const loc = memoryLocation();
        const reopened = await openLedger(loc, 98, { compactEvery: 3 });
        await reopened.ledger.ingest(shuffle(all, rand));
        await reopened.ledger.close();
        const back = await openLedger(loc, 98);

        const want = await snapshotOf(nodes[0].ledger);
        for (const x of [...nodes.slice(1), fresh, back]) expect(await snapshotOf(x.ledger)).toEqual(want);
        expect(want.heads).toHaveLength(new Set(all.map((h) => toHex(h.entry.author))).size);
        for (const x of [...nodes, fresh, back]) expect(x.ledger.stats().pending).toBe(0);
        for (const x of [...nodes, fresh, back]) await x.ledger.close();
      }),
      { seed, numRuns: 50 }
    );
  });
});
