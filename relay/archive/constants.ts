// Defaults of the archive replica (relay --archive).

/** The archive database inside the relay's data directory. */
export const ARCHIVE_DB_FILE = 'archive.sqlite';
/** Gossip entries waiting for the ledger at most; more are dropped (sync fetches them later). */
export const ARCHIVE_MAX_QUEUED = 4096;
/**
 * Bytes of gossip entries waiting for the ledger at most (an entry may be 64 KiB or more, so the
 * count alone would allow 256 MiB); more are dropped (sync fetches them later).
 */
export const ARCHIVE_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/**
 * Entries applied between compactions of the archive's ledger. Larger than a browser's (256):
 * a compaction re-encodes the whole state, which grows with the archive; a restart replays and
 * verifies at most this many entries after the last one.
 */
export const ARCHIVE_COMPACT_EVERY = 4096;
/**
 * An archive holding the operator key signs a checkpoint of the state it serves this often
 * (relay --checkpoint-seconds), seconds; joiners also get one on demand with every claim.
 */
export const ARCHIVE_CHECKPOINT_SECONDS = 60;
/**
 * /api/archive reuses a computed status for this long, ms (computing one walks every feed, and
 * anyone can add feeds); /metrics computes it once per scrape.
 */
export const ARCHIVE_STATUS_REUSE_MS = 1000;
