// Group commit of local writes (write-groups.ts): writes requested while the ledger is busy are
// signed in order and stored in ONE strict transaction; each promise settles once its own entry
// is durable; a failing commit rejects the whole group and leaves memory, store and chain as they
// were; a write never overtakes work queued after it.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type Dexie from 'dexie';
import type { DBCore } from 'dexie';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { LEDGER_MAX_GROUP_WRITES } from '../../src/lib/core/constants.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import type { RecordChange } from '../../src/lib/core/state/records.js';
import type { LedgerStore } from '../../src/lib/core/storage.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import { faultAddon, type DexieFaultPlan } from '../helpers/dexie-faults.js';
import { genesis, memoryLocation, openLedger, testClock } from '../helpers/ledger-nodes.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { untilImmediate as until } from '../helpers/poll.js';

/** A memory store that counts local appends and can hold them at a gate until released. */
class GatedStore extends MemoryLedgerStore {
  singles = 0;
  /** Entries of each appendLocalBatch call. */
  batches: number[] = [];
  private gate: Promise<void> | null = null;
  private unblock: (() => void) | null = null;
  hold(): void {
    this.gate = new Promise((r) => (this.unblock = r));
  }
  release(): void {
    this.gate = null;
    this.unblock?.();
  }
  get calls(): number {
    return this.singles + this.batches.length;
  }
  override async appendLocal(h: HashedEntry): Promise<void> {
    this.singles++;
    if (this.gate) await this.gate;
    return super.appendLocal(h);
  }
  override async appendLocalBatch(batch: readonly HashedEntry[]): Promise<void> {
    this.batches.push(batch.length);
    if (this.gate) await this.gate;
    return super.appendLocalBatch(batch);
  }
}

/** Settles-state of promises, without awaiting them. */
function track<T>(ps: Promise<T>[]): { settled: () => number } {
  let n = 0;
  for (const p of ps)
    p.then(
      () => n++,
      () => n++
    );
  return { settled: () => n };
}

/** Every entry links to the one before it: seqs consecutive from `from`, prev = previous hash. */
function expectChain(entries: HashedEntry[], from: number, prevHash?: Uint8Array): void {
  entries.forEach((h, i) => {
    expect(h.entry.seq).toBe(from + i);
    const prev = i === 0 ? prevHash : entries[i - 1].hash;
    if (prev !== undefined) expect(h.entry.prev).toEqual(prev);
  });
}

/** Counts readwrite IndexedDB transactions of a Dexie store (DBCore middleware). */
function rwCounter(): { count: number; addon: (db: Dexie) => void } {
  const c = {
    count: 0,
    addon: (db: Dexie) => {
      db.use({
        stack: 'dbcore',
        name: 'count-rw',
        create: (down: DBCore): DBCore => ({
          ...down,
          transaction: (tables, mode, opts) => {
            if (mode === 'readwrite') c.count++;
            return down.transaction(tables, mode, opts);
          }
        })
      });
    }
  };
  return c;
}

describe('group commit: one transaction per group', () => {
  it('concurrent puts on Dexie commit in ONE readwrite transaction, chained in call order', async () => {
    const counter = rwCounter();
    const name = `group-commit-${Date.now()}`;
    const indexedDB = new IDBFactory();
    const open = () => DexieLedgerStore.open({ name, indexedDB, IDBKeyRange, addons: [counter.addon] });
    const keys = await keysFromByte(21);
    const ledger = await Ledger.open({ store: await open(), genesis, keys, now: testClock() });
    const first = await ledger.put('warm-up', 0);
    counter.count = 0;
    const n = 40;
    const written = await Promise.all(Array.from({ length: n }, (_, i) => ledger.put(`k${i}`, i)));
    expect(counter.count).toBe(1);
    expectChain(written, 2, first.hash);
    expect(ledger.heads()).toEqual([{ author: toHex(keys.publicKey), seq: n + 1, hash: toHex(written[n - 1].hash) }]);
    const records = ledger.records();
    await ledger.close();
    // Reopening verifies every stored entry and the chain.
    const again = await Ledger.open({ store: await open(), genesis, keys, now: testClock(2e12) });
    expect(again.records()).toEqual(records);
    expect(again.records()).toHaveLength(n + 1);
    await again.close();
  });

  it('writes requested while a commit is in flight wait, then commit together', async () => {
    const store = new GatedStore();
    const t = await openLedger(memoryLocation(), 1, { store });
    store.hold();
    const a = t.ledger.put('a', 1);
    await until(() => store.calls === 1);
    const rest = ['b', 'c', 'd', 'e'].map((k, i) => t.ledger.put(k, i));
    const tracked = track([a, ...rest]);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(tracked.settled()).toBe(0); // nothing is acknowledged before its entry is durable
    expect(store.calls).toBe(1); // the later writes wait for the commit in flight
    store.release();
    const all = await Promise.all([a, ...rest]);
    expect(store.singles).toBe(1);
    expect(store.batches).toEqual([4]);
    expectChain(all, 1);
    expect(t.log.map((h) => h.entry.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it(`a burst larger than ${LEDGER_MAX_GROUP_WRITES} writes is committed in groups of at most that many`, async () => {
    const store = new GatedStore();
    const t = await openLedger(memoryLocation(), 1, { store, compactEvery: 0 });
    const n = LEDGER_MAX_GROUP_WRITES + 7;
    const written = await Promise.all(Array.from({ length: n }, (_, i) => t.ledger.put(`k${i}`, i)));
    expect(store.batches).toEqual([LEDGER_MAX_GROUP_WRITES, 7]);
    expect(store.singles).toBe(0);
    expectChain(written, 1);
  });

  it('holds every promise, every event and every read until the whole group is durable', async () => {
    const store = new GatedStore();
    const t = await openLedger(memoryLocation(), 1, { store });
    await t.ledger.put('x', 1);
    const events: RecordChange[][] = [];
    t.ledger.subscribe((c) => events.push(c));
    store.hold();
    const group = [t.ledger.put('x', 2), t.ledger.put('y', 1), t.ledger.put('x', 3), t.ledger.delete('x')];
    const tracked = track(group);
    await until(() => store.batches.length === 1);
    expect(store.batches).toEqual([4]);
    expect(tracked.settled()).toBe(0);
    expect(events).toEqual([]);
    expect(t.ledger.get('x')).toBe(1); // the durable value, though the document holds the group's
    expect(t.ledger.get('y')).toBeUndefined();
    expect(t.ledger.records().map((r) => [r.key, r.value])).toEqual([['x', 1]]);
    store.release();
    await Promise.all(group);
    expect(t.ledger.get('x')).toBeUndefined();
    expect(t.ledger.get('y')).toBe(1);
    expect(events.flat().map((c) => `${c.action}:${c.key}`)).toContain('add:y');
  });
});

type Harness = {
  name: string;
  open: () => Promise<{ store: LedgerStore; reopen: () => Promise<LedgerStore>; failHeadsOnce: () => void }>;
};

const harnesses: Harness[] = [
  {
    name: 'memory',
    open: async () => {
      const disk = new MemoryDisk();
      const store = new MemoryLedgerStore({ disk });
      return {
        store,
        reopen: async () => new MemoryLedgerStore({ disk }),
        failHeadsOnce: () => (store.faults = { failOnTable: 'heads' })
      };
    }
  },
  {
    name: 'dexie',
    open: async () => {
      const plan: DexieFaultPlan = {};
      const name = `group-quota-${Date.now()}-${Math.random()}`;
      const indexedDB = new IDBFactory();
      const open = () => DexieLedgerStore.open({ name, indexedDB, IDBKeyRange, addons: [faultAddon(plan)] });
      return { store: await open(), reopen: open, failHeadsOnce: () => (plan.failOnTable = 'heads') };
    }
  }
];

describe.each(harnesses)('group commit: a failing commit ($name store)', (harness) => {
  it('rejects every write of the group with StorageQuotaError, leaves state and chain intact, and the next write succeeds', async () => {
    const h = await harness.open();
    const keys = await keysFromByte(22);
    const ledger = await Ledger.open({ store: h.store, genesis, keys, now: testClock() });
    const kept = await ledger.put('kept', 1);
    const events: RecordChange[][] = [];
    ledger.subscribe((c) => events.push(c));
    const appended: HashedEntry[] = [];
    ledger.onAppend((e) => appended.push(e));

    // The heads row is written after the group's entries: the transaction fails half-way through.
    h.failHeadsOnce();
    const group = ['a', 'b', 'kept', 'c'].map((k, i) => ledger.put(k, 10 + i));
    const results = await Promise.allSettled(group);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ name: 'StorageQuotaError', code: 'storage-quota' });
    }
    expect(await h.store.count()).toBe(1);
    expect(await h.store.heads()).toEqual([{ author: toHex(keys.publicKey), seq: 1, hash: toHex(kept.hash) }]);
    expect(ledger.heads()).toEqual(await h.store.heads());
    expect(ledger.records().map((r) => [r.key, r.value])).toEqual([['kept', 1]]);
    expect(ledger.get('a')).toBeUndefined();
    // Subscribers never saw a value of the group: at most a repeat of the durable one.
    for (const cs of events) for (const c of cs) expect(c).toEqual({ key: 'kept', action: 'update', value: 1 });
    expect(appended).toEqual([]);

    // The next writes continue the stored chain: seq 2 after seq 1, nothing reused or skipped.
    const next = await Promise.all([ledger.put('next', 2), ledger.put('kept', 3)]);
    expectChain(next, 2, kept.hash);
    const records = ledger.records();
    await ledger.close();
    const again = await Ledger.open({ store: await h.reopen(), genesis, keys, now: testClock(2e12) });
    expect(again.records()).toEqual(records);
    expect(again.records().map((r) => [r.key, r.value])).toEqual([
      ['kept', 3],
      ['next', 2]
    ]);
    expect(await again.store.count()).toBe(3);
    await again.close();
  });
});

describe('group commit: one write of a group fails before it is stored', () => {
  it('stores the writes before it, rejects it, stores the writes after it; memory equals the store', async () => {
    const disk = new MemoryDisk();
    const store = new GatedStore({ disk });
    const t = await openLedger(memoryLocation(disk), 1, { store });
    store.hold();
    const first = t.ledger.put('a', 1);
    await until(() => store.calls === 1);
    const before = t.ledger.put('b', 2);
    // Larger than the genesis limit: refused when signed, after the document took the change.
    const oversized = t.ledger
      .transact((doc) => doc.getText('bulk').insert(0, 'z'.repeat(genesis.maxEntryBytes + 10)))
      .catch((e: unknown) => e);
    const invalid = t.ledger.put('', 1).catch((e: unknown) => e); // refused before it touches the document
    const after = t.ledger.put('c', 3);
    store.release();
    const [a, b, c] = await Promise.all([first, before, after]);
    expect(await oversized).toMatchObject({ name: 'OversizedEntryError' });
    expect(await invalid).toMatchObject({ name: 'InvalidRecordKeyError' });
    expectChain([a, b, c], 1);
    expect(t.ledger.doc.getText('bulk').toString()).toBe('');
    expect(t.ledger.records().map((r) => r.key)).toEqual(['a', 'b', 'c']);
    expect(await t.store.count()).toBe(3);
    const reopened = await openLedger(memoryLocation(disk), 1);
    expect(reopened.ledger.records()).toEqual(t.ledger.records());
    expect(reopened.ledger.stats().stateDigest).toBe(t.ledger.stats().stateDigest);
  });
});

describe('group commit: order of queued work', () => {
  it('a write requested after compact() does not join the group queued before it', async () => {
    const store = new GatedStore();
    const t = await openLedger(memoryLocation(), 1, { store, compactEvery: 0 });
    store.hold();
    const a = t.ledger.put('a', 1);
    await until(() => store.calls === 1);
    const b = t.ledger.put('b', 2);
    const compacted = t.ledger.compact();
    const c = t.ledger.put('c', 3);
    store.release();
    await Promise.all([a, b, compacted, c]);
    expect((await store.loadCompaction())?.heads.map((h) => h.seq)).toEqual([2]);
    expect(store.singles).toBe(3);
    expect(store.batches).toEqual([]);
  });

  it('a write requested after close() rejects with StorageClosedError; one requested before is stored', async () => {
    const t = await openLedger(memoryLocation(), 1);
    const before = t.ledger.put('a', 1);
    const closing = t.ledger.close();
    const after = t.ledger.put('b', 2);
    await expect(before).resolves.toMatchObject({ entry: { seq: 1 } });
    await expect(after).rejects.toMatchObject({ name: 'StorageClosedError' });
    await closing;
  });
});
