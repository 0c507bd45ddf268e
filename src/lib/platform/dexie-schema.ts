// IndexedDB schema of one node's ledger store (one database per network id).
import Dexie, { type DexieOptions, type Table } from 'dexie';
import type { StoredCompaction, StoredEntry, StoredFork } from '../core/storage-rules.js';
import type { FeedHead, IdentityKeys } from '../core/types.js';
import type { WriteTagRow } from '../core/storage.js';

export interface MetaRow {
  key: string;
  value: unknown;
}

export type IdentityRow = IdentityKeys & { id: string };

/** Database name of a network's store: one database per network, so networks never mix. */
export function ledgerDbName(networkIdHex: string): string {
  return `tabula-${networkIdHex}`;
}

export class LedgerDb extends Dexie {
  /** Keyed [author+seq]: range reads per feed are key-range scans. */
  entries!: Table<StoredEntry, [string, number]>;
  heads!: Table<FeedHead, string>;
  forks!: Table<StoredFork, string>;
  compaction!: Table<StoredCompaction, string>;
  meta!: Table<MetaRow, string>;
  identity!: Table<IdentityRow, string>;
  /** Local writes' idempotency keys (LedgerStore.writeTag), keyed by tag; [author+seq] to drop old ones. */
  writeTags!: Table<WriteTagRow, string>;

  constructor(name: string, options: DexieOptions) {
    super(name, options);
    this.version(1).stores({
      entries: '[author+seq]',
      heads: 'author',
      forks: 'id, author',
      compaction: 'id',
      meta: 'key',
      identity: 'id'
    });
    // Version 2 adds a table; version 1 databases upgrade in place (nothing to migrate).
    this.version(2).stores({ writeTags: 'tag, [author+seq]' });
  }
}
