// Issue 11 row 3, in a dedicated worker on Chromium's real IndexedDB: Tabula's local write path
// (Ledger.put over the Dexie store, strict durability, each write acknowledged once stored) next
// to a raw IndexedDB put of the same rows in one transaction and a Dexie bulkPut of them.
import Dexie from 'dexie';
import { generateKeys } from '../../src/lib/core/ed25519.js';
import { defaultGenesis } from '../../src/lib/core/genesis.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import { toHex } from '../../src/lib/core/bytes.js';
import type { StoredEntry } from '../../src/lib/core/storage-rules.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import type { BenchOutput, Series } from './protocol.js';

/** Characters in each record value: a 256 B payload per write. */
export const VALUE_BYTES = 256;
let dbSeq = 0;
const dbName = (what: string) => `bench-${what}-${Date.now()}-${dbSeq++}`;

function value(i: number): string {
  const head = `v${i}:`;
  return head + 'x'.repeat(VALUE_BYTES - head.length);
}

function storedRow(h: HashedEntry): StoredEntry {
  return { ...h.entry, author: toHex(h.entry.author), hash: h.hash };
}

/** Tabula: `batches` rounds of `batch` concurrent Ledger.put calls (the ledger queues them). */
async function tabulaPuts(batch: number, batches: number): Promise<{ series: Series; rows: StoredEntry[] }> {
  const store = await DexieLedgerStore.open({ name: dbName('ledger') });
  const ledger = await Ledger.open({ store, genesis: defaultGenesis(), keys: await generateKeys() });
  await ledger.put('warm-up', value(0));
  const ms: number[] = [];
  const rows: StoredEntry[] = [];
  let n = 0;
  for (let b = 0; b < batches; b++) {
    const start = performance.now();
    const done = await Promise.all(Array.from({ length: batch }, () => ledger.put(`k${n++}`, value(n))));
    ms.push(performance.now() - start);
    for (const h of done) rows.push(storedRow(h));
  }
  await ledger.close();
  return { series: { name: 'tabula Ledger.put (Dexie store, strict)', ms, perSample: batch }, rows };
}

function openRaw(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore('entries', { keyPath: ['author', 'seq'] });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function rawPut(db: IDBDatabase, rows: readonly StoredEntry[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction('entries', 'readwrite', { durability: 'strict' });
    const os = tx.objectStore('entries');
    for (const r of rows) os.put(r);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

async function timeChunks(rows: StoredEntry[], batch: number, fn: (chunk: StoredEntry[]) => Promise<void>) {
  const ms: number[] = [];
  for (let i = 0; i + batch <= rows.length; i += batch) {
    const start = performance.now();
    await fn(rows.slice(i, i + batch));
    ms.push(performance.now() - start);
  }
  return ms;
}

async function rawSeries(rows: StoredEntry[], batch: number): Promise<Series> {
  const db = await openRaw(dbName('raw'));
  await rawPut(
    db,
    rows.slice(0, 1).map((r) => ({ ...r, seq: 0 }))
  );
  const ms = await timeChunks(rows, batch, (c) => rawPut(db, c));
  db.close();
  return { name: 'raw IndexedDB put, one tx (strict)', ms, perSample: batch };
}

/** Raw IndexedDB with one strict transaction per row, as Ledger.put commits: its ceiling. */
async function rawPerWriteSeries(rows: StoredEntry[], batch: number): Promise<Series> {
  const db = await openRaw(dbName('raw1'));
  const ms = await timeChunks(rows, batch, async (c) => {
    for (const r of c) await rawPut(db, [r]);
  });
  db.close();
  return { name: 'raw IndexedDB put, one tx per write (strict)', ms, perSample: batch };
}

async function dexieSeries(rows: StoredEntry[], batch: number): Promise<Series> {
  const db = new Dexie(dbName('dexie'), { chromeTransactionDurability: 'strict' });
  db.version(1).stores({ entries: '[author+seq]' });
  await db.open();
  const table = db.table<StoredEntry, [string, number]>('entries');
  await table.bulkPut(rows.slice(0, 1).map((r) => ({ ...r, seq: 0 })));
  const ms = await timeChunks(rows, batch, (c) => table.bulkPut(c).then(() => undefined));
  db.close();
  return { name: 'Dexie bulkPut (strict)', ms, perSample: batch };
}

/**
 * Row 3 for one batch size: `batches` samples of `batch` writes each, same rows for all three.
 * `tabulaOnly: 1` runs only Ledger.put (for a CPU profile of it alone).
 */
export async function benchWrites(p: Record<string, number>): Promise<BenchOutput> {
  const batch = p.batch ?? 100;
  const batches = p.batches ?? 10;
  const tabula = await tabulaPuts(batch, batches);
  if (p.tabulaOnly === 1) return { series: [tabula.series], notes: [] }; // a CPU profile of Ledger.put alone
  const raw = await rawSeries(tabula.rows, batch);
  const dexie = await dexieSeries(tabula.rows, batch);
  const perWrite = batch > 1 ? [await rawPerWriteSeries(tabula.rows, batch)] : [];
  const bytes = tabula.rows.reduce((s, r) => s + r.payload.length, 0) / Math.max(1, tabula.rows.length);
  return {
    series: [tabula.series, raw, dexie, ...perWrite],
    notes: [`${batch * batches} writes, ${VALUE_BYTES} B values, mean payload ${bytes.toFixed(0)} B`]
  };
}
