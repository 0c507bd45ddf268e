// Defaults and limits of the ledger core. Protocol constants here are part of PROTOCOL.md:
// changing one changes the wire format or what peers accept.

/** Format byte that starts every canonical entry encoding. */
export const ENTRY_FORMAT_V1 = 1;
/** Format byte of the current entry encoding (adds `clock` and `deps`; PROTOCOL.md §3). */
export const ENTRY_FORMAT_V2 = 2;
/** Most causal dependencies one entry may name (one per other author it references). */
export const MAX_ENTRY_DEPS = 64;
/** Largest entry `time`: the last instant a JavaScript Date can represent (ms since the epoch). */
export const MAX_ENTRY_TIME = 8_640_000_000_000_000;
/** Largest varuint value anywhere in an entry (JavaScript safe integers). */
export const MAX_VARUINT = Number.MAX_SAFE_INTEGER;
/** Bytes of the network id carried in every entry (see PROTOCOL.md, "network tag"). */
export const NETWORK_TAG_BYTES = 8;
/** Domain-separation prefix of the Ed25519 signing bytes (ASCII, NUL-terminated). */
export const ENTRY_SIGNING_TAG = 'tabula/entry/v1\u0000';
/** Fixed-size fields. */
export const PUBLIC_KEY_BYTES = 32;
export const HASH_BYTES = 32;
export const SIGNATURE_BYTES = 64;

/** Format byte that starts the canonical genesis encoding (equals Genesis.v). */
export const GENESIS_FORMAT_V1 = 1;
/** Decoders refuse larger genesis documents before parsing. */
export const MAX_GENESIS_BYTES = 4096;
/** Network name: 1..64 UTF-8 bytes, no control characters. */
export const MAX_NETWORK_NAME_BYTES = 64;
export const MAX_GENESIS_OPERATORS = 64;
/** Allowed range of Genesis.maxEntryBytes. */
export const MIN_MAX_ENTRY_BYTES = 1024;
export const MAX_MAX_ENTRY_BYTES = 1024 * 1024;
/** Domain-separation prefix of an operator's signature over the genesis encoding (ASCII, NUL-terminated). */
export const GENESIS_SIGNING_TAG = 'tabula/genesis/v1\u0000';
/** `format` field of a genesis document (the JSON served at /api/genesis). */
export const GENESIS_DOCUMENT_FORMAT = 'tabula-genesis';
/** Decoders refuse a larger genesis document (JSON text, UTF-8 bytes) before parsing it. */
export const MAX_GENESIS_DOCUMENT_BYTES = 32 * 1024;

/** Bundled development network. */
export const DEFAULT_NETWORK_NAME = 'tabula-dev';
/** 2025-01-01T00:00:00Z: fixed so every node derives the same network id. */
export const DEFAULT_GENESIS_CREATED_AT = Date.UTC(2025, 0, 1);
export const DEFAULT_MAX_ENTRY_BYTES = 64 * 1024;

/**
 * Entries: largest seq and Yjs clock an entry may carry (2^52 - 1). Above it lie the void heads
 * of forked feeds (void.ts), so a void head always sorts above any real head.
 */
export const MAX_ENTRY_SEQ = 2 ** 52 - 1;
export const MAX_ENTRY_CLOCK = 2 ** 52 - 1;
/** Void head of a feed forked at seq s: seq VOID_HEAD_BASE - s (a lower fork gives a higher head). */
export const VOID_HEAD_BASE = Number.MAX_SAFE_INTEGER;
/** Ledger: times held entries are carried over a FeedSet rebuild within one ingest (then sync brings them). */
export const LEDGER_CARRY_DEPTH = 4;
/**
 * Ledger: queue steps that chain without giving the event loop a tick (a memory store and
 * synchronous crypto) yield one once they have run this long, ms (core/loop-slice.ts). 20 ms
 * keeps a 60 Hz frame's worth of input waiting at most about one frame.
 */
export const LEDGER_STEP_SLICE_MS = 20;
/**
 * Ledger: void rebuilds (a fork of entries the state applied replays the store) use at most this
 * share of any VOID_REBUILD_WINDOW_MS of wall time; later ones wait (rebuild-budget.ts). 10%: a
 * flood of Sybil forks costs a node at most a tenth of its time, and a single fork is immediate.
 */
export const VOID_REBUILD_SHARE = 0.1;
export const VOID_REBUILD_WINDOW_MS = 60_000;
/** Ledger: a failed void rebuild is retried after this long, doubling up to the max, ms (and at the next write or ingest). */
export const VOID_REBUILD_RETRY_MS = 1_000;
export const VOID_REBUILD_RETRY_MAX_MS = 60_000;
/** Ledger: bytes of causally refused entries remembered as possible fork variants (refused-variants.ts). */
export const REFUSED_VARIANTS_MAX_BYTES = 4 * 1024 * 1024;
/** Ledger: at most this many refused entries remembered (and stored, one meta row each). */
export const REFUSED_VARIANTS_MAX_COUNT = 1024;
/**
 * Ledger: remembered refusals a void may have made acceptable are judged again at most this many
 * per step (the ingest that found the fork, then a timer every LEDGER_REJUDGE_DELAY_MS at least,
 * within the rebuild budget), so a fork costs its ingest a bounded amount of work (rejudge.ts).
 */
export const LEDGER_REJUDGE_PER_STEP = 32;
export const LEDGER_REJUDGE_DELAY_MS = 50;
/** Causal rules: how far above the highest lamport it holds a node accepts an entry with a void dependency. */
export const VOID_LAMPORT_SLACK = 2 ** 32;
/**
 * Domain tag of a void head's hash: SHA-256(tag || author || s as u64 BE || k as u64 BE || hash of
 * entry k, or 32 zero bytes when k = 0), k the highest canonical seq the node holds (void.ts).
 */
export const VOID_HEAD_TAG = 'tabula/void-head/v2';

/** FeedSet: out-of-order entries held per author while waiting for a predecessor. */
export const MAX_PENDING_PER_AUTHOR = 256;
/** FeedSet: out-of-order entries held over all authors. */
export const MAX_PENDING_TOTAL = 10_000;
/** FeedSet: contiguous entries kept per author to detect duplicates and forks below the head. */
export const RECENT_ENTRIES_PER_AUTHOR = 32;

/** State: domain tag of the Yjs clientID derivation (clientID = first 4 bytes of SHA-256(tag || key)). */
export const YJS_CLIENT_ID_TAG = 'tabula/yjs-client/v1';
/** State: domain tag of the state digest. */
export const STATE_DIGEST_TAG = 'tabula/state-digest/v1';
/** State: largest Yjs update accepted by applyRemote / loadState (snapshots may be larger). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
export const MAX_STATE_BYTES = 256 * 1024 * 1024;
/** Records: key length in UTF-16 code units, value size as UTF-8 JSON, nesting depth. */
export const RECORD_KEY_MAX_CHARS = 256;
export const RECORD_VALUE_MAX_BYTES = 32 * 1024;
export const RECORD_VALUE_MAX_DEPTH = 32;
/** Records: name of the Y.Map that holds the bundled records app. */
export const RECORDS_TYPE_NAME = 'records';

/** Heads root: domain tag of the digest over a set of feed heads (heads-digest.ts). */
export const HEADS_ROOT_TAG = 'tabula/heads-root/v1\u0000';

/** Snapshots (PROTOCOL.md §9): format name and version written in the header line. */
export const SNAPSHOT_FORMAT = 'tabula-snapshot';
export const SNAPSHOT_VERSION = 2;
/** Import: decompressed bytes read before giving up (gzip bomb bound). */
export const SNAPSHOT_MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024;
/** Import: longest NDJSON line; fits an entry at MAX_MAX_ENTRY_BYTES in base64, or a header with ~100k heads. */
export const SNAPSHOT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Import: entry lines accepted in one snapshot (all are held in memory until the one ingest). */
export const SNAPSHOT_MAX_ENTRIES = 1_000_000;
/** Export: raw state bytes per state line, so state lines stay far below the line bound. */
export const SNAPSHOT_STATE_CHUNK_BYTES = 1024 * 1024;
/** Import: entries verified concurrently. */
export const SNAPSHOT_VERIFY_BATCH = 64;

/** Ledger: entries applied since the last compaction before the ledger compacts on its own. */
export const LEDGER_COMPACT_EVERY = 256;
/**
 * Light replica: default budget for stored entries, bytes (32 MiB: ~130k entries of 256 B; the
 * compacted state and heads come on top). Configurable per node.
 */
export const LIGHT_BUDGET_BYTES = 32 * 1024 * 1024;
/** Light replica: newest entries of every feed that are never pruned (recent duplicates and forks stay checkable). */
export const LIGHT_KEEP_RECENT = 8;
/** Light replica: pruning stops at this fraction of the budget (so not every compaction prunes). */
export const LIGHT_PRUNE_TARGET = 0.75;
/**
 * Ledger: a compaction is due (after LEDGER_COMPACT_EVERY entries) once the payload bytes applied
 * since the last one reach this fraction of the state it stored (compaction-policy.ts).
 */
export const LEDGER_COMPACT_STATE_RATIO = 0.5;
/** Ledger: entries since the last compaction at which one is due whatever their bytes (bounds replay on open). */
export const LEDGER_COMPACT_MAX_ENTRIES = 4096;
/**
 * Ledger: local writes committed together at most (group commit, write-groups.ts): bounds one
 * transaction and how long the first write of a burst waits for the others to be signed.
 */
export const LEDGER_MAX_GROUP_WRITES = 1000;

/**
 * Write tags (idempotency keys of local writes, Ledger.put's `tag`) kept per author: a tag is
 * forgotten once its write is this many local writes old. A tab re-sends an unanswered write
 * after a takeover, within seconds (client/tab-broker.ts); 4,096 writes is far past that.
 */
export const WRITE_TAGS_KEPT = 4096;
/**
 * Old write tags are dropped by a tagged append at least this many seqs after the last drop: one
 * range delete per 256 writes instead of one per write (~15% of a tagged put on Dexie over
 * fake-indexeddb at 6,000 writes, bench/ledger-writes.ts).
 */
export const WRITE_TAGS_DROP_EVERY = 256;
/** Longest write tag, UTF-16 code units (a tab's call id: a 36-character UUID, ':' and a counter). */
export const MAX_WRITE_TAG_LENGTH = 64;
/** Ledger: stored entries read (and verified) per page while replaying a feed on open. */
export const LEDGER_REPLAY_PAGE = 256;

/** FeedSet: bytes held by pending entries over all authors (heldEntryBytes each, feeds.ts). */
export const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** FeedSet: rough per-entry cost of a pending entry besides its payload (fixed fields, hash, bookkeeping). */
export const PENDING_ENTRY_OVERHEAD_BYTES = 256;
/**
 * Rough in-memory cost of one dependency of a held entry: a 64-character hex author string and a
 * seq (on the wire 32 bytes + a varint, ≤ 41). Counted so that a held entry's account is at least
 * its encoded size (red team 6d refused-accounting).
 */
export const HELD_DEP_BYTES = 128;
/** FeedSet: pending entries older than this (local receive time) are evicted when new entries arrive. */
export const PENDING_MAX_AGE_MS = 10 * 60 * 1000;

/** Gossip: messages verified or waiting for the ledger at once; beyond this they are ignored (not forwarded). */
export const GOSSIP_MAX_QUEUED = 256;
/**
 * Gossip: message bytes being verified or waiting for the ledger at once; a message that would go
 * over it is ignored like one over GOSSIP_MAX_QUEUED. Without it, 256 messages of a genesis's
 * largest entry (1 MiB, MAX_MAX_ENTRY_BYTES) could hold 256 MiB; at the default 64 KiB entry
 * size the count binds first (16 MiB).
 */
export const GOSSIP_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/**
 * Gossip: after a message is dropped over GOSSIP_MAX_QUEUED, the sync driver is asked to
 * reconcile this long later (once per such delay), not at the next periodic sync (30-60 s), ms.
 */
export const GOSSIP_DROP_RESYNC_MS = 1_000;
/**
 * Gossip flow control (gossip-shed.ts): a node that dropped a message over GOSSIP_MAX_QUEUED leaves
 * the entries topic for at least this long (sync fills its gaps meanwhile), ms; doubled, up to
 * GOSSIP_SHED_MAX_MS, when it sheds again within GOSSIP_SHED_STABLE_MS of joining.
 */
export const GOSSIP_SHED_MIN_MS = 2_000;
export const GOSSIP_SHED_MAX_MS = 30_000;
export const GOSSIP_SHED_STABLE_MS = 30_000;
/**
 * Gossip flow control: a drop takes the node off the topic only when its queue is standing, i.e.
 * the oldest entry waiting for the ledger (or being ingested) was queued at least this long ago,
 * ms. A burst (messages arriving together, all being verified at once) overflows the cap with
 * the queue young: its excess is dropped and the node stays. The idea is CoDel's (Nichols and
 * Jacobson, "Controlling Queue Delay", ACM Queue 10(5), 2012): act on the time a queue holds its
 * items, not on its length. 1 s: about two of a loaded tab's ingest steps (0.5-0.8 s in S10).
 */
export const GOSSIP_SHED_STANDING_MS = 1_000;
/**
 * Gossip: a run whose link check (chain-links.ts) is still waiting after this long, for a
 * predecessor never seen or for the verdict on one (up to LINKS_WAIT_MS), takes a share of its
 * sending peer's waits (GOSSIP_LINK_WAITS_PER_PEER), or is a gap at once, ms. Until then it holds
 * queue slots like any message being verified. 200 ms: well over the time to verify a
 * predecessor sent just before it on a loaded tab (WebCrypto verified ~8k signatures/s here).
 */
export const GOSSIP_LINK_GRACE_MS = 200;
/**
 * Gossip: entries of messages one peer sent (its propagation source) that may wait at once for
 * their predecessor past GOSSIP_LINK_GRACE_MS; beyond it, that peer's run is a gap at once (held
 * by the ledger, left to sync). Waiting entries do not count toward GOSSIP_MAX_QUEUED: before, a
 * hostile direct peer kept the queue full with validly signed gap entries (or chains behind
 * one), each holding a slot for the wait. Relays never forward gap entries; an honest peer rarely
 * has one waiting that long.
 */
export const GOSSIP_LINK_WAITS_PER_PEER = 64;
/** Gossip: their message bytes per peer at once (see GOSSIP_LINK_WAITS_PER_PEER). */
export const GOSSIP_LINK_WAIT_BYTES_PER_PEER = 1024 * 1024;
/** Gossip: entries waiting for a predecessor at once, all peers (and GOSSIP_MAX_QUEUED_BYTES for their bytes). */
export const GOSSIP_LINK_WAITS = 256;
/**
 * Gossip flow control: the backoff a node's PRUNE asks of its mesh peers when it leaves the entries
 * topic (gossipsub's `unsubcribeBackoff`, default 10 s), ms. Gossipsub clears expired backoffs only
 * every 15 heartbeats, so a node that joins again is back in its peers' meshes 1-17 s after it
 * left with 1 s heartbeats (11-26 s with the default).
 */
export const GOSSIP_UNSUBSCRIBE_BACKOFF_MS = 1_000;

/**
 * Gossipsub mesh degree of a browser node (D, and its bounds Dlo/Dhi and outbound minimum Dout):
 * 3 instead of gossipsub's default 6 (its spec's value for large networks). Each message reaches
 * a node from about D − 1 mesh peers, every copy decrypted, framed and decoded before the seen
 * cache drops it; a smaller mesh halves that work, while gossip to non-mesh peers (IHAVE, Dlazy 6)
 * and sync (PROTOCOL.md §11) still repair what a mesh peer withholds. Measured in fault scenario
 * S10 (8 nodes × 100 writes/s, 2 cores, 2026-12-04): the nodes took in 1,351 and 1,694 entries/s
 * after the load with 3 against 686, 716 and 901 with 6. Relays keep the default (relay/node.ts).
 */
export const GOSSIP_MESH = { D: 3, Dlo: 2, Dhi: 4, Dout: 1 } as const;
/** Gossip flow control: while off the topic, how often the node asks sync for its gaps and checks whether it may join again, ms. */
export const GOSSIP_SHED_CHECK_MS = 500;
/**
 * Gossip: first byte of a batch message on the entries topic (core/gossip-batch.ts, PROTOCOL.md
 * §2.6); no entry format uses it.
 */
export const GOSSIP_BATCH_FORMAT = 0xb1;
/**
 * Gossip: entries in one batch message at most. An author's node batches the entries waiting in
 * its outbox (consecutive seqs of its feed) up to this many and up to the genesis's maxEntryBytes
 * in all; a receiver refuses a batch of more (malformed).
 */
export const GOSSIP_BATCH_MAX_ENTRIES = 64;
/** Gossip: verified entries handed to one Ledger.ingest call. */
export const GOSSIP_INGEST_BATCH = 64;
/** Gossip: entry hashes remembered to ignore re-sent entries without checking their signature again. */
export const GOSSIP_SEEN_HASHES = 4096;
/** Gossip: peers whose rejected-message count is tracked (oldest-updated forgotten first). */
export const GOSSIP_TRACKED_PEERS = 1024;
/** Gossip: local entries held while no peer subscribes to the entries topic (gossip not running yet, no subscriber yet); the oldest kept. */
export const GOSSIP_LOCAL_BACKLOG = 256;
/** Gossip: a held local entry whose publish reached no peer is tried again after this, ms (or when a peer subscribes). */
export const GOSSIP_OUTBOX_RETRY_MS = 1_000;
/**
 * Gossip: own entries published per second at most, and in one burst. Below the relay's default
 * per-peer rate (relay/limits.ts GOSSIP_LIMITS: 300/s, bursts of 600), leaving room for the
 * entries a node forwards and for telemetry: a relay Ignores messages over its rate and strikes
 * the sender's gossipsub score.
 */
export const GOSSIP_OUTBOX_RATE = 200;
export const GOSSIP_OUTBOX_BURST = 200;
/** Gossip: own entries (and their encoded bytes) waiting for the pace at once; more are left to sync. */
export const GOSSIP_OUTBOX_MAX_QUEUED = 8_192;
export const GOSSIP_OUTBOX_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** Peer dialer: direct dials in flight at once; further peers wait for their next discovery broadcast. */
export const DIALER_MAX_CONCURRENT_DIALS = 4;
/** Peer dialer: peers whose dial failures (backoff) are remembered. */
export const DIALER_MAX_TRACKED_FAILURES = 1024;
/** Ledger: incoming entries whose signatures are verified concurrently (ingest checks a batch in such chunks). */
export const LEDGER_VERIFY_CONCURRENCY = 256;
/**
 * Entries whose verification (network, signature, payload) is remembered per process, so gossip's
 * check and Ledger.ingest's check of the same entry cost one Ed25519 verification (verified-entries.ts).
 * Keys of ~130 bytes: ~1 MiB at most.
 */
export const VERIFIED_ENTRIES_REMEMBERED = 8192;
/**
 * Ed25519 verifications handed to WebCrypto at once (ed25519.ts); more wait in order. Enough to
 * keep the platform's crypto workers busy, few enough that a signature is never queued behind
 * a long backlog of them.
 */
export const ED25519_MAX_VERIFIES_IN_FLIGHT = 8;

/**
 * Storage adapters (platform/dexie-store.ts): every store operation settles within
 * STORAGE_TIMEOUT_BASE_MS plus its allowance (per entry it reads or writes, per MiB of state),
 * or it is aborted and rejects with StorageTimeoutError, so the ledger's queue never stalls.
 */
export const STORAGE_TIMEOUT_BASE_MS = 15_000;
export const STORAGE_TIMEOUT_PER_ENTRY_MS = 1;
export const STORAGE_TIMEOUT_PER_MIB_MS = 1_000;

/** Gossip chain links: authors whose recent entry hashes are remembered (least recently used forgotten). */
export const LINKS_MAX_AUTHORS = 16_384;
/** Gossip chain links: recent seqs remembered per author (the head and a few below it, for late arrivals and fork twins). */
export const LINKS_WINDOW_SEQS = 8;
/** Gossip chain links: distinct hashes remembered per (author, seq): the entry and its fork twin. */
export const LINKS_HASHES_PER_SEQ = 2;
/** Gossip chain links: how long an entry may wait for its predecessor to be judged first, ms. */
export const LINKS_WAIT_MS = 500;
/**
 * Gossip chain links: entries judged and not learnt that are remembered, so that their successors
 * are gaps at once instead of waiting LINKS_WAIT_MS each. ~400 B each (an `author:seq:hash` key
 * and the entry's prev, hex strings in a Map; measured with Node 2026-12-02): ~3.5 MB when full.
 */
export const LINKS_MAX_UNLINKED = 8192;
/** Gossip chain links: entries waiting for a predecessor at once; more are judged unlinked at once. */
export const LINKS_MAX_WAITING = 512;
/** Gossip chain links: entries marked as being judged at once (their successors wait for the verdict). */
export const LINKS_MAX_INFLIGHT = 8192;
/** Gossip chain links: verified gap entries remembered until their predecessor is learnt (then they link). */
export const LINKS_MAX_PARKED = 4096;
/**
 * Own-feed check (own-feed-check.ts): a store last used this long ago, ms, may be an older copy
 * (a restored backup), so the first local write waits to learn the own feed's head from a peer.
 * A reload, a tab takeover or a crash reopens well within it (the node notes it is alive every
 * OWN_FEED_ALIVE_EVERY_MS).
 */
export const OWN_FEED_ABSENCE_MS = 60_000;
/** Own-feed check: how often a running node notes in its store that it is alive, ms. */
export const OWN_FEED_ALIVE_EVERY_MS = 15_000;
/**
 * Own-feed check: the longest a first write waits for a peer's comparison, ms. Then it goes
 * ahead (no peer around, or none holds the feed): a device alone must still write. Measured here
 * (test/e2e/restored-profile.spec.ts, 2 loaded cores): the direct link formed 1–4 s after the
 * start and its sync stream opened 1–5 s after that; 8 s was too short once in three runs.
 */
export const OWN_FEED_HOLD_MS = 15_000;
/**
 * Own-feed check: the longest a first write waits in all while a peer has claimed own entries
 * above the store's that have not come back, ms (a slow link or a big gap; a liar delays that long).
 */
export const OWN_FEED_CLAIMED_HOLD_MS = 60_000;
/**
 * Own copy (own-copy.ts) in OPFS: how long opening its file waits for the handle of a node that
 * is handing over (a closing tab's worker ends within moments), and how often it retries, ms.
 */
export const OPFS_OPEN_WAIT_MS = 2_000;
export const OPFS_OPEN_RETRY_MS = 50;
/** Own copy: entries per ingest when restoring from it, and per store read when filling it in. */
export const OWN_COPY_BATCH = 256;
/** Own copy: records at its end decoded and linked when it is opened (a torn write is at the end). */
export const OWN_COPY_TAIL_CHECK = 64;
/** Own copy: after a failed write (no space), how long until a write group tries to fill it in again, ms. */
export const OWN_COPY_RETRY_MS = 10_000;
