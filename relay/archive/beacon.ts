// The archive's telemetry beacon: like every browser node, relay --archive publishes a signed
// summary of its replica on the network's telemetry topic (core/telemetry.ts format, signed with
// the archive's ledger identity), so it shows as a `full` node in /api/network on every relay
// and on every dashboard. Its own relay records each beacon directly (gossipsub does not validate
// what a node publishes itself).
import { statfs } from 'node:fs/promises';
import type { GossipSub } from '@libp2p/gossipsub';
import { encodeBeacon, verifyBeacon, type Beacon, type BeaconBody } from '../../src/lib/core/telemetry.js';
import { TABULA_VERSION } from '../../src/lib/version.js';
import { BEACON_INTERVAL_MS, beaconLoop } from '../../src/lib/worker/telemetry.js';
import type { ArchiveStatus } from './archive.js';

export interface ArchiveBeaconInit {
  pubsub: Pick<GossipSub, 'publish'>;
  /** The archive's Ed25519 seed (its ledger identity, the `author` of its beacons). */
  seed: Uint8Array;
  networkIdHex: string;
  /** The telemetry topic. */
  topic: string;
  status(): ArchiveStatus;
  /** Where the archive's database lives: its file system's free space makes the quota. */
  dataDir: string;
  /** Records our own beacon in the relay's table (it is not validated on publish). */
  record(beacon: Beacon): void;
  intervalMs?: number;
  random?: () => number;
}

export interface ArchiveBeacon {
  /** Builds, signs, records and publishes one beacon now; resolves to it. */
  beacon(): Promise<Beacon>;
  stop(): void;
}

const safe = (n: number): number => Math.min(Math.max(0, Math.round(n)), Number.MAX_SAFE_INTEGER);

/** Bytes free to us on the data directory's file system, or null where unknown. */
async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return safe(s.bavail * s.bsize);
  } catch {
    return null;
  }
}

/**
 * The archive's beacon body: role `full`; `peers` = open sync streams; `entries` and `headsRoot`
 * of the replica; `lagEntries` = entries it knows it misses; `storageUsed` = database + WAL bytes;
 * `storageQuota` = used + free space on the file system (null if unknown).
 */
export async function archiveBeaconBody(status: ArchiveStatus, dataDir: string): Promise<BeaconBody> {
  const free = await freeBytes(dataDir);
  const used = safe(status.bytesOnDisk);
  return {
    author: status.author,
    role: 'full',
    version: TABULA_VERSION,
    peers: Math.min(65_535, status.syncPeers),
    entries: status.entries,
    headsRoot: status.headsRoot,
    lagEntries: safe(status.missing),
    lagMs: null,
    storageUsed: used,
    storageQuota: free === null ? null : safe(used + free),
    time: Date.now()
  };
}

/** Publishes the archive's beacon every BEACON_INTERVAL_MS (± jitter), the first after FIRST_BEACON_MS. */
export function startArchiveBeacon(init: ArchiveBeaconInit): ArchiveBeacon {
  const interval = init.intervalMs ?? BEACON_INTERVAL_MS;
  const random = init.random ?? Math.random;
  const beacon = async (): Promise<Beacon> => {
    const body = await archiveBeaconBody(init.status(), init.dataDir);
    const bytes = await encodeBeacon(body, init.seed, init.networkIdHex);
    const signed = await verifyBeacon(bytes, init.networkIdHex);
    init.record(signed);
    // No subscriber yet is normal right after start.
    await init.pubsub.publish(init.topic, bytes).catch(() => undefined);
    return signed;
  };

  const loop = beaconLoop(beacon, interval, random);
  return { beacon, stop: () => loop.stop() };
}
