// Defaults of the archive replica (relay --archive).

/** The archive database inside the relay's data directory. */
export const ARCHIVE_DB_FILE = 'archive.sqlite';
/** Gossip entries waiting for the ledger at most; more are dropped (sync fetches them later). */
export const ARCHIVE_MAX_QUEUED = 4096;
/**
 * Entries applied between compactions of the archive's ledger. Larger than a browser's (256):
 * a compaction re-encodes the whole state, which grows with the archive; a restart replays and
 * verifies at most this many entries after the last one.
 */
export const ARCHIVE_COMPACT_EVERY = 4096;
