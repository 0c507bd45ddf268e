// Ledger test harness: ledgers on memory disks or fake-indexeddb that can be closed, dropped and
// reopened, and a log of every entry each one appended (for replicating between ledgers).
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { defaultGenesis } from '../../src/lib/core/genesis.js';
import { Ledger, type LedgerOptions } from '../../src/lib/core/ledger.js';
import { MemoryDisk, MemoryLedgerStore, type MemoryFaults } from '../../src/lib/core/memory-store.js';
import type { LedgerStore } from '../../src/lib/core/storage.js';
import type { FeedHead, HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import { keysFromByte } from './ledger-fixtures.js';

export const genesis = defaultGenesis();

/** A persistent location: each open() gives a new store on the same data. */
export interface Location {
  kind: 'memory' | 'dexie';
  open(faults?: MemoryFaults): Promise<LedgerStore>;
}

export function memoryLocation(disk = new MemoryDisk()): Location & { disk: MemoryDisk } {
  return { kind: 'memory', disk, open: async (faults) => new MemoryLedgerStore({ disk, faults }) };
}

let dbCounter = 0;
export function dexieLocation(): Location {
  const indexedDB = new IDBFactory();
  const name = `ledger-test-${dbCounter++}`;
  return { kind: 'dexie', open: async () => DexieLedgerStore.open({ name, indexedDB, IDBKeyRange }) };
}

/** A deterministic test clock: strictly increasing integers. */
export function testClock(start = 1_700_000_000_000): () => number {
  let t = start;
  return () => t++;
}

export interface TestLedger {
  ledger: Ledger;
  store: LedgerStore;
  keys: IdentityKeys;
  /** Every entry the ledger appended (local and remote), in append order. */
  log: HashedEntry[];
}

export async function openLedger(
  loc: Location,
  keyByte: number,
  opts: Partial<LedgerOptions> & { faults?: MemoryFaults } = {}
): Promise<TestLedger> {
  const keys = await keysFromByte(keyByte);
  const store = opts.store ?? (await loc.open(opts.faults));
  const ledger = await Ledger.open({ genesis, now: testClock(), ...opts, store, keys });
  const log: HashedEntry[] = [];
  ledger.onAppend((h) => log.push(h));
  return { ledger, store, keys, log };
}

/** What two ledgers that were given the same entries must agree on: heads, records, digest, pending. */
export function ledgerView(l: Ledger): { heads: FeedHead[]; records: string; digest: string; pending: number } {
  const s = l.stats();
  return { heads: l.heads(), records: JSON.stringify(l.records()), digest: s.stateDigest, pending: s.pending };
}

/** Seeded PRNG for randomized tests (print the seed). */
export { mulberry32 as mulberry } from './fake-feed.js';

export function shuffle<T>(xs: T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
