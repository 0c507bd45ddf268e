// The archive's SQLite file: schema and connection settings.
//
// Durability: WAL journal with synchronous=FULL, so every committed transaction is in the WAL
// and fsynced before the call returns. A SIGKILL (or a power cut) after that loses nothing
// committed; a transaction cut short is rolled back on the next open.
import Database from 'better-sqlite3';
import { CorruptStoreError } from '../../src/lib/core/errors.js';

/** Bumped on every incompatible change of the tables below. */
export const SCHEMA_VERSION = 1;
/** Wait this long for another connection's lock (e.g. a backup reader) before failing, ms. */
export const BUSY_TIMEOUT_MS = 5_000;

const TABLES = `
CREATE TABLE IF NOT EXISTS entries (
  author TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  size INTEGER NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY (author, seq)
);
CREATE TABLE IF NOT EXISTS heads (author TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS forks (id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS compaction (id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS identity (id TEXT PRIMARY KEY, seed BLOB NOT NULL, public_key BLOB NOT NULL);
`;

/** Local writes' idempotency keys (LedgerStore.writeTag); added to version 1 files when opened for writing. */
const WRITE_TAGS = `
CREATE TABLE IF NOT EXISTS write_tags (tag TEXT PRIMARY KEY, author TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS write_tags_by_seq ON write_tags (author, seq);
`;

export interface OpenDbOptions {
  /** Open without write access (backups while the relay runs); the file must exist. */
  readonly?: boolean;
}

/**
 * Opens (creating when missing, unless readonly) the archive database at `path` with WAL and
 * synchronous=FULL. Throws CorruptStoreError when the file holds another schema version.
 */
export function openDb(path: string, opts: OpenDbOptions = {}): Database.Database {
  const db = new Database(path, { readonly: opts.readonly === true, fileMustExist: opts.readonly === true });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== 0 && version !== SCHEMA_VERSION) {
      throw new CorruptStoreError(`${path}: schema version ${version}, this relay reads ${SCHEMA_VERSION}`);
    }
    if (!opts.readonly && version === 0) {
      db.transaction(() => {
        db.exec(TABLES);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
    if (!opts.readonly) db.exec(WRITE_TAGS);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
