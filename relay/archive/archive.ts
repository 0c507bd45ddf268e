// relay --archive: an always-on full replica inside the relay. The core Ledger over SQLite
// stores every entry heard on the entries topic, and the sync driver (the browsers' own) serves
// and requests gap fills over `/tabula/<net16>/sync/1.2.0` with every peer that speaks it, so
// browsers catch up from the archive when no other tab is open, and the archive catches up
// from the peers it meets after a restart.
import type { Libp2p } from '@libp2p/interface';
import type { GossipSub } from '@libp2p/gossipsub';
import { SYNC_PROTOCOL_ID } from '../../src/lib/core/sync/constants.js';
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import { networkNames, shortNetworkId } from '../../src/lib/core/topics.js';
import type { Genesis } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import type { Checkpoint } from '../../src/lib/core/join/messages.js';
import { SyncDriver } from '../../src/lib/worker/sync-driver.js';
import { JOIN_PROTOCOL_ID } from '../../src/lib/core/join/constants.js';
import { ledgerJoinSource } from '../../src/lib/core/join/ledger-source.js';
import { JoinStreamServer } from '../../src/lib/platform/join-protocol.js';
import { startGossipIngest, type ArchiveIngestStats } from './gossip-ingest.js';
import { lockArchive } from './lock.js';
import { openArchiveLedger, type ArchiveLedger } from './open-ledger.js';
import type { SqliteLedgerStore } from './sqlite-store.js';
import { archiveCheckpoints, type ArchiveCheckpointStatus } from './checkpoints.js';

/** Heads listed in ArchiveStatus at most (the rest are counted). */
export const ARCHIVE_STATUS_MAX_HEADS = 100;

/** What /api/archive and /metrics show. Every count is of durable (committed) state. */
export interface ArchiveStatus {
  /** The archive's ledger identity (public key, hex). */
  author: string;
  /** Entries stored in contiguous feeds. */
  entries: number;
  /** Authors with a feed. */
  feeds: number;
  /** Entries held for a missing predecessor (not yet stored). */
  pending: number;
  /** Size of the SQLite database and its WAL, bytes. */
  bytesOnDisk: number;
  /** Merkle root of the heads (equal to a browser's once they have converged). */
  headsRoot: string;
  /** Entries known missing (being fetched). */
  missing: number;
  /** Peers with an open sync stream. */
  syncPeers: number;
  /** Sync peers refused since start: another genesis or protocol version (counted once per session). */
  syncRejectedPeers: number;
  /** Sync streams closed because the peer belongs to another network, since start. */
  syncWrongNetworkDisconnects: number;
  /** The first ARCHIVE_STATUS_MAX_HEADS heads by author. */
  heads: { author: string; seq: number; hash: string }[];
  ingest: ArchiveIngestStats;
  /** ms since the epoch when the archive was opened, and how long opening (replay) took. */
  openedAt: number;
  openMs: number;
  /** Operator checkpoints (checkpoints.ts); absent when the archive was started without them. */
  checkpoints?: ArchiveCheckpointStatus;
}

/**
 * `status` reused within one turn of the event loop (e.g. every gauge of one /metrics scrape) and
 * for `ttlMs` after it was computed. Counts may lag by that much; they never run ahead of commits.
 */
export function reusedStatus(
  status: () => ArchiveStatus,
  ttlMs: number,
  now: () => number = Date.now
): () => ArchiveStatus {
  let cached: ArchiveStatus | undefined;
  let at = 0;
  let sameTurn = false;
  return () => {
    if (cached !== undefined && (sameTurn || now() - at < ttlMs)) return cached;
    cached = status();
    at = now();
    sameTurn = true;
    setImmediate(() => (sameTurn = false));
    return cached;
  };
}

export interface RunningArchive {
  ledger: Ledger;
  store: SqliteLedgerStore;
  status(): ArchiveStatus;
  /** Hands a verified gossip entry that does not link yet to the ledger (held pending; sync asked). */
  holdGap(data: Uint8Array): void;
  /** Signs (or reuses) an operator checkpoint of the state served now; undefined without the operator key. */
  checkpointNow(): Promise<Checkpoint | undefined>;
  stop(): Promise<void>;
}

/** An archive whose ledger is open (and locked), not yet attached to the network. */
export interface OpenedArchive extends ArchiveLedger {
  openedAt: number;
  /** How long opening (replay and verification) took, ms. */
  openMs: number;
  /** Closes the ledger and releases the lock. */
  close(): Promise<void>;
}

/** Locks the archive in `dataDir` (ArchiveLockedError if in use) and opens its ledger. */
export async function openArchive(dataDir: string, genesis: Genesis): Promise<OpenedArchive> {
  const release = lockArchive(dataDir);
  const openedAt = Date.now();
  try {
    const opened = await openArchiveLedger(dataDir, genesis);
    const close = async () => {
      await opened.ledger.close();
      release();
    };
    return { ...opened, openedAt, openMs: Date.now() - openedAt, close };
  } catch (e) {
    release();
    throw e;
  }
}

export interface ArchiveInit {
  opened: OpenedArchive;
  /**
   * The relay's libp2p node (gossipsub joined to the entries topic). Attach before it starts, so
   * the sync protocol is in the first identify every peer gets.
   */
  node: Libp2p<{ pubsub: GossipSub }>;
  networkIdHex: string;
  /**
   * Operator checkpoints: the data directory (its operator.key), the genesis operator keys (hex)
   * and the signing period in ms (0: on demand only). Absent: no checkpoints.
   */
  checkpoints?: { dataDir: string; operators: readonly string[]; intervalMs: number };
}

/** Attaches an opened archive to the relay's node: gossip ingest and the sync driver. */
export async function startArchive(init: ArchiveInit): Promise<RunningArchive> {
  const { ledger, store, openedAt, openMs } = init.opened;
  // Reads operator.key first: a bad key file fails the start before anything runs.
  const checkpoints = init.checkpoints && (await archiveCheckpoints({ ...init.checkpoints, ledger }));
  const box: { driver?: SyncDriver } = {};
  const engine = new SyncEngine({
    replica: ledgerReplica(ledger),
    send: (peer, bytes) => box.driver?.send(peer, bytes),
    now: () => Date.now(),
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    onPeerRejected: (peer, err) => box.driver?.onPeerRejected(peer, err)
  });
  const driver = new SyncDriver({
    node: init.node,
    engine,
    protocol: SYNC_PROTOCOL_ID(shortNetworkId(init.networkIdHex)),
    hub: true
  });
  box.driver = driver;
  try {
    await driver.start();
  } catch (e) {
    engine.close();
    await init.opened.close();
    throw e;
  }
  // Serves verified joins (PROTOCOL.md §13): votes signed with the archive's ledger key, and an
  // operator checkpoint with each claim when the data directory holds the operator key (§13.7).
  const joinSource = ledgerJoinSource(ledger, { checkpoint: checkpoints?.forClaim });
  await new JoinStreamServer({
    networkId: ledger.networkId,
    seed: init.opened.seed,
    voter: ledger.author,
    source: joinSource
  }).register(init.node, JOIN_PROTOCOL_ID(shortNetworkId(init.networkIdHex)));
  checkpoints?.start(joinSource);
  const ingest = startGossipIngest(
    init.node.services.pubsub,
    networkNames(init.networkIdHex).entriesTopic,
    ledger,
    () => driver.pendingSeen()
  );
  const status = (): ArchiveStatus => {
    const stats = ledger.stats();
    const sync = engine.status();
    const heads = ledger.heads();
    return {
      author: ledger.author,
      entries: stats.entries,
      feeds: heads.length,
      pending: stats.pending,
      bytesOnDisk: store.bytesOnDisk(),
      headsRoot: sync.root,
      missing: sync.missing,
      syncPeers: driver.stats.openStreams,
      syncRejectedPeers: sync.rejectedPeers,
      syncWrongNetworkDisconnects: driver.stats.wrongNetworkDisconnects,
      heads: heads.slice(0, ARCHIVE_STATUS_MAX_HEADS),
      ingest: { ...ingest.stats },
      openedAt,
      openMs,
      ...(checkpoints ? { checkpoints: checkpoints.status() } : {})
    };
  };
  let stopping: Promise<void> | undefined;
  return {
    ledger,
    store,
    status,
    holdGap: (data) => ingest.holdGap(data),
    checkpointNow: async () => checkpoints?.checkpointNow(),
    stop() {
      stopping ??= (async () => {
        checkpoints?.stop();
        ingest.stop();
        await driver.stop();
        engine.close();
        await init.opened.close();
      })();
      return stopping;
    }
  };
}
