// Open time of a compacted full store of N entries (default 100,000; 100 authors), on the memory
// store and on Dexie over fake-indexeddb: what the checks on open cost (seal, digest, heads
// cover, entry count). Entries are built once and cached in BENCH_OPEN_CACHE (a file of encoded
// entries). Run: npx tsx bench/store-open.ts (BENCH_OPEN_N, BENCH_OPEN_RUNS).
import '../src/lib/platform/polyfills.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { defaultGenesis } from '../src/lib/core/genesis.js';
import { generateKeys } from '../src/lib/core/ed25519.js';
import { Ledger } from '../src/lib/core/ledger.js';
import { MemoryDisk, MemoryLedgerStore } from '../src/lib/core/memory-store.js';
import { decodeEntry, encodeEntry } from '../src/lib/core/entry.js';
import { DexieLedgerStore } from '../src/lib/platform/dexie-store.js';
import type { IdentityKeys, HashedEntry } from '../src/lib/core/types.js';
import type { LedgerStore } from '../src/lib/core/storage.js';
import { checkSeal } from '../src/lib/core/compaction-seal.js';
import { PrunedHeaders } from '../src/lib/core/pruned-headers.js';

const N = Number(process.env.BENCH_OPEN_N ?? 100_000);
const AUTHORS = 100;
const RUNS = Number(process.env.BENCH_OPEN_RUNS ?? 5);
const CACHE = process.env.BENCH_OPEN_CACHE ?? `/tmp/tabula-store-open-${N}.bin`;
const genesis = defaultGenesis();

async function entries(): Promise<HashedEntry[]> {
  if (!existsSync(CACHE)) {
    const out: Uint8Array[] = [];
    for (let a = 0; a < AUTHORS; a++) {
      const l = await Ledger.open({ store: new MemoryLedgerStore(), genesis, keys: await generateKeys() });
      l.onAppend((h) => out.push(encodeEntry(h.entry)));
      for (let i = 0; i < N / AUTHORS; i++) await l.put(`a${a}-k${i % 100}`, { i, note: 'x'.repeat(24) });
      await l.close();
    }
    const parts: Buffer[] = [];
    for (const b of out) parts.push(Buffer.from(Uint32Array.of(b.length).buffer), Buffer.from(b));
    writeFileSync(CACHE, Buffer.concat(parts));
  }
  const buf = readFileSync(CACHE);
  const list: HashedEntry[] = [];
  for (let at = 0; at < buf.length;) {
    const n = buf.readUInt32LE(at);
    list.push(decodeEntry(new Uint8Array(buf.subarray(at + 4, at + 4 + n)), 1 << 20));
    at += 4 + n;
  }
  return list;
}

async function measure(kind: string, open: () => Promise<LedgerStore>, keys: IdentityKeys, list: HashedEntry[]) {
  const l = await Ledger.open({ store: await open(), genesis, keys, compactEvery: 0 });
  for (let i = 0; i < list.length; i += 2000) await l.ingest(list.slice(i, i + 2000));
  await l.compact();
  await l.close();
  const ms: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const again = await Ledger.open({ store: await open(), genesis, keys, compactEvery: 0 });
    ms.push(performance.now() - t0);
    if (again.stats({ digest: false }).entries !== list.length) throw new Error('short');
    await again.close();
  }
  // The parts the open checks added (PROTOCOL.md §10), timed alone: the v3 seal check, the entry
  // count, and what a light store that pruned reads besides (one pruned-headers row per author).
  const store = await open();
  const c = (await store.loadCompaction())!;
  const heads = await store.heads();
  const part = async (what: string, fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    for (let r = 0; r < RUNS; r++) await fn();
    console.log(`${kind}:   ${what}: ${((performance.now() - t0) / RUNS).toFixed(2)} ms`);
  };
  await part('checkSeal (v3, up to 3 HMACs)', async () => checkSeal(c, keys.seed, undefined));
  await part('store.count()', () => store.count());
  await part(`pruned-headers rows of ${heads.length} authors`, () =>
    Promise.all(heads.map((h) => new PrunedHeaders(store).count(h.author)))
  );
  await store.close();
  ms.sort((a, b) => a - b);
  console.log(
    `${kind}: open of a compacted full store of ${list.length} entries: median ${ms[Math.floor(RUNS / 2)].toFixed(1)} ms (runs ${ms.map((x) => x.toFixed(0)).join(', ')})`
  );
}

const list = await entries();
const keys = await generateKeys();
const disk = new MemoryDisk();
await measure('memory', async () => new MemoryLedgerStore({ disk }), keys, list);
const idb = new IDBFactory();
await measure('dexie ', () => DexieLedgerStore.open({ name: 'open-bench', indexedDB: idb, IDBKeyRange }), keys, list);
