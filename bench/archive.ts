// `tsx bench/archive.ts`: the archive replica's SQLite store. Prints, for N entries from 20
// authors: raw SqliteLedgerStore.ingest and MemoryLedgerStore.ingest (the comparator, same run),
// Ledger.ingest over SQLite (verify + Yjs + store, as the archive ingests gossip) next to
// Ledger.ingest over memory with the same compaction period, the time to
// reopen the archive (replay since the last compaction) and its size on disk, and a full export.
// BENCH_ARCHIVE_N sets N (default 20,000). Not a test.
import '../src/lib/platform/polyfills.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultGenesis } from '../src/lib/core/genesis.js';
import { generateKeys } from '../src/lib/core/ed25519.js';
import { Ledger } from '../src/lib/core/ledger.js';
import { MemoryLedgerStore } from '../src/lib/core/memory-store.js';
import type { HashedEntry } from '../src/lib/core/types.js';
import { exportArchive } from '../relay/archive/backup.js';
import { openArchiveLedger } from '../relay/archive/open-ledger.js';
import { SqliteLedgerStore } from '../relay/archive/sqlite-store.js';
import { ARCHIVE_COMPACT_EVERY } from '../relay/archive/constants.js';

const N = Number(process.env.BENCH_ARCHIVE_N ?? 20_000);
const AUTHORS = 20;
const BATCH = 64;
const genesis = defaultGenesis();

async function history(): Promise<HashedEntry[]> {
  const out: HashedEntry[] = [];
  for (let a = 0; a < AUTHORS; a++) {
    const ledger = await Ledger.open({ store: new MemoryLedgerStore(), genesis, keys: await generateKeys() });
    ledger.onAppend((h) => out.push(h));
    for (let i = 0; i < N / AUTHORS; i++) await ledger.put(`a${a}k${i % 500}`, i);
    await ledger.close();
  }
  return out;
}

function rate(n: number, ms: number): string {
  return `${Math.round((n * 1000) / ms).toLocaleString('en')}/s (${n} in ${Math.round(ms)} ms)`;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

async function batches(entries: HashedEntry[], ingest: (b: HashedEntry[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < entries.length; i += BATCH) await ingest(entries.slice(i, i + BATCH));
}

const root = mkdtempSync(join(tmpdir(), 'tabula-bench-archive-'));
try {
  const entries = await history();
  const mem = new MemoryLedgerStore();
  const [, memMs] = await timed(() => batches(entries, (b) => mem.ingest(b)));
  console.log(`MemoryLedgerStore.ingest, batches of ${BATCH}: ${rate(entries.length, memMs)}`);
  const raw = SqliteLedgerStore.open({ path: join(root, 'raw.sqlite') });
  const [, rawMs] = await timed(() => batches(entries, (b) => raw.ingest(b)));
  console.log(`SqliteLedgerStore.ingest (WAL, synchronous=FULL), batches of ${BATCH}: ${rate(entries.length, rawMs)}`);
  await raw.close();

  const memLedger = await Ledger.open({
    store: new MemoryLedgerStore(),
    genesis,
    keys: await generateKeys(),
    compactEvery: ARCHIVE_COMPACT_EVERY
  });
  const [, memLedgerMs] = await timed(() => batches(entries, (b) => memLedger.ingest(b)));
  console.log(`Ledger.ingest over memory (comparator), batches of ${BATCH}: ${rate(entries.length, memLedgerMs)}`);
  await memLedger.close();
  const dir = join(root, 'archive');
  const { ledger } = await openArchiveLedger(dir, genesis);
  const [, ledgerMs] = await timed(() => batches(entries, (b) => ledger.ingest(b)));
  console.log(
    `Ledger.ingest over SQLite (the archive's gossip path), batches of ${BATCH}: ${rate(entries.length, ledgerMs)}`
  );
  await ledger.close();

  const [again, openMs] = await timed(() => openArchiveLedger(dir, genesis));
  const size = again.store.bytesOnDisk();
  console.log(
    `reopen with ${again.ledger.stats().entries} entries: ${Math.round(openMs)} ms; ${(size / 2 ** 20).toFixed(1)} MiB on disk`
  );
  await again.ledger.close();
  const [exp, expMs] = await timed(() => exportArchive(dir, join(root, 'backup.gz'), genesis));
  console.log(`export: ${exp.entries} entries, ${(exp.bytes / 2 ** 20).toFixed(1)} MiB in ${Math.round(expMs)} ms`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
