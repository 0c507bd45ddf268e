// Ledger events and recovery: a local write's change events wait for its durable commit; fork
// evidence is announced once stored; a failure after an ingest committed rebuilds the state from
// the store; a ledger that could not rebuild refuses writes, ingest and compaction until a
// reload succeeds; ingest verifies a huge batch in bounded chunks.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { LedgerState } from '../../src/lib/core/state/doc.js';
import type { RecordChange } from '../../src/lib/core/state/records.js';
import type { Conflict, ForkEvidence, HashedEntry } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { LEDGER_VERIFY_CONCURRENCY } from '../../src/lib/core/constants.js';
import * as Y from 'yjs';
import { createEntry } from '../../src/lib/core/entry.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
// until: the event loop may take a few turns (signing) before appendLocal.
import { untilImmediate as until } from '../helpers/poll.js';

/** A memory store whose appendLocal, once `hold()` was called, waits for `release()` (or fails with `fail(e)`) before it commits. */
class GatedStore extends MemoryLedgerStore {
  private gate: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | null = null;
  calls = 0;
  hold(): void {
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    this.gate = { promise, resolve, reject };
  }
  release(): void {
    this.gate?.resolve();
    this.gate = null;
  }
  fail(e: unknown): void {
    this.gate?.reject(e);
    this.gate = null;
  }
  override async appendLocal(h: HashedEntry): Promise<void> {
    this.calls++;
    if (this.gate) await this.gate.promise;
    return super.appendLocal(h);
  }
}

/** What a subscriber shows: the records map rebuilt from the change events alone. */
function mirror(ledger: Ledger): { view: Map<string, unknown>; events: RecordChange[][]; conflicts: Conflict[][] } {
  const view = new Map<string, unknown>(ledger.records().map((r) => [r.key, r.value]));
  const events: RecordChange[][] = [];
  const conflicts: Conflict[][] = [];
  ledger.subscribe((cs) => {
    events.push(cs);
    for (const c of cs) {
      if (c.action === 'delete') view.delete(c.key);
      else view.set(c.key, c.value);
    }
  });
  ledger.subscribeConflicts((c) => conflicts.push(c));
  return { view, events, conflicts };
}

const asMap = (l: Ledger) => new Map(l.records().map((r) => [r.key, r.value]));

describe('local writes: change events only after the durable commit', () => {
  it('a subscriber sees nothing until appendLocal resolved', async () => {
    const store = new GatedStore();
    const t = await openLedger(memoryLocation(), 1, { store });
    const m = mirror(t.ledger);
    store.hold();
    const put = t.ledger.put('k', 1);
    await until(() => store.calls === 1); // the write is waiting inside appendLocal
    expect(t.ledger.get('k')).toBeUndefined(); // reads return durable state only...
    expect(t.ledger.records()).toEqual([]);
    expect(m.events).toEqual([]); // ...but not announced
    store.release();
    await put;
    expect(m.events).toEqual([[{ key: 'k', action: 'add', value: 1 }]]);
    expect(m.view).toEqual(asMap(t.ledger));
  });

  it('a failed write delivers nothing for a new key, and leaves the shown view equal to the store', async () => {
    const disk = new MemoryDisk();
    const store = new GatedStore({ disk });
    const t = await openLedger(memoryLocation(disk), 1, { store });
    await t.ledger.put('kept', 1);
    const m = mirror(t.ledger);

    store.hold();
    const lost = t.ledger.put('new', 2).catch((e: unknown) => e);
    await until(() => store.calls === 2);
    store.fail(new Error('disk gone'));
    expect(await lost).toMatchObject({ message: 'disk gone' });
    expect(m.events).toEqual([]);

    store.hold();
    const over = t.ledger.put('kept', 99).catch((e: unknown) => e);
    await until(() => store.calls === 3);
    store.fail(new Error('disk gone again'));
    expect(await over).toMatchObject({ message: 'disk gone again' });
    // At most a repeat of the value subscribers already had, never the lost 99.
    for (const cs of m.events) for (const c of cs) expect(c).toEqual({ key: 'kept', action: 'update', value: 1 });
    expect(m.view).toEqual(asMap(t.ledger));
    expect(asMap(t.ledger)).toEqual(new Map([['kept', 1]]));
    expect(m.conflicts).toEqual([]);

    const reopened = await openLedger(memoryLocation(disk), 1);
    expect(asMap(reopened.ledger)).toEqual(m.view);
  });
});

describe('onFork', () => {
  it('announces fork evidence once it is stored, not when storing it failed', async () => {
    const keys7 = await keysFromByte(7);
    const keys8 = await keysFromByte(8);
    const net = networkId(genesis);
    const first = (text: string, keys = keys7) => {
      const doc = new Y.Doc();
      doc.clientID = clientIdOf(toHex(keys.publicKey));
      doc.getText('t').insert(0, text);
      const payload = Y.encodeStateAsUpdate(doc);
      return createEntry(
        { keys, seq: 1, prev: new Uint8Array(32), lamport: 1, time: 1, clock: text.length, payload },
        net
      );
    };
    const [a1, b1, c1] = await Promise.all([first('a'), first('b'), first('c')]);
    const t = await openLedger(memoryLocation(), 1);
    const seen: { ev: ForkEvidence; stored: Promise<ForkEvidence[]> }[] = [];
    t.ledger.onFork((ev) => seen.push({ ev, stored: t.store.forks() }));
    await t.ledger.ingest([a1]);
    expect(seen).toEqual([]);
    expect(await t.ledger.ingest([b1])).toMatchObject({ forks: 1 });
    expect(seen).toHaveLength(1);
    expect(seen[0].ev).toMatchObject({ author: toHex(keys7.publicKey), seq: 1 });
    expect(seen[0].ev.a.hash).toEqual(a1.hash);
    expect(seen[0].ev.b.hash).toEqual(b1.hash);
    expect(await seen[0].stored).toHaveLength(1); // stored before the callback ran

    // A third variant of the same seq adds no evidence (one piece per author and seq is kept).
    expect(await t.ledger.ingest([c1])).toMatchObject({ forks: 0, dropped: 1 });
    expect(seen).toHaveLength(1);

    // A fork of another author whose evidence cannot be stored is not announced.
    const [x1, y1] = await Promise.all([first('x', keys8), first('y', keys8)]);
    await t.ledger.ingest([x1]);
    (t.store as MemoryLedgerStore).faults = { failOnTable: 'forks' };
    await expect(t.ledger.ingest([y1])).rejects.toMatchObject({ name: 'StorageQuotaError' });
    expect(seen).toHaveLength(1);
  });
});

describe('ingest: failure after the store committed', () => {
  afterEach(() => vi.restoreAllMocks());

  it('rebuilds the state from the store, so memory holds every stored entry', async () => {
    const src = await openLedger(memoryLocation(), 3);
    for (let i = 0; i < 3; i++) await src.ledger.put(`k${i}`, i);
    const dst = await openLedger(memoryLocation(), 4);
    const original = LedgerState.prototype.applyRemote;
    let calls = 0;
    vi.spyOn(LedgerState.prototype, 'applyRemote').mockImplementation(function (this: LedgerState, ...args) {
      if (++calls === 2) throw new TypeError('a bug in the state layer');
      return original.apply(this, args);
    });
    await expect(dst.ledger.ingest(src.log)).rejects.toThrow('a bug in the state layer');
    expect(await dst.store.count()).toBe(3); // stored before applying failed
    expect(dst.ledger.records()).toEqual(src.ledger.records());
    expect(dst.ledger.heads()).toEqual(src.ledger.heads());
    expect(dst.ledger.stats().stateDigest).toBe(src.ledger.stats().stateDigest);
  });
});

describe('broken ledger', () => {
  it('refuses writes, ingest and compaction until a reload succeeds, then works again', async () => {
    const src = await openLedger(memoryLocation(), 3);
    await src.ledger.put('x', 1);
    await src.ledger.put('y', 2);
    const store = new MemoryLedgerStore();
    const t = await openLedger(memoryLocation(), 1, { store });
    await t.ledger.put('a', 1);

    const appendLocal = store.appendLocal.bind(store);
    const loadCompaction = store.loadCompaction.bind(store);
    store.appendLocal = () => Promise.reject(new Error('write failed'));
    store.loadCompaction = () => Promise.reject(new Error('read failed')); // so the rebuild fails too
    await expect(t.ledger.put('b', 2)).rejects.toThrow('write failed');
    store.appendLocal = appendLocal;
    store.loadCompaction = loadCompaction;

    await expect(t.ledger.put('c', 3)).rejects.toThrow('read failed');
    await expect(t.ledger.ingest([src.log[0]])).rejects.toThrow('read failed');
    await expect(t.ledger.compact()).rejects.toThrow('read failed');
    expect(await store.count()).toBe(1);
    expect(await store.loadCompaction()).toBeUndefined();

    await t.ledger.reload();
    expect(t.ledger.records().map((r) => r.key)).toEqual(['a']);
    expect((await t.ledger.put('c', 3)).entry.seq).toBe(2);
    expect(await t.ledger.ingest(src.log)).toMatchObject({ added: 2, rejected: [] });
    expect(t.ledger.records().map((r) => r.key)).toEqual(['a', 'c', 'x', 'y']);
  });
});

describe('ingest: bounded verification', () => {
  it(`starts at most ${LEDGER_VERIFY_CONCURRENCY} verifications at once, and still checks every entry`, async () => {
    const src = await openLedger(memoryLocation(), 3);
    const h = await src.ledger.put('k', 1);
    const t = await openLedger(memoryLocation(), 1);
    let touched = 0;
    const n = LEDGER_VERIFY_CONCURRENCY * 2 + 10;
    const batch = Array.from({ length: n }, () => ({
      get entry() {
        touched++;
        return h.entry;
      },
      hash: h.hash
    }));
    const done = t.ledger.ingest(batch);
    // Everything up to the first await ran synchronously: exactly one chunk was started.
    expect(touched).toBe(LEDGER_VERIFY_CONCURRENCY);
    expect(await done).toMatchObject({ added: 1, duplicates: n - 1, rejected: [] });
    expect(touched).toBe(n);
  });
});
