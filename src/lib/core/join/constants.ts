// Defaults and limits of the verified join (src/lib/core/join). Values marked "wire" are part of
// the protocol (PROTOCOL.md §13): changing one changes what peers send, sign or accept.

/** Wire: protocol version carried in `ask`; a server with another version answers an error. */
export const JOIN_PROTOCOL_VERSION = 2;
/** Wire: libp2p protocol id; `<net16>` is the first 16 hex chars of the network id. */
export const JOIN_PROTOCOL_ID = (net16: string): string => `/tabula/${net16}/join/1.0.0`;

/** Wire: domain tag of a join vote's signing bytes. */
export const JOIN_VOTE_TAG = 'tabula/join-vote/v1\u0000';
/** Wire: domain tag of an operator checkpoint's signing bytes. */
export const CHECKPOINT_TAG = 'tabula/checkpoint/v1\u0000';
/** Wire: bytes of the joiner's nonce (one fresh nonce per peer asked). */
export const JOIN_NONCE_BYTES = 16;
/** Wire: format byte of a join snapshot body. */
export const JOIN_SNAPSHOT_FORMAT = 1;
/** Wire: format byte of a join snapshot body that also carries void feeds' evidence (§13.4). */
export const JOIN_SNAPSHOT_FORMAT_VOIDS = 2;

/** Wire: largest join message accepted (a chunk of JOIN_CHUNK_BYTES plus its header). */
export const JOIN_MAX_MESSAGE_BYTES = 64 * 1024 + 256;
/** Wire: largest chunk a server sends (and a joiner asks for). */
export const JOIN_CHUNK_BYTES = 64 * 1024;
/** Wire: longest error code and message (UTF-8 bytes). */
export const JOIN_MAX_ERROR_CODE = 32;
export const JOIN_MAX_ERROR_TEXT = 256;

/** Largest snapshot body a joiner downloads (claims above it are refused before any download). */
export const JOIN_MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;
/** Wire: the smallest snapshot body (format, zero heads, empty state); smaller claimed sizes are refused. */
export const JOIN_MIN_SNAPSHOT_BYTES = 3;
/** Heads (feeds) one snapshot may carry at most. */
export const JOIN_MAX_HEADS = 1_000_000;

/** Peers asked per round, best-scored first (SPEC §5: up to 3). */
export const JOIN_PEERS = 3;
/** Agreement needed among the peers asked: QUORUM_NUM / QUORUM_DEN of them (2/3), counted per author key. */
export const JOIN_QUORUM_NUM = 2;
export const JOIN_QUORUM_DEN = 3;

/** A peer asked that has not answered its `ask` within this is counted as not agreeing, ms. */
export const JOIN_ASK_TIMEOUT_MS = 5_000;
/** A chunk request unanswered within this moves the download to the next agreeing peer, ms. */
export const JOIN_REQUEST_TIMEOUT_MS = 5_000;
/** A new peer while waiting (or unverified): the next round starts this much later, so peers connecting together are asked together, ms. */
export const JOIN_GATHER_MS = 500;
/** Chunk requests in flight at once during a download. */
export const JOIN_MAX_INFLIGHT = 4;
/** After every candidate was refused, or while loaded unverified: a new round after this, ms. */
export const JOIN_RETRY_MS = 30_000;
/** Verified signatures of head entries checked at once while verifying a snapshot. */
export const JOIN_VERIFY_BATCH = 64;

/** Server: snapshots kept (by heads root) so a download can finish after the state moved on. */
export const JOIN_SERVE_CACHE = 2;
/** Server: a snapshot younger than this is served again rather than rebuilt (bounds the cost of asks), ms. */
export const JOIN_SERVE_REBUILD_MS = 1_000;
