// The relay's view of the network: it verifies every beacon on the telemetry topic with the same
// core code the browsers use (an invalid one is Rejected: not forwarded, sender's score lowered)
// and keeps the latest per node for /api/network. It also counts the entries it forwards.
import { TopicValidatorResult, type GossipSub, type TopicValidatorFn } from '@libp2p/gossipsub';
import { blameOriginOf } from '../src/lib/platform/gossip-origin.js';
import { gossipMessageEntries } from '../src/lib/core/gossip-batch.js';
import { BeaconTable, type NetworkNode } from '../src/lib/core/telemetry-table.js';
import { MAX_BEACON_BYTES, verifyBeacon, type Beacon } from '../src/lib/core/telemetry.js';

/** Counts the relay's telemetry and forwarding (read by /metrics). */
export interface RelayTrafficCounters {
  /** Valid beacons verified. */
  beaconsSeen: number;
  /** Beacons that failed the size, format, network, time or signature checks. */
  beaconsRejected: number;
  /** Entries accepted for forwarding on the entries topic (a batch message counts its entries). */
  entriesRelayed: number;
}

export interface RelayTelemetry {
  counters: RelayTrafficCounters;
  /** Nodes heard from recently, sorted by PeerId. */
  nodes(): NetworkNode[];
  /** Records a verified beacon this relay published itself (the archive's): gossipsub validates only others'. */
  record(beacon: Beacon): void;
}

/** The `/api/network` answer. */
export interface NetworkReport {
  /** Relay clock when answered, ms since the epoch. */
  now: number;
  nodes: NetworkNode[];
}

type Pubsub = Pick<GossipSub, 'topicValidators'>;

/**
 * Runs `next` only for messages `first` (the validator already set for the topic: the rate
 * limit) accepted; throws if the topic has no validator yet (the relay's guards must come first).
 */
function chain(pubsub: Pubsub, topic: string, next: TopicValidatorFn): void {
  const first = pubsub.topicValidators.get(topic);
  if (first === undefined) throw new Error(`no validator on ${topic} to chain after`);
  const guarded = blameOriginOf(next);
  pubsub.topicValidators.set(topic, async (peer, msg) => {
    const verdict = await first(peer, msg);
    // Rejects land on the message's signer, never on a relay that carried it (gossip-origin.ts).
    return verdict === TopicValidatorResult.Accept ? guarded(peer, msg) : verdict;
  });
}

export function startRelayTelemetry(
  pubsub: Pubsub,
  topics: { telemetry: string; entries: string },
  networkIdHex: string,
  table = new BeaconTable()
): RelayTelemetry {
  const counters: RelayTrafficCounters = { beaconsSeen: 0, beaconsRejected: 0, entriesRelayed: 0 };
  chain(pubsub, topics.telemetry, async (_peer, msg) => {
    if (msg.data.byteLength > MAX_BEACON_BYTES) return (counters.beaconsRejected++, TopicValidatorResult.Reject);
    try {
      const beacon = await verifyBeacon(msg.data, networkIdHex);
      counters.beaconsSeen++;
      return table.add(beacon) ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore;
    } catch {
      counters.beaconsRejected++;
      return TopicValidatorResult.Reject;
    }
  });
  chain(pubsub, topics.entries, (_peer, msg) => {
    counters.entriesRelayed += gossipMessageEntries(msg.data);
    return TopicValidatorResult.Accept;
  });
  return { counters, nodes: () => table.list(), record: (b) => void table.add(b) };
}
