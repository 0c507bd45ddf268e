// Opens the archive's ledger: the core Ledger (the browsers' code) over the SQLite store in the
// relay's data directory, with the archive's own identity kept in that store.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateIdentity } from '../../src/lib/core/identity.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import type { Genesis } from '../../src/lib/core/types.js';
import { ARCHIVE_COMPACT_EVERY, ARCHIVE_DB_FILE } from './constants.js';
import { SqliteLedgerStore } from './sqlite-store.js';

export interface ArchiveLedger {
  ledger: Ledger;
  store: SqliteLedgerStore;
  /** The archive's Ed25519 seed (its ledger identity): signs its telemetry beacons. */
  seed: Uint8Array;
}

/** The archive database of `dataDir`. */
export function archivePath(dataDir: string): string {
  return join(dataDir, ARCHIVE_DB_FILE);
}

/**
 * Opens (creating on first use) the archive in `dataDir` and replays it, verifying every entry
 * after the last compaction. Throws CorruptStoreError / IdentityMismatchError like any ledger.
 */
export async function openArchiveLedger(dataDir: string, genesis: Genesis): Promise<ArchiveLedger> {
  mkdirSync(dataDir, { recursive: true });
  const store = SqliteLedgerStore.open({ path: archivePath(dataDir) });
  try {
    const keys = await loadOrCreateIdentity(store);
    const ledger = await Ledger.open({ store, genesis, keys, compactEvery: ARCHIVE_COMPACT_EVERY });
    return { ledger, store, seed: keys.seed };
  } catch (e) {
    await store.close();
    throw e;
  }
}
