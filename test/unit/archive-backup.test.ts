// Archive backups: `relay/main.ts export|import` write and read the dashboard's verified snapshot
// format; export runs beside a live archive (read-only), import is all or nothing and refused
// while the archive is in use.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { exportSnapshot } from '../../src/lib/core/snapshot/export.js';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { exportArchive, importArchive } from '../../relay/archive/backup.js';
import { runBackupCommand } from '../../relay/archive/cli.js';
import { lockArchive } from '../../relay/archive/lock.js';
import { openArchiveLedger } from '../../relay/archive/open-ledger.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { genesis, ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { voidHead } from '../../src/lib/core/void.js';
import { tempDir } from '../helpers/relay-fixture.js';

/** Two authors' entries, 40 + 10, as a browser would have written them. */
async function history(): Promise<HashedEntry[]> {
  const a = await openLedger(memoryLocation(), 1);
  for (let i = 0; i < 40; i++) await a.ledger.put(`a${i}`, i);
  const b = await openLedger(memoryLocation(), 2);
  for (let i = 0; i < 10; i++) await b.ledger.put(`b${i}`, i);
  return [...a.log, ...b.log];
}

async function archiveWith(entries: HashedEntry[]): Promise<string> {
  const dir = await tempDir('tabula-archive-');
  const { ledger } = await openArchiveLedger(dir, genesis);
  const r = await ledger.ingest(entries);
  expect(r.added).toBe(entries.length);
  await ledger.close();
  return dir;
}

async function countIn(dir: string): Promise<number> {
  const { ledger } = await openArchiveLedger(dir, genesis);
  const n = ledger.stats().entries;
  await ledger.close();
  return n;
}

function relayCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(join('node_modules', '.bin', 'tsx'), ['relay/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 60_000
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('archive backups', () => {
  it('exports a verified snapshot from the command line and imports it into a new archive', async () => {
    const dir = await archiveWith(await history());
    const file = join(dir, 'backup.snapshot.gz');
    const out = relayCli(['export', '--data-dir', dir, '--out', file]);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ entries: 50, feeds: 2 });

    // The file is what the dashboard imports: verified into a fresh browser-like ledger.
    const fresh = await openLedger(memoryLocation(), 9);
    expect(await importLedgerSnapshot(fresh.ledger, await readFile(file))).toMatchObject({ added: 50, rejected: 0 });
    expect(fresh.ledger.get('a39')).toBe(39);

    const target = await tempDir('tabula-archive-');
    const imp = relayCli(['import', '--data-dir', target, '--in', file]);
    expect(imp.stderr).toBe('');
    expect(imp.status).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ kind: 'full', added: 50, rejected: 0 });
    // Merging again adds nothing.
    expect(await importArchive(target, file, genesis)).toMatchObject({ added: 0, skipped: 50 });
    expect(await countIn(target)).toBe(50);
  });

  it('exports a void feed (a fork) as its canonical part and evidence: a fresh node reaches the same view', async () => {
    const f = await openLedger(memoryLocation(), 3);
    for (let i = 0; i < 3; i++) await f.ledger.put(`f${i}`, i);
    const [alt] = await makeChain(f.keys, 1, networkId(genesis), f.log[0], 'alt');
    const dir = await tempDir('tabula-archive-');
    const arch = await openArchiveLedger(dir, genesis);
    await arch.ledger.ingest([...(await history()), ...f.log, alt]);
    const view = ledgerView(arch.ledger);
    expect(view.heads).toContainEqual(voidHead(toHex(f.keys.publicKey), 2, { seq: 1, hash: toHex(f.log[0].hash) }));
    await arch.ledger.close();
    const file = join(dir, 'void.snapshot.gz');
    expect(await exportArchive(dir, file, genesis)).toMatchObject({ entries: 51, feeds: 3 });
    const fresh = await openLedger(memoryLocation(), 9);
    expect(await importLedgerSnapshot(fresh.ledger, await readFile(file))).toMatchObject({ added: 51, rejected: 0 });
    expect(ledgerView(fresh.ledger)).toEqual(view);
    await fresh.ledger.close();
  });

  it('exports while the archive is in use, but refuses to import into it', async () => {
    const dir = await archiveWith(await history());
    const release = lockArchive(dir);
    const live = await openArchiveLedger(dir, genesis);
    try {
      const file = join(dir, 'live.snapshot.gz');
      expect(await exportArchive(dir, file, genesis)).toMatchObject({ entries: 50, feeds: 2 });
      await expect(importArchive(dir, file, genesis)).rejects.toMatchObject({ name: 'ArchiveLockedError' });
    } finally {
      await live.ledger.close();
      release();
    }
  });

  it('imports all or nothing: one causally invalid entry refuses the whole file', async () => {
    const good = await history();
    // Author 3: a valid first entry, then one whose lamport jumps (validly signed, causally refused).
    const x = await keysFromByte(3);
    const c = clientIdOf(toHex(x.publicKey));
    const base = { keys: x, time: 1_700_000_000_000, deps: [] };
    const net = networkId(genesis);
    const one = await createEntry(
      { ...base, seq: 1, prev: new Uint8Array(32), lamport: 1, clock: 1, payload: yUpdateAt('x', 1, c, 0) },
      net
    );
    const two = await createEntry(
      { ...base, seq: 2, prev: one.hash, lamport: 9, clock: 2, payload: yUpdateAt('y', 2, c, 1) },
      net
    );
    const src = await memoryLocation().open();
    await src.ingest([...good, one, two]);
    const bytes = await collectBytes(
      exportSnapshot({ genesis, store: src, exporter: toHex(x.publicKey), heads: await src.heads() })
    );
    const dir = await tempDir('tabula-archive-');
    const file = join(dir, 'bad.snapshot.gz');
    await writeFile(file, bytes);
    const imp = relayCli(['import', '--data-dir', dir, '--in', file]);
    expect(imp.status).toBe(1);
    expect(imp.stderr).toMatch(/MalformedSnapshotError/);
    expect(await countIn(dir)).toBe(0);
  });

  it('refuses bad arguments with BackupUsageError (exit 2 from main.ts)', async () => {
    await expect(runBackupCommand(['export', '--data-dir', '/nonexistent'], {})).rejects.toMatchObject({
      name: 'BackupUsageError',
      message: 'export needs --out FILE'
    });
    await expect(runBackupCommand(['import', '--bogus', 'x'], {})).rejects.toMatchObject({ name: 'BackupUsageError' });
  });
});
