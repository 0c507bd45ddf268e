// Defaults and limits of the sync protocol (src/lib/core/sync). Values marked "wire" are part of
// the protocol (PROTOCOL.md §11): changing one changes what peers send or accept.

/** Wire: protocol version carried in hello; peers with another version are refused. */
export const SYNC_PROTOCOL_VERSION = 5;
/** Wire: libp2p protocol id template; `<net16>` is the first 16 hex chars of the network id. */
export const SYNC_PROTOCOL_ID = (net16: string): string => `/tabula/${net16}/sync/1.2.0`;

/** Wire: Merkle tree fan-out (one hex nibble of the author key per level). */
export const MERKLE_FANOUT = 16;
/** Wire: deepest level (nibbles of the author key used); deeper items share one leaf. */
export const MERKLE_MAX_DEPTH = 16;
/** Wire: a subtree with at most this many heads is a leaf (hashed as a list, listed in compares). */
export const MERKLE_LEAF_MAX = 16;
/** Wire: domain tags of node hashes (first byte of the hashed bytes). */
export const MERKLE_LEAF_TAG = 0x00;
export const MERKLE_INNER_TAG = 0x01;
/** Wire: bytes of the per-exchange salt contributed by each side. */
export const SYNC_SALT_BYTES = 16;
/** Bytes of a SipHash-2-4 output; wire fingerprints are its first bytes (little-endian order). */
export const SYNC_FINGERPRINT_BYTES = 8;
/**
 * Wire: bytes of a child fingerprint in a `children` node (a SipHash-2-4 prefix). A collision
 * (2^-24 per differing child under a fresh salt) hides that subtree for one exchange only.
 */
export const SYNC_CHILD_FP_BYTES = 3;
/** Wire: bytes of a head fingerprint in `items`, `answer` and `final` nodes (a SipHash-2-4 prefix). */
export const SYNC_HEAD_FP_BYTES = 4;
/** Wire: bytes of the author tag of a compact item (the author bytes after the path's bytes). */
export const SYNC_TAG_BYTES = 2;
/** Wire: domain tag of the exchange salt derivation. */
export const SYNC_SALT_TAG = 'tabula/sync-salt/v1\u0000';

/** Wire: largest sync message accepted (decoders refuse larger before parsing). */
export const SYNC_MAX_MESSAGE_BYTES = 1024 * 1024 + 4096;
/**
 * Compare: when at most this many subtrees differ in one step, each is listed (compact items)
 * up to SYNC_LIST_MAX_FEW heads instead of opened (a sender's choice; any listing is valid).
 */
export const SYNC_FEW_DIFFERING = 4;
export const SYNC_LIST_MAX_FEW = 32;
/**
 * Compare: in a step that opens a subtree of more heads than it would list, the other differing
 * subtrees with at least this many heads are opened too rather than listed (a sender's choice).
 */
export const SYNC_OPEN_MIN = 5;
/** Largest compare step this node builds (further entries go in later steps). */
export const SYNC_MAX_STEP_BYTES = 48 * 1024;
/** Wire: entries (nodes) in one compare message. */
export const SYNC_MAX_COMPARE_ENTRIES = 4096;
/** Wire: heads listed in one ITEMS/FINAL entry. */
export const SYNC_MAX_ITEMS_PER_ENTRY = 1024;
/** Wire: coverage exceptions in one hello. */
export const SYNC_MAX_COVERAGE = 4096;
/** Wire: entries in one range response. */
export const SYNC_MAX_RANGE_ENTRIES = 4096;
/** Wire: longest error message (UTF-8 bytes). */
export const SYNC_MAX_ERROR_TEXT = 256;

/** Gap fill: bytes asked for in one range request (well under WebRTC's 256 KiB message limit). */
export const GAP_BATCH_BYTES = 64 * 1024;
/** Gap fill: seqs asked for in one range request. */
export const GAP_BATCH_SEQS = 64;
/** Gap fill: seqs ahead of the local head that may be in flight per author (under the ledger's pending cap of 256). */
export const GAP_WINDOW_SEQS = 192;
/** Gap fill: a gap this close to the peer's head counts as "tail" (fetched before older history). */
export const GAP_TAIL_SEQS = 256;
/** Gap fill: peers one author's range is split over at once. */
export const GAP_MAX_PEERS_PER_RANGE = 3;
/** Gap fill: requests in flight per peer. */
export const GAP_MAX_REQUESTS_PER_PEER = 4;
/** Gap fill: requested bytes in flight per peer. */
export const GAP_MAX_BYTES_PER_PEER = 256 * 1024;
/** Gap fill: requests in flight over all peers. */
export const GAP_MAX_REQUESTS_TOTAL = 12;
/**
 * Gap fill: per-request timeout, ms. Time this node spends ingesting the same peer's previous
 * answers (behind which this answer waits) does not count,
 * up to GAP_REQUEST_MAX_PAUSE_MS.
 */
export const GAP_REQUEST_TIMEOUT_MS = 5_000;
/**
 * Gap fill and reconcile: most of this node's own handling time of a peer's messages not counted
 * against one request's (or one exchange step's) timeout, ms (peer-wait.ts).
 */
export const GAP_REQUEST_MAX_PAUSE_MS = 60_000;
/** Timeouts or error answers after which one on-demand range (engine.requestRange) gives up. */
export const SYNC_ON_DEMAND_TRIES = 3;
/** Request timeouts in a row on one claim (author head or fork) before it is refused like an empty answer. */
export const GAP_CLAIM_TIMEOUTS = 3;
/**
 * Rounds of timeouts (or error answers) after which a claim of a peer that never delivered that
 * author's entries, or a fork want of a peer, no longer counts as missing (it is still asked
 * until GAP_CLAIM_TIMEOUTS, and after that while the peer is useful).
 */
export const GAP_DOUBT_TIMEOUTS = 2;
/**
 * Authors per peer remembered as claimed and never delivered after GAP_CLAIM_TIMEOUTS rounds of
 * silence (gap-fill.ts doubt): such a claim learned again starts doubtful. Oldest dropped.
 */
export const GAP_DOUBTFUL_PER_PEER = 1024;
/** How long a refused claim (empty answer, or GAP_CLAIM_TIMEOUTS timeouts) is not asked again, ms. */
export const GAP_REFUSED_MS = 60_000;
/** Targets of one ready peer ranked per scheduling pass at most (the rest wait their turn). */
export const GAP_RANK_SCAN_PER_PEER = 256;
/** How long a claim refused after GAP_CLAIM_TIMEOUTS rounds of timeouts is not asked again, ms. */
export const GAP_TIMEOUT_REFUSED_MS = 10_000;
/** Gap fill: backoff after a failed request (doubles per failure up to GAP_BACKOFF_MAX_MS; the wait is a random half to all of it), ms. */
export const GAP_BACKOFF_BASE_MS = 250;
/** Gap fill: (peer, author) pauses after short answers held before expired ones are swept. */
export const GAP_SHORT_PAUSES_SWEEP = 1024;
export const GAP_BACKOFF_MAX_MS = 30_000;
/**
 * Gap fill: authors with a known gap tracked at once. Beyond it, gaps of further authors are not
 * recorded (a later exchange finds them again once the queue drains): bounds what a peer
 * claiming fake feeds can make us hold.
 */
export const GAP_MAX_TARGETS = 100_000;
/** Gap fill: fork evidence (author, seq) waiting to be fetched, at most. */
export const GAP_MAX_FORKS = 4096;
/** Gap fill: fork evidence keys remembered as fetched (so they are not fetched again each sync). */
export const GAP_MAX_FORKS_DONE = 4096;

/**
 * Reconcile: an exchange waiting longer than this for the peer's next message is abandoned, ms.
 * Time this node spends handling that peer's messages meanwhile does not count, up to
 * GAP_REQUEST_MAX_PAUSE_MS (peer-wait.ts).
 */
export const SYNC_EXCHANGE_TIMEOUT_MS = 10_000;
/**
 * Session: compare bytes a peer may make us send in exchanges it begins, per SYNC_PERIOD_MS (a
 * leaky bucket): SYNC_COMPARE_BYTES_PER_HEAD per head we hold (one naming of each, ~41 bytes in a
 * `final`) plus SYNC_COMPARE_BUDGET_SLACK. While over it, its begins are refused (`sync-busy`).
 */
export const SYNC_COMPARE_BYTES_PER_HEAD = 41;
export const SYNC_COMPARE_BUDGET_SLACK = 64 * 1024;
/** Session: exchanges a peer may have open with us at once (further begins are refused). */
export const SYNC_MAX_OPEN_EXCHANGES = 2;
/** Session: range requests served at once per peer (further ones get a busy error). */
export const SYNC_MAX_SERVING = 4;

/**
 * Timed-out range requests remembered per peer session, so that an answer arriving after its
 * timeout counts as late (PeerSyncStatus.rangesLate) rather than unasked (answersUnasked). At 4
 * requests in flight per peer (GAP_MAX_REQUESTS_PER_PEER) this covers the last 64 rounds of
 * timeouts; a set of numbers, so a few KiB per peer at most.
 */
export const SYNC_TIMED_OUT_REMEMBERED = 256;
/** Driver: anti-entropy period (plus up to the same again of jitter), ms. */
export const SYNC_PERIOD_MS = 30_000;
/** Gap fill status: authors listed with their missing-entry counts (largest gaps first), at most. */
export const GAP_STATUS_MAX_AUTHORS = 100;
/** GapFill.status() walks the whole table at most once per this many ms (idle() is always current). */
export const GAP_STATUS_CACHE_MS = 1000;
/** Tables of at most this many targets and forks are walked on every status() (cheap). */
export const GAP_STATUS_CACHE_MIN_WANTS = 2000;

/** Partition: a peer unseen for this long no longer counts as recently known, ms. */
export const PARTITION_WINDOW_MS = 10 * 60_000;
/** Partition: fewer recently known peers than this never make a partition (one peer leaving is churn). */
export const PARTITION_MIN_KNOWN = 2;
