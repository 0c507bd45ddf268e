// Ledger: local writes, reopen (memory and Dexie), compaction, verification on open, identity.
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import { MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { PrunedHeaders } from '../../src/lib/core/pruned-headers.js';
import type { RecordChange } from '../../src/lib/core/state/records.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import {
  dexieLocation,
  genesis,
  memoryLocation,
  openLedger,
  testClock,
  type Location
} from '../helpers/ledger-nodes.js';

const locations: [string, () => Location][] = [
  ['memory', () => memoryLocation()],
  ['dexie', () => dexieLocation()]
];

describe.each(locations)('Ledger on %s store', (_name, makeLocation) => {
  it('puts, gets, deletes and lists records', async () => {
    const { ledger, keys } = await openLedger(makeLocation(), 1);
    expect(ledger.author).toBe(toHex(keys.publicKey));
    const h1 = await ledger.put('a', { n: 1 });
    const h2 = await ledger.put('b', [1, 'two']);
    expect([h1.entry.seq, h2.entry.seq]).toEqual([1, 2]);
    expect(h2.entry.prev).toEqual(h1.hash);
    expect(ledger.get('a')).toEqual({ n: 1 });
    const rec = ledger.records().find((r) => r.key === 'a')!;
    // Record metadata equals the entry's stamp.
    expect(rec).toMatchObject({ author: ledger.author, lamport: h1.entry.lamport, time: h1.entry.time });
    expect(await ledger.delete('a')).not.toBeNull();
    expect(await ledger.delete('a')).toBeNull();
    expect(await ledger.delete('never')).toBeNull();
    expect(ledger.get('a')).toBeUndefined();
    expect(ledger.records().map((r) => r.key)).toEqual(['b']);
    expect(ledger.heads()).toEqual([{ author: ledger.author, seq: 3, hash: expect.any(String) }]);
    expect(ledger.stats()).toMatchObject({ entries: 3, authors: 1, forkedAuthors: 0, pending: 0 });
    await ledger.close();
  });

  it('keeps records, heads, digest and identity across close and reopen', async () => {
    const loc = makeLocation();
    const first = await openLedger(loc, 2);
    for (let i = 0; i < 20; i++) await first.ledger.put(`k${i % 7}`, { i });
    await first.ledger.delete('k3');
    const before = {
      records: first.ledger.records(),
      heads: first.ledger.heads(),
      digest: first.ledger.stats().stateDigest
    };
    await first.ledger.close();

    const again = await openLedger(loc, 2);
    expect(again.ledger.author).toBe(first.ledger.author);
    expect(await again.store.loadIdentity()).toEqual(first.keys);
    expect(again.ledger.records()).toEqual(before.records);
    expect(again.ledger.heads()).toEqual(before.heads);
    expect(again.ledger.stats().stateDigest).toBe(before.digest);
    const next = await again.ledger.put('after', true);
    expect(next.entry.seq).toBe(22);
    expect(next.entry.prev).toEqual(Uint8Array.from(Buffer.from(before.heads[0].hash, 'hex')));
    await again.ledger.close();
  });

  it('reopens from a compaction plus later entries with the same records, digest and heads', async () => {
    const loc = makeLocation();
    const { ledger } = await openLedger(loc, 3, { compactEvery: 0 });
    for (let i = 0; i < 10; i++) await ledger.put(`k${i}`, i);
    await ledger.compact();
    expect(ledger.stats().lastCompactionAt).not.toBeNull();
    for (let i = 5; i < 15; i++) await ledger.put(`k${i}`, i * 10);
    await ledger.delete('k0');
    const before = { records: ledger.records(), heads: ledger.heads(), digest: ledger.stats().stateDigest };
    await ledger.close();

    const again = await openLedger(loc, 3, { compactEvery: 0 });
    expect(again.ledger.records()).toEqual(before.records);
    expect(again.ledger.heads()).toEqual(before.heads);
    expect(again.ledger.stats().stateDigest).toBe(before.digest);
    // The lamport clock survives the compaction: the next write is stamped above every earlier one.
    const maxLamport = Math.max(...before.records.map((r) => r.lamport));
    expect((await again.ledger.put('z', 1)).entry.lamport).toBeGreaterThan(maxLamport);
    await again.ledger.close();
  });
});

describe('Ledger on memory store: verification on open', () => {
  it('compacts on its own every compactEvery entries', async () => {
    const loc = memoryLocation();
    const { ledger, keys } = await openLedger(loc, 4, { compactEvery: 5 });
    for (let i = 0; i < 12; i++) await ledger.put(`k${i}`, i);
    await ledger.compact(); // waits for queued work
    expect(loc.disk.compaction?.heads).toEqual(ledger.heads());
    const records = ledger.records();
    await ledger.close();
    // Entries below the compaction can be pruned (light replica): reopen still works. As a light
    // replica does (light-budget.ts), the pruned entries' headers are kept first: that is what
    // the store records as pruned (an entry row gone without it is CorruptStoreError on open).
    const pruner = new MemoryLedgerStore({ disk: loc.disk });
    await new PrunedHeaders(pruner, keys.seed).keep(ledger.author, await pruner.getRange(ledger.author, 1, 11));
    expect(await pruner.pruneBefore(ledger.author, 12)).toBe(11);
    const again = await openLedger(loc, 4);
    expect(again.ledger.records()).toEqual(records);
    expect((await again.ledger.put('next', 1)).entry.seq).toBe(13);
  });

  it.each([
    ['a payload byte', (e: { payload: Uint8Array }) => (e.payload[e.payload.length - 1] ^= 1)],
    ['the time', (e: { time: number }) => (e.time += 1)],
    ['the stored hash', (e: { hash: Uint8Array }) => (e.hash[0] ^= 1)],
    ['the signature', (e: { sig: Uint8Array }) => (e.sig[5] ^= 1)]
  ])('refuses to open a store with a tampered entry (%s): CorruptStoreError', async (_what, tamper) => {
    const loc = memoryLocation();
    const { ledger } = await openLedger(loc, 5, { compactEvery: 0 });
    for (let i = 0; i < 6; i++) await ledger.put(`k${i}`, `v${i}`);
    await ledger.compact();
    for (let i = 6; i < 9; i++) await ledger.put(`k${i}`, `v${i}`);
    await ledger.close();
    const stored = loc.disk.entries.get(ledger.author)!.get(8)!;
    tamper(stored as never);
    const err = await openLedger(loc, 5).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'CorruptStoreError', code: 'corrupt-store', author: ledger.author, seq: 8 });
  });

  it('refuses a store with a gap in a feed, or a head that does not match its entry', async () => {
    const loc = memoryLocation();
    const { ledger } = await openLedger(loc, 6);
    for (let i = 0; i < 5; i++) await ledger.put(`k${i}`, i);
    await ledger.close();
    const feed = loc.disk.entries.get(ledger.author)!;
    const third = feed.get(3)!;
    feed.delete(3);
    await expect(openLedger(loc, 6)).rejects.toMatchObject({ name: 'CorruptStoreError', seq: 3 });
    feed.set(3, third);
    loc.disk.heads.set(ledger.author, { ...loc.disk.heads.get(ledger.author)!, hash: 'ab'.repeat(32) });
    await expect(openLedger(loc, 6)).rejects.toMatchObject({ name: 'CorruptStoreError', seq: 5 });
  });

  it('refuses another identity on the same store, and a key pair whose halves disagree', async () => {
    const loc = memoryLocation();
    const { ledger } = await openLedger(loc, 7);
    await ledger.close();
    await expect(openLedger(loc, 8)).rejects.toMatchObject({ name: 'IdentityMismatchError' });
    const a = await keysFromByte(9);
    const b = await keysFromByte(10);
    const store = await loc.open();
    await expect(Ledger.open({ store, genesis, keys: { seed: a.seed, publicKey: b.publicKey } })).rejects.toMatchObject(
      {
        name: 'InvalidKeyError'
      }
    );
  });

  it('gives concurrent puts consecutive seqs, in call order', async () => {
    const { ledger } = await openLedger(memoryLocation(), 11);
    const hs = await Promise.all(Array.from({ length: 25 }, (_, i) => ledger.put(`k${i}`, i)));
    expect(hs.map((h) => h.entry.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    for (let i = 1; i < hs.length; i++) {
      expect(hs[i].entry.prev).toEqual(hs[i - 1].hash);
      expect(hs[i].entry.lamport).toBeGreaterThan(hs[i - 1].entry.lamport);
    }
    expect(ledger.records()).toHaveLength(25);
  });

  it('signs custom app types through transact, and survives reopen', async () => {
    const loc = memoryLocation();
    const { ledger } = await openLedger(loc, 12);
    ledger.registerType('notes', 'text');
    const h = await ledger.transact((doc) => doc.getText('notes').insert(0, 'hello'));
    expect(h?.entry.seq).toBe(1);
    expect(await ledger.transact(() => undefined)).toBeNull();
    await ledger.close();
    const again = await openLedger(loc, 12);
    expect(again.ledger.registerType('notes', 'text').toString()).toBe('hello');
  });

  it('emits change events for local writes and rejects invalid input without writing', async () => {
    const { ledger, store } = await openLedger(memoryLocation(), 13);
    const seen: RecordChange[][] = [];
    ledger.subscribe((c) => seen.push(c));
    await ledger.put('x', 1);
    await ledger.put('x', 2);
    await ledger.delete('x');
    expect(seen).toEqual([
      [{ key: 'x', action: 'add', value: 1 }],
      [{ key: 'x', action: 'update', value: 2 }],
      [{ key: 'x', action: 'delete' }]
    ]);
    await expect(ledger.put('', 1)).rejects.toMatchObject({ name: 'InvalidRecordKeyError' });
    await expect(ledger.put('y', () => 1)).rejects.toMatchObject({ name: 'InvalidRecordValueError' });
    expect(await store.count()).toBe(3);
    expect((await ledger.put('y', 1)).entry.seq).toBe(4);
  });

  it('fails every call after close', async () => {
    const { ledger } = await openLedger(memoryLocation(), 14, { now: testClock() });
    await ledger.close();
    await expect(ledger.put('a', 1)).rejects.toMatchObject({ name: 'StorageClosedError' });
    await ledger.close(); // idempotent
  });
});

describe('Ledger.stats digest', () => {
  it('digest: false returns the last computed digest (no re-encoding); the default recomputes after a change', async () => {
    const { ledger } = await openLedger(memoryLocation(), 5);
    await ledger.put('a', 1);
    const first = ledger.stats().stateDigest;
    await ledger.put('b', 2);
    expect(ledger.stats({ digest: false }).stateDigest).toBe(first);
    const second = ledger.stats().stateDigest;
    expect(second).not.toBe(first);
    expect(ledger.stats({ digest: false }).stateDigest).toBe(second);
    await ledger.close();
  });
});
