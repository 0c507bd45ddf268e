// Local signed writes per second through Ledger.put, next to what they are made of: signing
// alone (createEntry) and storing alone (appendLocal of pre-built entries), on the memory store
// and on Dexie over fake-indexeddb (Node; a browser's IndexedDB has other costs). The default
// compaction policy runs unless a row says otherwise; "100 concurrent" rows issue the puts 100 at
// a time (group commit: one store transaction per group).
// Run: npx tsx bench/ledger-writes.ts [count]
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { toHex } from '../src/lib/core/bytes.js';
import { createEntry } from '../src/lib/core/entry.js';
import { ed25519Backend, generateKeys } from '../src/lib/core/ed25519.js';
import { defaultGenesis, networkId } from '../src/lib/core/genesis.js';
import { Ledger } from '../src/lib/core/ledger.js';
import { MemoryDisk, MemoryLedgerStore } from '../src/lib/core/memory-store.js';
import { LedgerState } from '../src/lib/core/state/doc.js';
import { Records } from '../src/lib/core/state/records.js';
import type { LedgerStore } from '../src/lib/core/storage.js';
import type { HashedEntry } from '../src/lib/core/types.js';
import { DexieLedgerStore } from '../src/lib/platform/dexie-store.js';

const N = Number(process.argv[2] ?? 2000);
const genesis = defaultGenesis();
const id = networkId(genesis);
const keys = await generateKeys();
const value = (i: number) => ({ n: i, label: `value ${i}`, done: i % 2 === 0 });
let dbn = 0;
const dexie = (): Promise<LedgerStore> =>
  DexieLedgerStore.open({ name: `bench-${dbn++}`, indexedDB: new IDBFactory(), IDBKeyRange });
const memory = async (): Promise<LedgerStore> => new MemoryLedgerStore();

interface Row {
  what: string;
  ms: number;
}
const rows: Row[] = [];

async function time(what: string, fn: () => Promise<void>): Promise<void> {
  const start = performance.now();
  await fn();
  rows.push({ what, ms: performance.now() - start });
}

/**
 * N sequential puts (distinct keys, small JSON values); returns the entries they made. `tagged`:
 * each carries a write tag, as a tab's call does (stored with the entry; Ledger WriteOptions).
 */
async function puts(
  store: LedgerStore,
  compactEvery?: number,
  tagged = false
): Promise<{ log: HashedEntry[]; ledger: Ledger }> {
  const ledger = await Ledger.open({ store, genesis, keys, ...(compactEvery !== undefined ? { compactEvery } : {}) });
  const log: HashedEntry[] = [];
  const tag = (i: number) => (tagged ? { tag: `0f6c1c1e-3b0a-4c55-9d1e-6a4f7a0b2c9d:${i}` } : {});
  for (let i = 0; i < N; i++) log.push(await ledger.put(`key-${i}`, value(i), tag(i)));
  return { log, ledger };
}

/** N puts issued in groups of `group` concurrent calls (group commit: one transaction per group). */
async function groupedPuts(store: LedgerStore, group: number): Promise<Ledger> {
  const ledger = await Ledger.open({ store, genesis, keys });
  for (let i = 0; i < N; i += group) {
    await Promise.all(
      Array.from({ length: Math.min(group, N - i) }, (_, j) => ledger.put(`key-${i + j}`, value(i + j)))
    );
  }
  return ledger;
}

// Warm-up (JIT, key import, backend detection), not measured.
await (await puts(await memory())).ledger.close();

let log: HashedEntry[] = [];
const disk = new MemoryDisk();
await time('Ledger.put  memory (default compaction)', async () => {
  const r = await puts(new MemoryLedgerStore({ disk }));
  log = r.log;
  await r.ledger.close();
});
await time('Ledger.put  memory (no compaction)', async () => void (await puts(await memory(), 0)).ledger.close());
await time('Ledger.put  dexie  (default compaction)', async () => void (await puts(await dexie())).ledger.close());
await time('Ledger.put  dexie  (no compaction)', async () => void (await puts(await dexie(), 0)).ledger.close());
await time('Ledger.put  memory (write tags, as tabs send)', async () => {
  void (await puts(await memory(), undefined, true)).ledger.close();
});
await time('Ledger.put  dexie  (write tags, as tabs send)', async () => {
  void (await puts(await dexie(), undefined, true)).ledger.close();
});
await time('Ledger.put  memory (100 concurrent)', async () => void (await groupedPuts(await memory(), 100)).close());
await time('Ledger.put  dexie  (100 concurrent)', async () => void (await groupedPuts(await dexie(), 100)).close());

await time('createEntry alone (sign+hash+encode)', async () => {
  for (const { entry: e } of log) {
    await createEntry({ keys, seq: e.seq, prev: e.prev, lamport: e.lamport, time: e.time, payload: e.payload }, id);
  }
});
await time('Records.put alone (Yjs state, no entry)', async () => {
  const records = new Records(new LedgerState({ author: toHex(keys.publicKey) }));
  for (let i = 0; i < N; i++) records.put(`key-${i}`, value(i));
});
await time('appendLocal alone  memory (pre-built)', async () => {
  const s = new MemoryLedgerStore();
  for (const h of log) await s.appendLocal(h);
});
await time('appendLocal alone  dexie  (pre-built)', async () => {
  const s = await dexie();
  for (const h of log) await s.appendLocal(h);
  await s.close();
});

// Not a write, but the other side of compaction: reopening replays and verifies what follows it.
await time(`Ledger.open memory (replay after the last compaction of ${N})`, async () => {
  const l = await Ledger.open({ store: new MemoryLedgerStore({ disk }), genesis, keys });
  await l.close();
});

const base = rows[0].ms;
console.log(`${N} sequential local writes, node ${process.version}, ed25519 backend ${await ed25519Backend()}`);
for (const r of rows) {
  const perSec = Math.round((N / r.ms) * 1000);
  const open = r.what.startsWith('Ledger.open');
  console.log(
    `${r.what.padEnd(52)} ${r.ms.toFixed(0).padStart(6)} ms` +
      (open ? '' : `  ${String(perSec).padStart(7)} /s  ${(r.ms / base).toFixed(2)}× of the first row`)
  );
}
