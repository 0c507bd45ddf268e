// Red team 10 (importArchive, relay/archive/backup.ts; README "Backups"): restoring a backup on a
// new machine. An operator who runs `import` into a new data directory before copying the
// network's genesis.json there gets ForeignSnapshotError (right), but the failed import has
// already created `archive.sqlite`, with an identity, bound to the bundled network. After copying
// genesis.json, the same command then fails with CorruptStoreError ("store belongs to network
// 2c54…"), and so does starting the relay or `genesis` there (it refuses a directory with an
// archive). Found by following README "Running a network" by hand.
//
// Input: a created network's archive exported with the CLI; `import --in FILE` into an empty data
//   directory without genesis.json; then genesis.json copied in and the same import run again.
// Expected: the first import fails (ForeignSnapshotError) and leaves the directory as it was
//   (no archive); the second imports the file.
// Actual (before the fix): the second fails with CorruptStoreError; the operator must find and
//   delete archive.sqlite by hand.
// Severity: low (operator trap on restore, no data lost).
// Fixed: importArchive removes the archive files it created when the import fails (an archive
//   that existed before is left as it was: the import is one transaction).
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBackupCommand } from '../../relay/archive/cli.js';
import { openArchiveLedger } from '../../relay/archive/open-ledger.js';
import { runGenesisCommand } from '../../relay/genesis-cli.js';
import { GENESIS_FILE } from '../../relay/network-genesis.js';
import { tempDir } from '../helpers/relay-fixture.js';

async function errorName(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'resolved',
    (e: Error) => e.name
  );
}

describe('redteam10: a failed import into a new data directory', () => {
  it('leaves nothing behind, so the import succeeds once genesis.json is in place', async () => {
    const source = await tempDir('tabula-red10-src-');
    const created = await runGenesisCommand(['--name', 'acme', '--data-dir', source], {});
    const { ledger } = await openArchiveLedger(source, created.signed.genesis);
    await ledger.close();
    const file = join(source, 'backup.snapshot.gz');
    await runBackupCommand(['export', '--data-dir', source, '--out', file], {});

    const target = await tempDir('tabula-red10-dst-');
    expect(await errorName(runBackupCommand(['import', '--data-dir', target, '--in', file], {}))).toBe(
      'ForeignSnapshotError'
    );
    expect(await readdir(target)).toEqual([]);
    await copyFile(join(source, GENESIS_FILE), join(target, GENESIS_FILE));
    expect(await runBackupCommand(['import', '--data-dir', target, '--in', file], {})).toMatchObject({
      kind: 'full',
      rejected: 0
    });
  }, 60_000);
});
