// Ledger under storage failures: a quota error on a local write leaves no trace in memory or
// on disk, and a crash (the ledger dropped, the store failing from a random write on) loses no
// acknowledged write and leaves no half-applied entry.
// Replay one crash run: SEED=<printed seed> CRASH_RUNS=1 npx vitest run test/unit/ledger-faults.test.ts
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/lib/core/ledger.js';
import { MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import type { RecordChange } from '../../src/lib/core/state/records.js';
import type { LedgerStore } from '../../src/lib/core/storage.js';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import { faultAddon, type DexieFaultPlan } from '../helpers/dexie-faults.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, mulberry, openLedger, testClock } from '../helpers/ledger-nodes.js';

describe('Ledger: quota failure on a local write', () => {
  it('rejects with StorageQuotaError, drops the value from memory and subscribers, and carries on', async () => {
    const loc = memoryLocation();
    const t = await openLedger(loc, 1);
    const store = t.store as MemoryLedgerStore;
    await t.ledger.put('kept', 1);
    const changes: RecordChange[][] = [];
    t.ledger.subscribe((c) => changes.push(c));
    const conflictCalls: unknown[] = [];
    t.ledger.subscribeConflicts((c) => conflictCalls.push(c));

    store.faults = { failOnTable: 'entries' };
    const err = await t.ledger.put('lost', { big: 'value' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'StorageQuotaError', code: 'storage-quota' });
    expect(t.ledger.get('lost')).toBeUndefined();
    expect(t.ledger.records().map((r) => r.key)).toEqual(['kept']);
    // Events of a local write wait for its durable commit: subscribers never saw the lost value.
    expect(changes).toEqual([]);
    expect(t.ledger.heads()[0].seq).toBe(1);

    // Subscriptions survived the rebuild and the next write takes the next seq.
    const h = await t.ledger.put('next', 2);
    expect(h.entry.seq).toBe(2);
    expect(changes.at(-1)).toEqual([{ key: 'next', action: 'add', value: 2 }]);
    // An overwrite of the rebuilt state's value is sequential: no conflict.
    await t.ledger.put('kept', 3);
    expect(t.ledger.conflicts()).toEqual([]);
    expect(conflictCalls).toEqual([]);
    expect(t.log.map((e) => e.entry.seq)).toEqual([1, 2, 3]); // the failed write was never announced
    await t.ledger.close();

    const again = await openLedger(loc, 1);
    expect(again.ledger.records().map((r) => [r.key, r.value])).toEqual([
      ['kept', 3],
      ['next', 2]
    ]);
    expect(await again.store.count()).toBe(3);
  });

  it('rejects an oversized local write the same way, with OversizedEntryError', async () => {
    const t = await openLedger(memoryLocation(), 2);
    const big = 'x'.repeat(genesis.maxEntryBytes);
    await expect(t.ledger.put('big', [big, big].join(''))).rejects.toMatchObject({ name: 'InvalidRecordValueError' });
    const near = 'y'.repeat(30_000);
    await t.ledger.put('a', near);
    await t.ledger.put('b', near);
    const seen: RecordChange[][] = [];
    t.ledger.subscribe((c) => seen.push(c));
    // A transaction larger than the genesis limit: signed, but refused before it is stored.
    const err = await t.ledger
      .transact((doc) => {
        doc.getText('bulk').insert(0, 'z'.repeat(genesis.maxEntryBytes + 10));
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'OversizedEntryError' });
    expect(t.ledger.doc.getText('bulk').toString()).toBe('');
    expect((await t.ledger.put('c', 1)).entry.seq).toBe(3);
  });
});

describe('Ledger: quota failure while ingesting', () => {
  it('throws StorageQuotaError, applies nothing, and accepts the same batch on retry', async () => {
    const src = await openLedger(memoryLocation(), 3);
    for (let i = 0; i < 4; i++) await src.ledger.put(`k${i}`, i);
    const dst = await openLedger(memoryLocation(), 4);
    const store = dst.store as MemoryLedgerStore;
    store.faults = { failOnTable: 'entries' };
    // Seq 3 first: it waits as pending, then 1-2 unblock it and all three go to one store.ingest.
    await expect(dst.ledger.ingest([src.log[2], src.log[0], src.log[1]])).rejects.toMatchObject({
      name: 'StorageQuotaError'
    });
    expect(dst.ledger.records()).toEqual([]);
    expect(dst.ledger.heads()).toEqual([]);
    expect(dst.log).toEqual([]);
    expect(await store.count()).toBe(0);
    expect(await dst.ledger.ingest(src.log)).toMatchObject({ added: 4, rejected: [] });
    expect(dst.ledger.records()).toEqual(src.ledger.records());
  });
});

const BASE_SEED = Number(process.env.SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.CRASH_RUNS ?? 30);

type Backend = 'memory' | 'dexie';

/** One crash run: random puts/deletes (some awaited, some in flight), a fault from a random write on. */
async function crashRun(seed: number, backend: Backend): Promise<void> {
  const rand = mulberry(seed);
  const keys = await keysFromByte(1 + (seed % 200));
  const ops = 5 + Math.floor(rand() * 40);
  const failAfter = Math.floor(rand() * ops * 2);
  const loc = memoryLocation();
  const idb = new IDBFactory();
  const plan: DexieFaultPlan = {};
  let store: LedgerStore;
  if (backend === 'memory') {
    store = await loc.open();
  } else {
    store = await DexieLedgerStore.open({ name: 'crash', indexedDB: idb, IDBKeyRange, addons: [faultAddon(plan)] });
  }
  const ledger = await Ledger.open({
    store,
    genesis,
    keys,
    now: testClock(),
    compactEvery: 1 + Math.floor(rand() * 8)
  });
  // Arm the fault after open (open writes identity and meta).
  if (backend === 'memory') (store as MemoryLedgerStore).faults = { failAfterWrites: failAfter, sticky: true };
  else Object.assign(plan, { failAfterMutations: failAfter, mode: rand() < 0.5 ? 'quota' : 'abort', mutations: 0 });

  /** key → value of the last acknowledged write, in acknowledgement order (undefined = deleted). */
  const acked = new Map<string, unknown>();
  const ackedSeqs: number[] = [];
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < ops; i++) {
    const key = `k${Math.floor(rand() * 6)}`;
    const value = { i, seed };
    const op =
      rand() < 0.2
        ? ledger.delete(key).then((h) => {
            if (h) ackedSeqs.push(h.entry.seq);
            acked.set(key, undefined);
          })
        : ledger.put(key, value).then((h) => {
            ackedSeqs.push(h.entry.seq);
            acked.set(key, value);
          });
    const settled = op.catch(() => undefined);
    if (rand() < 0.5) await settled;
    else inflight.push(settled);
  }
  await Promise.all(inflight);
  // Crash: the ledger is dropped without close.

  const reopened =
    backend === 'memory'
      ? await loc.open()
      : await DexieLedgerStore.open({ name: 'crash', indexedDB: idb, IDBKeyRange });
  const after = await Ledger.open({ store: reopened, genesis, keys, now: testClock() });
  const ctx = `seed ${seed} backend ${backend} ops ${ops} failAfter ${failAfter}`;
  for (const [key, value] of acked) expect(after.get(key), `${ctx} key ${key}`).toEqual(value);
  // Seqs were handed out in order and a failed write is never stored, so the acknowledged writes
  // are exactly the stored feed: nothing extra, nothing half-applied.
  const head = after.heads()[0]?.seq ?? 0;
  expect(head, ctx).toBe(ackedSeqs.length);
  expect(
    [...ackedSeqs].sort((a, b) => a - b),
    ctx
  ).toEqual(Array.from({ length: head }, (_, i) => i + 1));
  expect(await reopened.count(), ctx).toBe(head);
  await after.close();
}

describe('Ledger: crash at a random write', () => {
  it.each(['memory', 'dexie'] as const)('loses no acknowledged write on %s (seeded)', async (backend) => {
    console.log(`ledger crash seed ${BASE_SEED} (${backend}, ${RUNS} runs)`);
    for (let r = 0; r < RUNS; r++) await crashRun(BASE_SEED + r, backend);
  });
});
