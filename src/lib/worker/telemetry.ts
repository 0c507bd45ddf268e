// Telemetry in the node: publishes this node's signed beacon on the network's telemetry topic
// every BEACON_INTERVAL_MS (± jitter), verifies every beacon heard there (a gossipsub topic
// validator: invalid ones are Rejected and never forwarded), keeps the latest per node, and
// measures sync latency of entries that arrive from other nodes.
import { blameOriginOf } from '../platform/gossip-origin.js';
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub';
import { headsRoot } from '../core/heads-digest.js';
import type { Ledger } from '../core/ledger.js';
import { BeaconTable } from '../core/telemetry-table.js';
import { encodeBeacon, MAX_BEACON_BYTES, verifyBeacon, type BeaconBody, type BeaconRole } from '../core/telemetry.js';
import { TABULA_VERSION } from '../version.js';
import { LatencyTracker } from './latency-tracker.js';
import type { NetworkView } from './telemetry-types.js';
import type { HashedEntry } from '../core/types.js';

/** Mean time between beacons, ms. */
export const BEACON_INTERVAL_MS = 5000;
/** Each interval is BEACON_INTERVAL_MS ± this fraction (so nodes do not beat in step). */
export const BEACON_JITTER = 0.2;
/** First beacon this long after start, ms (after gossipsub has met its peers). */
export const FIRST_BEACON_MS = 1000;

/**
 * Calls `beacon` FIRST_BEACON_MS after start, then every `intervalMs` ± BEACON_JITTER (uniform,
 * from `random`), until stop(). A failed beacon is skipped; the next one is still scheduled.
 */
export function beaconLoop(beacon: () => Promise<unknown>, intervalMs: number, random: () => number): { stop(): void } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void beacon()
        .catch(() => undefined)
        .finally(() => schedule(intervalMs * (1 - BEACON_JITTER + 2 * BEACON_JITTER * random())));
    }, ms);
  };
  schedule(FIRST_BEACON_MS);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    }
  };
}

export interface StorageEstimate {
  usage?: number;
  quota?: number;
}

export interface TelemetryInit {
  pubsub: Pick<GossipSub, 'topicValidators' | 'subscribe' | 'unsubscribe' | 'publish'>;
  ledger: Ledger;
  /** The node's Ed25519 seed (its ledger identity). */
  seed: Uint8Array;
  networkIdHex: string;
  topic: string;
  /** Open connections to other nodes, relays excluded. */
  peerCount(): number;
  role(): BeaconRole;
  /** How far behind the node is, once replication reports it; default unknown (null). */
  lag?: () => { entries: number | null; ms: number | null };
  /**
   * An entry's origin time on this node's clock (ms), for sync latency; default its `time`
   * (the author's clock). The node corrects it by the estimated clock offset (core/clock/latency.ts).
   */
  originTime?: (entry: HashedEntry['entry']) => number;
  /** Default navigator.storage.estimate(). */
  estimate?: () => Promise<StorageEstimate>;
  intervalMs?: number;
  random?: () => number;
}

export interface Telemetry {
  view(): NetworkView;
  /** Builds, signs and publishes one beacon now (also records it locally). */
  beacon(): Promise<void>;
  stop(): void;
}

const count = (v: number | undefined): number | null =>
  v !== undefined && Number.isFinite(v) && v >= 0 ? Math.min(Math.round(v), Number.MAX_SAFE_INTEGER) : null;

async function browserEstimate(): Promise<StorageEstimate> {
  return (await globalThis.navigator?.storage?.estimate?.()) ?? {};
}

export function startTelemetry(init: TelemetryInit): Telemetry {
  const { pubsub, ledger, topic, networkIdHex } = init;
  const interval = init.intervalMs ?? BEACON_INTERVAL_MS;
  const random = init.random ?? Math.random;
  const table = new BeaconTable();
  const latency = new LatencyTracker();
  let seen = 0;
  let rejected = 0;
  let stopped = false;

  // Rejects land on the beacon's signer, never on the relay that carried it (gossip-origin.ts).
  const validate = blameOriginOf(async (_peer: unknown, msg: Message): Promise<TopicValidatorResult> => {
    if (stopped || msg.topic !== topic) return TopicValidatorResult.Ignore;
    if (msg.data.byteLength > MAX_BEACON_BYTES) return (rejected++, TopicValidatorResult.Reject);
    try {
      const b = await verifyBeacon(msg.data, networkIdHex);
      seen++;
      // A stale or replayed beacon is valid but not news: not forwarded again.
      return table.add(b) ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore;
    } catch {
      rejected++;
      return TopicValidatorResult.Reject;
    }
  });

  const body = async (): Promise<BeaconBody> => {
    const est = await (init.estimate ?? browserEstimate)().catch((): StorageEstimate => ({}));
    const heads = ledger.heads();
    const lag = init.lag?.() ?? { entries: null, ms: null };
    return {
      author: ledger.author,
      role: init.role(),
      version: TABULA_VERSION,
      peers: Math.min(65_535, init.peerCount()),
      entries: ledger.stats({ digest: false }).entries,
      headsRoot: headsRoot(heads),
      lagEntries: count(lag.entries ?? undefined),
      lagMs: count(lag.ms ?? undefined),
      storageUsed: count(est.usage),
      storageQuota: count(est.quota),
      time: Date.now()
    };
  };

  const beacon = async (): Promise<void> => {
    const bytes = await encodeBeacon(await body(), init.seed, networkIdHex);
    table.add(await verifyBeacon(bytes, networkIdHex));
    // No subscribers yet is normal for a lone node.
    await pubsub.publish(topic, bytes).catch(() => undefined);
  };

  pubsub.topicValidators.set(topic, validate);
  pubsub.subscribe(topic);
  const offAppend = ledger.onAppend((h, origin) => {
    if (origin === 'remote') latency.record(init.originTime?.(h.entry) ?? h.entry.time);
  });
  const loop = beaconLoop(beacon, interval, random);

  return {
    view: () => ({
      nodes: table.list(),
      self: ledger.author,
      latency: latency.summary(),
      beaconsSeen: seen,
      beaconsRejected: rejected
    }),
    beacon,
    stop() {
      stopped = true;
      loop.stop();
      offAppend();
      if (pubsub.topicValidators.get(topic) === validate) pubsub.topicValidators.delete(topic);
      pubsub.unsubscribe(topic);
    }
  };
}

/** The view before the network (and so telemetry) has started. */
export function emptyNetworkView(self: string): NetworkView {
  return { nodes: [], self, latency: { p50: null, p99: null, count: 0 }, beaconsSeen: 0, beaconsRejected: 0 };
}
