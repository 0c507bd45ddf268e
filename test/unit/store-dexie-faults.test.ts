// Dexie store under the storage failures browsers really produce (issue 6, case 9): a quota error
// on the request, a transaction aborted with the quota cause on the transaction only (Chromium's
// usual full-disk shape), and a request that never settles. Every write must reject with the
// right typed error within its time bound, leave nothing behind, and not block later writes.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import type { LedgerStore } from '../../src/lib/core/storage.js';
import type { ForkEvidence } from '../../src/lib/core/types.js';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import type { StorageTimeouts } from '../../src/lib/platform/storage-deadline.js';
import { faultAddon, type DexieFaultMode, type DexieFaultPlan } from '../helpers/dexie-faults.js';
import { fakeFeed, randomBytes } from '../helpers/fake-feed.js';
import { openLedger, type Location } from '../helpers/ledger-nodes.js';

/** Time bound the tests give every store operation. */
const BOUND_MS = 300;
/** Scheduling slack on a loaded machine; a hang is anything beyond BOUND_MS + SLACK_MS. */
const SLACK_MS = 2_000;
const TIMEOUTS = { baseMs: BOUND_MS, perEntryMs: 0, perMiBMs: 0 };

let dbs = 0;
async function faultyStore(): Promise<{
  store: DexieLedgerStore;
  plan: DexieFaultPlan;
  reopen: () => Promise<LedgerStore>;
}> {
  const plan: DexieFaultPlan = {};
  const indexedDB = new IDBFactory();
  const name = `faults-${++dbs}`;
  const open = () =>
    DexieLedgerStore.open({ name, indexedDB, IDBKeyRange, addons: [faultAddon(plan)], timeouts: TIMEOUTS });
  return { store: await open(), plan, reopen: open };
}

const HUNG = Symbol('hung');
/** The promise's outcome (value or error), or HUNG if it has not settled after `ms`; and how long it took. */
async function settle<T>(p: Promise<T>, ms = BOUND_MS + SLACK_MS): Promise<{ out: T | unknown; ms: number }> {
  const t0 = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cap = new Promise<typeof HUNG>((r) => (timer = setTimeout(() => r(HUNG), ms)));
  const out = await Promise.race([p.catch((e: unknown) => e), cap]);
  clearTimeout(timer);
  return { out, ms: Date.now() - t0 };
}

/** One write of the LedgerStore contract: how to make it, the table it writes, and its trace. */
interface WriteCase {
  name: string;
  table: string;
  setup?: (s: LedgerStore) => Promise<void>;
  write: (s: LedgerStore) => Promise<unknown>;
  /** What the store shows of the write: its "nothing" value before, something else after. */
  trace: (s: LedgerStore) => Promise<unknown>;
}

function writeCases(): WriteCase[] {
  const author = randomBytes(32);
  const feed = fakeFeed(author, 3);
  const other = fakeFeed(author, 1)[0];
  const fork: ForkEvidence = { author: toHex(author), seq: 1, a: feed[0], b: other, detectedAt: 1 };
  const compaction = {
    state: randomBytes(16),
    heads: [{ author: toHex(author), seq: 3, hash: toHex(feed[2].hash) }],
    at: 5
  };
  return [
    {
      name: 'appendLocal',
      table: 'entries',
      write: (s) => s.appendLocal(feed[0]),
      trace: async (s) => [await s.count(), await s.heads()]
    },
    {
      name: 'ingest',
      table: 'heads',
      write: (s) => s.ingest(feed),
      trace: async (s) => [await s.count(), await s.heads()]
    },
    {
      name: 'saveCompaction',
      table: 'compaction',
      write: (s) => s.saveCompaction(compaction),
      trace: (s) => s.loadCompaction()
    },
    { name: 'putFork', table: 'forks', write: (s) => s.putFork(fork), trace: (s) => s.forks() },
    {
      name: 'pruneBefore',
      table: 'entries',
      setup: async (s) => void (await s.ingest(feed)),
      write: (s) => s.pruneBefore(toHex(author), 3),
      trace: (s) => s.count()
    },
    { name: 'setMeta', table: 'meta', write: (s) => s.setMeta('k', { v: 1 }), trace: (s) => s.getMeta('k') },
    {
      name: 'saveIdentity',
      table: 'identity',
      write: (s) => s.saveIdentity({ seed: randomBytes(32), publicKey: author }),
      trace: (s) => s.loadIdentity()
    }
  ];
}

const QUOTA_SHAPES: { mode: DexieFaultMode; shape: string }[] = [
  { mode: 'quota', shape: 'the request fails with QuotaExceededError' },
  { mode: 'abort-quota', shape: 'the request gets AbortError, tx.error is QuotaExceededError' }
];

describe('DexieLedgerStore: a quota failure of any shape is a StorageQuotaError', () => {
  for (const { mode, shape } of QUOTA_SHAPES) {
    for (const c of writeCases()) {
      it(`${c.name}: ${shape}; nothing stored, the retried write succeeds`, async () => {
        const { store, plan } = await faultyStore();
        await c.setup?.(store);
        const before = await c.trace(store);
        Object.assign(plan, { mode, failOnTable: c.table });
        const { out, ms } = await settle(c.write(store));
        expect(out).toMatchObject({ name: 'StorageQuotaError', code: 'storage-quota' });
        expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
        expect(plan.failOnTable).toBeUndefined(); // the fault really fired
        expect(await c.trace(store)).toEqual(before);
        await c.write(store);
        expect(await c.trace(store)).not.toEqual(before);
        await store.close();
      });
    }
  }
});

describe('DexieLedgerStore: a transaction that never settles', () => {
  for (const c of writeCases()) {
    it(`${c.name}: rejects with StorageTimeoutError within the bound, rolled back; the next write succeeds`, async () => {
      const { store, plan } = await faultyStore();
      await c.setup?.(store);
      const before = await c.trace(store);
      Object.assign(plan, { mode: 'hang', failOnTable: c.table });
      const { out, ms } = await settle(c.write(store));
      expect(plan.hung).toBe(1);
      expect(out).toMatchObject({ name: 'StorageTimeoutError', code: 'storage-timeout', rolledBack: true });
      expect(ms).toBeGreaterThanOrEqual(BOUND_MS - 20);
      expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
      // The hung request had written inside its transaction: the abort rolled that back.
      expect(await c.trace(store)).toEqual(before);
      const retry = await settle(c.write(store));
      expect(retry.out).not.toBeInstanceOf(Error);
      expect(await c.trace(store)).not.toEqual(before);
      await store.close();
    });
  }

  it('operations queued behind the hung transaction settle within the bound too; later ones succeed', async () => {
    const { store, plan } = await faultyStore();
    const feed = fakeFeed(randomBytes(32), 2);
    Object.assign(plan, { mode: 'hang', failOnTable: 'entries' });
    const hung = settle(store.appendLocal(feed[0]));
    // IndexedDB runs overlapping transactions in order: these wait for the hung one, on their
    // own clocks, so each either succeeds once it is aborted or times out itself: never hangs.
    const queued = [settle(store.count()), settle(store.ingest(feed)), settle(store.heads())];
    expect((await hung).out).toMatchObject({ name: 'StorageTimeoutError' });
    for (const q of await Promise.all(queued)) {
      expect(q.out).not.toBe(HUNG);
      if (q.out instanceof Error) expect(q.out).toMatchObject({ name: 'StorageTimeoutError' });
    }
    expect((await settle(store.ingest(feed))).out).toMatchObject({ conflicts: [] });
    expect((await settle(store.count())).out).toBe(2);
    await store.close();
  });

  it('a write that commits although it never reported back: StorageTimeoutError, rolledBack false, and it is stored', async () => {
    const { store, plan } = await faultyStore();
    const [e1] = fakeFeed(randomBytes(32), 1);
    Object.assign(plan, { mode: 'hang-commit', failOnTable: 'heads' });
    const { out } = await settle(store.appendLocal(e1));
    expect(out).toMatchObject({ name: 'StorageTimeoutError', rolledBack: false });
    expect(await store.count()).toBe(1);
    await store.close();
  });

  it('a bound extends with the work: a large ingest is not cut off', async () => {
    const feed = fakeFeed(randomBytes(32), 6000); // ~0.3 s on fake-indexeddb
    const indexedDB = new IDBFactory();
    // The open is bounded by the same 60 ms base, which a loaded machine can miss: retry it (an
    // open of the empty database changes nothing); the bound under test is the ingest's.
    const open = async (timeouts?: Partial<StorageTimeouts>): Promise<DexieLedgerStore> => {
      for (let i = 1; ; i++) {
        try {
          return await DexieLedgerStore.open({ name: 'big', indexedDB, IDBKeyRange, timeouts });
        } catch (e) {
          if ((e as Error).name !== 'StorageTimeoutError' || i >= 50) throw e;
        }
      }
    };
    // All connections open up front, on an empty database; `check` reads with the default bounds.
    const short = await open({ baseMs: 60, perEntryMs: 0, perMiBMs: 0 });
    const patient = await open({ baseMs: 60, perEntryMs: 2, perMiBMs: 0 });
    const check = await open();
    await expect(short.ingest(feed)).rejects.toMatchObject({ name: 'StorageTimeoutError', rolledBack: true });
    expect(await check.count()).toBe(0);
    await expect(patient.ingest(feed)).resolves.toMatchObject({ added: 6000 });
    expect(await check.count()).toBe(6000);
    for (const s of [short, patient, check]) await s.close();
  });
});

describe('Ledger on Dexie: a hung local write', () => {
  const location = (plan: DexieFaultPlan): Location => {
    const indexedDB = new IDBFactory();
    const name = `ledger-hang-${++dbs}`;
    return {
      kind: 'dexie',
      open: async () =>
        DexieLedgerStore.open({ name, indexedDB, IDBKeyRange, addons: [faultAddon(plan)], timeouts: TIMEOUTS })
    };
  };

  it('rolled back: put rejects with StorageTimeoutError in time, the value is gone, the next put takes the same seq', async () => {
    const plan: DexieFaultPlan = {};
    const loc = location(plan);
    const t = await openLedger(loc, 11);
    await t.ledger.put('a', 1);
    Object.assign(plan, { mode: 'hang', failOnTable: 'entries' });
    const { out, ms } = await settle(t.ledger.put('lost', 2), 2 * BOUND_MS + SLACK_MS);
    expect(out).toMatchObject({ name: 'StorageTimeoutError', rolledBack: true });
    expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
    expect(t.ledger.get('lost')).toBeUndefined();
    const next = await settle(t.ledger.put('b', 3));
    expect(next.out).toMatchObject({ entry: { seq: 2 } });
    await t.ledger.close();
    const again = await openLedger(loc, 11);
    expect(again.ledger.records().map((r) => r.key)).toEqual(['a', 'b']);
    await again.ledger.close();
  });

  it('committed anyway: put rejects with StorageTimeoutError (rolledBack false), the rebuild shows the durable value, no fork', async () => {
    const plan: DexieFaultPlan = {};
    const loc = location(plan);
    const t = await openLedger(loc, 12);
    Object.assign(plan, { mode: 'hang-commit', failOnTable: 'heads' });
    const { out } = await settle(t.ledger.put('landed', 1), 2 * BOUND_MS + SLACK_MS);
    expect(out).toMatchObject({ name: 'StorageTimeoutError', rolledBack: false });
    // The ledger rebuilt memory from the store: what it shows is what is durable.
    expect(t.ledger.get('landed')).toBe(1);
    const next = await settle(t.ledger.put('b', 2));
    expect(next.out).toMatchObject({ entry: { seq: 2 } });
    await t.ledger.close();
    const again = await openLedger(loc, 12);
    expect(again.ledger.records().map((r) => r.key)).toEqual(['b', 'landed']);
    await again.ledger.close();
  });
});
