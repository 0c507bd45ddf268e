// The typed contract between the page (client) and the node's worker.
import type { Conflict, Removal } from '../core/types.js';
import type { JsonValue } from '../core/state/record-value.js';
import type { RecordChange, RecordEntry } from '../core/state/records.js';
import type { LatencySummary, NetworkNode, NetworkView } from './telemetry-types.js';
import type { SyncStatus } from '../core/sync/engine.js';
import type { PeerSyncStatus } from '../core/sync/session.js';
import type { BudgetStatus } from '../core/light-budget.js';
import type { QueueTimings } from '../core/write-timings.js';
import type { JoinInfo } from './join-driver.js';
import type { GossipStats } from './entry-gossip.js';
import type { OutboxStats } from './gossip-outbox.js';
import type { StoreReset } from './store-reset.js';
import type { OwnCopyStatus } from './own-copy.js';
import type { OwnFeedCheckState } from '../core/own-feed-check.js';
import type { HistoryPage } from '../core/history/feed-history.js';

export type { HistoryPage } from '../core/history/feed-history.js';
export type { HistoryItem, HistoryWrite } from '../core/history/describe.js';

export type { Conflict, Removal, JsonValue, RecordChange, RecordEntry, LatencySummary, NetworkNode, NetworkView };

export type Transport = 'webrtc' | 'relayed' | 'websocket';

export interface PeerStatus {
  id: string;
  /** Best transport currently open to this peer. */
  transport: Transport;
  /** Last measured ping round trip, ms; null until measured. */
  rttMs: number | null;
  /** Whether the peer is one of the site's relays. */
  relay: boolean;
  /** Estimated clock offset, the peer's clock − ours, ms; null until measured (time protocol). */
  clockOffsetMs?: number | null;
  /** The true offset lies within clockOffsetMs ± this, ms (half the best round trip + dispersion). */
  clockUncertaintyMs?: number | null;
  /**
   * How far the peer is behind the best heads this node knows, as of our last Merkle comparison
   * with it (`at`, ms since the epoch): entries, and ms it has been seen behind; null before one.
   */
  lag?: { entries: number; ms: number; at: number } | null;
  /**
   * Peer score (src/lib/core/peers/score.ts): moving average of its answers (useful +1, empty 0,
   * late -0.5, timed out or invalid -1) minus an RTT term up to 0.25; null until it answered.
   */
  score?: number | null;
  /** Banned (disconnected, redials refused) until `bannedUntil` (ms since the epoch). */
  banned?: boolean;
  bannedUntil?: number | null;
}

/** This node's clock offset, lag and sync latency (core/clock). */
export interface ClockStatus {
  /** Median over peers of (peer clock − ours), ms: our clock + offsetMs ≈ the network's clock; null until measured. */
  offsetMs: number | null;
  /** The peers' median true offset lies within offsetMs ± this, ms; null until measured. */
  uncertaintyMs: number | null;
  /** Peers with a clock estimate. */
  peers: number;
  /** Entries known missing behind the best known heads, and for how long (ms) the oldest gap has been open. */
  lag: { entries: number; ms: number };
  /** Origin write (author's time moved onto our clock by the offset) → applied here, ms, over a sliding window. */
  syncLatency: LatencySummary;
  /** Probe bursts completed and failed, and steps of our own clock followed, since start. */
  probes?: { completed: number; failed: number; clockSteps: number };
}

/** A ban in force (src/lib/core/peers/score.ts). */
export interface BanStatus {
  peer: string;
  /** Error code that caused it, e.g. `bad-signature`, `sync-wrong-network`, `forged-announcement`. */
  reason: string;
  /** ms since the epoch. */
  since: number;
  until: number;
  /** Bans of this peer not yet forgotten, this one included (each doubles the length, up to 1 h). */
  offences: number;
}

export interface RelayStatus {
  addr: string;
  connected: boolean;
  /** Whether this node holds a circuit reservation on the relay (is reachable through it). */
  reserved?: boolean;
}

/** The libp2p half of the status. */
export interface NetworkStatus {
  peerId: string;
  online: boolean;
  peers: PeerStatus[];
  /** Bans in force, most recent first (at most 100). */
  bans?: BanStatus[];
  relays: RelayStatus[];
  /** Our dialable addresses (circuit/webrtc), once a relay reservation is held. */
  addrs: string[];
  /** When the network started (Date.now(), ms); in a node's status, when the node started until then. */
  startedAt: number;
  /** Milestones since the network started, ms; null until reached. */
  timings: NetworkTimings;
}

export interface NetworkTimings {
  /** First relay connection open. */
  relayMs: number | null;
  /** First /p2p-circuit/webrtc address: a relay reservation is held. */
  reservationMs: number | null;
  /** First direct WebRTC connection open. */
  firstWebrtcMs: number | null;
  /** Duration of our most recent successful WebRTC dial (signalling + ICE + DTLS). */
  lastDialMs: number | null;
}

export interface LedgerSummary {
  entries: number;
  authors: number;
  forkedAuthors: number;
  pending: number;
  conflicts: number;
  /** Records (keys with a value), of which records(limit) returns the first. */
  records: number;
  lastCompactionAt: number | null;
  stateDigest: string;
  /**
   * Pushed statuses carry the last digest computed (worker/status-digest.ts): null when it is
   * current, else when the state first changed after it (epoch ms). status() asked explicitly
   * always computes it (null).
   */
  stateDigestStaleSince: number | null;
  /** The state was bootstrapped from a light snapshot whose content is not yet verified. */
  unverified: boolean;
  /** Replica role, storage budget for entries (null: full replica), bytes held, entries pruned. */
  storage: BudgetStatus;
  /** Where the ledger's work queue spent its time since open (core/write-timings.ts). */
  queue?: QueueTimings;
}

/** The sync driver's transport counters (src/lib/worker/sync-driver.ts). */
export interface SyncDriverStats {
  /** Sync streams open now (one per directly connected browser peer). */
  openStreams: number;
  streamsOpened: number;
  /** Streams that failed to open, or were aborted (read/write error, timeout, full queue). */
  streamFailures: number;
  /** Streams dropped because the peer did not read in time or its send queue overflowed. */
  slowPeerDrops: number;
  /** Peers disconnected for saying hello with another network's genesis. */
  wrongNetworkDisconnects: number;
}

/**
 * Catch-up state (SPEC §5): the engine's view (Merkle root of our heads, entries known missing,
 * last time our root equalled a peer's, rejected peers, partition events (fewer than half of the
 * recently known peers reachable: `partitionEvents`, `partitioned`, `partitionedSince`,
 * `reachablePeers` / `knownPeers`), per peer last sync time, entries and bytes
 * each way and ranges in flight; times are ms since the epoch) plus the driver's counters.
 */
export interface SyncInfo extends SyncStatus, SyncDriverStats {}

/**
 * Entry gossip counters since the node started: what was heard (worker/entry-gossip.ts
 * GossipStats, without the per-peer map; `published` is the outbox's) and the local entries'
 * outbox (worker/gossip-outbox.ts OutboxStats).
 */
export interface GossipInfo extends Omit<GossipStats, 'rejectedByPeer' | 'published'> {
  outbox: OutboxStats;
}
export type { PeerSyncStatus, StoreReset, OwnFeedCheckState, OwnCopyStatus };

export interface NodeStatus extends NetworkStatus {
  networkId: string;
  /** Why the network side is not running, while it retries; null when fine. */
  networkError: string | null;
  /** This node's author key (hex); its PeerId is derived from the same Ed25519 key. */
  author: string;
  role: 'light' | 'full';
  ledger: LedgerSummary;
  sync: SyncInfo;
  /** Absent until gossip runs (after the network started and any join installed). */
  gossip?: GossipInfo;
  clock?: ClockStatus;
  /** Verified join (src/lib/worker/join-driver.ts): `state` 'off' when this node did not join. */
  join?: JoinInfo;
  /** The last time the browser reset this profile's store (IndexedDB data loss at open), or null. */
  storeReset: StoreReset | null;
  /**
   * The own-feed check (core/own-feed-check.ts): 'holding' while the first local write after a
   * long absence waits to learn this node's own feed head from a peer (at most 15 s).
   */
  ownFeedCheck: OwnFeedCheckState;
  /**
   * The second copy of this device's identity and own feed outside IndexedDB (worker/own-copy.ts):
   * 'on' while every local write is copied, what it holds, and what it restored at this start.
   */
  ownCopy: OwnCopyStatus;
}

/**
 * Where the profile's node is in its life. `standby`: a new leader tab's node waits for the
 * previous leader's node to stop (Web Locks); every tab of the profile sees the same phase.
 */
export type NodePhase = 'starting' | 'standby' | 'running';

/** What a tab sends with a write call (Ledger WriteOptions as it crosses threads). */
export interface WriteCallOptions {
  tag?: string;
  retry?: boolean;
}

export interface WriteReceipt {
  author: string;
  seq: number;
  hash: string;
}

export interface SnapshotFile {
  fileName: string;
  bytes: Uint8Array;
}

export interface ImportReport {
  kind: string;
  added: number;
  skipped: number;
  rejected: number;
}

export type SnapshotKind = 'light' | 'full' | 'incremental';

/** One author's feed as this node holds it. */
export interface FeedInfo {
  author: string;
  seq: number;
  hash: string;
  forked: boolean;
  /** This node's own feed. */
  local: boolean;
  /** A forked feed is void from this seq (PROTOCOL.md §6); `seq` is then its last applied entry. */
  voidFrom?: number;
}

/** Everything the worker answers. Each method is async across the thread boundary. */
export interface NodeApi {
  status(): NodeStatus;
  /** Send bytes over the echo protocol to a directly connected peer and return what came back. */
  echo(peerId: string, data: Uint8Array): Uint8Array;
  /**
   * `opts`: the write's tag (a tab's call id) and whether this is a re-send; a re-sent write the
   * node already made answers with its first receipt (Ledger WriteOptions, client/tab-broker.ts).
   */
  put(key: string, value: JsonValue, opts?: WriteCallOptions): WriteReceipt;
  delete(key: string, opts?: WriteCallOptions): WriteReceipt | null;
  get(key: string): JsonValue | undefined;
  /** The records sorted by key: every one, or the first `limit` (what a page shows). */
  records(limit?: number): RecordEntry[];
  conflicts(): Conflict[];
  /** Sequential overwrites and deletes of other authors' records (who removed what, when). */
  removals(): Removal[];
  feeds(): FeedInfo[];
  /**
   * A page of `author`'s feed, newest first: up to `limit` entries (default 50, at most 500) below
   * seq `before` (default: from the head). A light replica fetches entries it pruned back from
   * peers that hold them and verifies them against what it holds (not stored). Errors:
   * HistoryUnavailableError (no peer could serve the pruned part), HistoryTooFarError.
   */
  history(author: string, o?: { before?: number; limit?: number }): HistoryPage;
  exportSnapshot(kind?: SnapshotKind): SnapshotFile;
  importSnapshot(bytes: Uint8Array): ImportReport;
  /** Nodes seen through telemetry beacons, and sync latency. */
  network(): NetworkView;
}

export type NodeMethod = keyof NodeApi;

/** NodeApi as the page calls it: every answer crosses the thread boundary. */
export type RemoteApi = {
  [K in NodeMethod]: (...a: Parameters<NodeApi[K]>) => Promise<Awaited<ReturnType<NodeApi[K]>>>;
};

/** NodeApi as the worker implements it: answers may be immediate or async. */
export type ApiHandlers = {
  [K in NodeMethod]: (...a: Parameters<NodeApi[K]>) => ReturnType<NodeApi[K]> | Promise<ReturnType<NodeApi[K]>>;
};

export interface InitConfig {
  /** Site origin that serves /api/relays. */
  origin: string;
  iceServers: RTCIceServer[];
  /** Relays used at once (reservations spread over them); default RELAY_POOL_DEFAULTS.maxActive. */
  maxRelays?: number;
  /** Replica role; default 'light' (a visitor). */
  role?: 'full' | 'light';
  /** Light replicas: budget for stored entries, MiB; default LIGHT_BUDGET_BYTES. */
  budgetMiB?: number;
  /**
   * The network id (64 hex) the page was opened for (`?network=`, VITE_TABULA_NETWORK); absent
   * means the bundled network. The site's genesis must hash to it, or the node refuses to start.
   */
  network?: string;
  /**
   * Join from a verified state snapshot when the ledger is empty (verified join, PROTOCOL.md §13);
   * default true for a light replica (`false`: replay entries through sync). A full replica never joins.
   */
  join?: boolean;
}

/** Events the node pushes to every page. */
export type NodeEvent =
  | { type: 'phase'; phase: NodePhase }
  | { type: 'status'; status: NodeStatus }
  | { type: 'records'; changes: RecordChange[] }
  | { type: 'conflicts'; conflicts: Conflict[] };

/** Page → worker. The first message is always `init`, carrying the RTC bridge port. */
export type ToWorker =
  | { kind: 'init'; config: InitConfig; bridge: MessagePort }
  /** Shut the node down cleanly (store closed, connections ended), then end the worker. */
  | { kind: 'stop' }
  | { [M in NodeMethod]: { kind: 'call'; id: number; method: M; args: Parameters<NodeApi[M]> } }[NodeMethod];

export interface ErrorInfo {
  name: string;
  message: string;
  code?: string;
}

/**
 * The worker's timestamps for a call (client/rpc-trace.ts), ms since the epoch with sub-ms
 * precision: received, method started, method settled, answer posted.
 */
export type CallStamps = [received: number, started: number, done: number, posted: number];

/** Worker → page. */
export type FromWorker =
  | { kind: 'result'; id: number; ok: true; value: unknown; trace?: CallStamps }
  | { kind: 'result'; id: number; ok: false; error: ErrorInfo; trace?: CallStamps }
  | { kind: 'event'; event: NodeEvent }
  | { kind: 'fatal'; error: ErrorInfo };
