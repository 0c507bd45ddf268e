// Defaults of feed history reading (feed-history.ts).

/** Entries per history page unless asked otherwise. */
export const HISTORY_DEFAULT_PAGE = 50;
/** Most entries per history page. */
export const HISTORY_MAX_PAGE = 500;
/**
 * Most pruned entries fetched above a requested page to reach an entry the node trusts (a page
 * far below what is held or cached must be reached by paging down instead).
 */
export const HISTORY_MAX_WALK = 10_000;
/**
 * Most entries fetched below a trusted anchor in one batch (answers may carry fewer, up to the
 * range byte cap). A history call holds one batch at once: 64 x 64 KiB (DEFAULT_MAX_ENTRY_BYTES)
 * is the 4 MiB of HISTORY_CACHE_BYTES at worst.
 */
export const HISTORY_FETCH_BATCH = 64;
/** Failed attempts at one stretch of pruned history before giving up (a peer whose stretch fails verification is not asked again). */
export const HISTORY_RUN_TRIES = 4;
/** Bytes of fetched, verified history kept in memory for the next pages (entries are not stored). */
export const HISTORY_CACHE_BYTES = 4 * 1024 * 1024;
