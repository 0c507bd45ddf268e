// What the node tells the dashboard about the network (NodeApi.network()).
import type { NetworkNode } from '../core/telemetry-table.js';
import type { LatencySummary } from './latency-tracker.js';

export type { NetworkNode, LatencySummary };

export interface NetworkView {
  /** Every node whose beacon this node verified recently (itself included), sorted by PeerId. */
  nodes: NetworkNode[];
  /** This node's author key (hex): its row in `nodes`. */
  self: string;
  /** Origin write → applied here, over the last minutes. */
  latency: LatencySummary;
  /** Beacons verified / rejected since the node started. */
  beaconsSeen: number;
  beaconsRejected: number;
}
