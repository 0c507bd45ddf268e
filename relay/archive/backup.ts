// Command-line backups of the archive, in the dashboard's verified snapshot format (gzip NDJSON,
// PROTOCOL.md §9). Export reads through a read-only connection, so it runs while the relay is
// serving (the file covers the heads at its start: the archive never prunes, so every entry up
// to them is there). Import takes the archive's lock (the relay must be stopped), verifies the
// whole file, then ingests it through the ledger as one all-or-nothing transaction.
import {
  createReadStream,
  createWriteStream,
  existsSync,
  fsyncSync,
  openSync,
  closeSync,
  renameSync,
  rmSync
} from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { toHex } from '../../src/lib/core/bytes.js';
import { CorruptStoreError } from '../../src/lib/core/errors.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { importLedgerSnapshot, type LedgerImportReport } from '../../src/lib/core/ledger-snapshots.js';
import { exportSnapshot } from '../../src/lib/core/snapshot/index.js';
import { headsWithVoids } from '../../src/lib/core/void.js';
import type { Genesis } from '../../src/lib/core/types.js';
import { lockArchive } from './lock.js';
import { archivePath, openArchiveLedger } from './open-ledger.js';
import { SqliteLedgerStore } from './sqlite-store.js';

/** No archive (or no identity in it) at the given data directory. */
export class NoArchiveError extends Error {
  override name = 'NoArchiveError';
}

export interface ExportReport {
  /** Entries in the file (sum of its heads' seqs). */
  entries: number;
  feeds: number;
  /** Size of the written file, bytes. */
  bytes: number;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `stream` to `out` through a temporary file, fsynced and renamed: never a half file. */
async function writeAtomically(stream: ReadableStream<Uint8Array>, out: string): Promise<number> {
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    const file = createWriteStream(tmp, { mode: 0o600 });
    await pipeline(Readable.fromWeb(stream as import('node:stream/web').ReadableStream<Uint8Array>), file);
    fsyncPath(tmp);
    renameSync(tmp, out);
    fsyncPath(dirname(out));
    return file.bytesWritten;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Exports a full snapshot of the archive in `dataDir` to `out`. */
export async function exportArchive(dataDir: string, out: string, genesis: Genesis): Promise<ExportReport> {
  const path = archivePath(dataDir);
  if (!existsSync(path)) throw new NoArchiveError(`no archive at ${path}`);
  const store = SqliteLedgerStore.open({ path, readonly: true });
  try {
    const keys = await store.loadIdentity();
    if (keys === undefined) throw new NoArchiveError(`${path} has no identity yet (never opened by a relay)`);
    const net = toHex(networkId(genesis));
    const storedNet = await store.getMeta('networkId');
    if (storedNet !== undefined && storedNet !== net) {
      throw new CorruptStoreError(`the archive belongs to network ${String(storedNet).slice(0, 16)}…`);
    }
    // Void feeds (PROTOCOL.md §6.1) are exported as their canonical part and their evidence.
    const forks = await store.forks();
    const hashAt = async (a: string, seq: number) => {
      const e = await store.getEntry(a, seq);
      return e === undefined ? undefined : toHex(e.hash);
    };
    const { heads, entries, tops } = await headsWithVoids(await store.heads(), forks, hashAt);
    const voidTop = (a: string) => tops.get(a);
    const source = { genesis, store, exporter: toHex(keys.publicKey), heads, forks: () => forks, voidTop };
    const bytes = await writeAtomically(exportSnapshot(source, { kind: 'full' }), out);
    return { entries, feeds: heads.length, bytes };
  } finally {
    await store.close();
  }
}

/**
 * Imports the snapshot file `input` into the archive in `dataDir` (created if missing). Throws
 * ArchiveLockedError while a relay runs on it; any invalid entry refuses the whole file and
 * nothing is stored.
 */
export async function importArchive(dataDir: string, input: string, genesis: Genesis): Promise<LedgerImportReport> {
  if (!existsSync(input)) throw new NoArchiveError(`no snapshot file at ${input}`);
  const release = lockArchive(dataDir);
  const path = archivePath(dataDir);
  const created = !existsSync(path);
  try {
    const { ledger } = await openArchiveLedger(dataDir, genesis);
    try {
      const stream = Readable.toWeb(createReadStream(input)) as unknown as ReadableStream<Uint8Array>;
      return await importLedgerSnapshot(ledger, stream);
    } finally {
      await ledger.close();
    }
  } catch (e) {
    // A failed import into a new directory leaves no archive behind (else it would stay bound to
    // this genesis, e.g. the bundled network when genesis.json had not been copied yet).
    if (created) for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    throw e;
  } finally {
    release();
  }
}
