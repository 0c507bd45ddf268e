// Snapshot files as the page sees them: a named gzip blob out, bytes in.
import type { Ledger } from '../core/ledger.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../core/ledger-snapshots.js';
import { collectBytes, snapshotFileName } from '../core/snapshot/index.js';
import type { ImportReport, SnapshotFile, SnapshotKind } from './messages.js';

export async function exportSnapshotFile(ledger: Ledger, kind: SnapshotKind): Promise<SnapshotFile> {
  if (kind === 'incremental') throw new TypeError('incremental export needs a heads vector; use full or light');
  await ledger.flushVoids(); // the state must not show voided entries (a deferred void rebuild)
  // Heads and state read where they agree (no write half done, no direct change unsigned).
  const stream = await ledger.readConsistent(() => exportLedgerSnapshot(ledger, kind));
  const bytes = await collectBytes(stream);
  return { fileName: snapshotFileName(ledger.networkIdHex), bytes };
}

export function importSnapshotFile(ledger: Ledger, bytes: Uint8Array): Promise<ImportReport> {
  return importLedgerSnapshot(ledger, bytes);
}
