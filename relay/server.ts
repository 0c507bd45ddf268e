// Starts and stops one relay: libp2p node + HTTP server, wired to each other.
import '../src/lib/platform/polyfills.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { toHex } from '../src/lib/core/bytes.js';
import { defaultGenesis, networkId } from '../src/lib/core/genesis.js';
import { networkNames } from '../src/lib/core/topics.js';
import { openEntry } from '../src/lib/core/entry.js';
import type { RelayConfig } from './config.js';
import { createHttpServer } from './http.js';
import { loadOrCreateKey } from './key.js';
import type { Metric } from './metrics.js';
import { createRelayNode, type RelayGuards, type RelayNode } from './node.js';
import { createStaticSite } from './static.js';

export interface RunningRelay {
  node: RelayNode;
  /** Refusal counters of the relay's limits (also in /metrics). */
  guards: RelayGuards;
  http: Server;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  networkId: string;
  stop(): Promise<void>;
}

function guardMetrics(guards: RelayGuards): Metric[] {
  return [
    {
      name: 'tabula_relay_refused_connections_total',
      help: 'Inbound libp2p connections refused by the per-IP cap.',
      type: 'counter',
      value: guards.gater.connectionsRefused
    },
    {
      name: 'tabula_relay_refused_reservations_total',
      help: 'Reservations refused by the per-IP cap.',
      type: 'counter',
      value: guards.gater.reservationsRefused
    },
    {
      name: 'tabula_relay_rate_limited_messages_total',
      help: 'Gossip messages dropped by the per-peer rate limit.',
      type: 'counter',
      value: guards.rateLimiter.refused
    },
    {
      name: 'tabula_relay_oversized_frames_total',
      help: 'Peers disconnected for a gossip frame over the cap.',
      type: 'counter',
      value: guards.oversizedFrames.count
    },
    {
      name: 'tabula_relay_rejected_messages_total',
      help: 'Gossip entries refused by validation (size, encoding, network, signature, payload) and not forwarded.',
      type: 'counter',
      value: guards.rejectedMessages.count
    }
  ];
}

function relayMetrics(node: RelayNode, guards: RelayGuards, started: number): Metric[] {
  const conns = node.getConnections();
  const pubsub = node.services.pubsub;
  return [
    { name: 'tabula_relay_up', help: 'The relay is running.', type: 'gauge', value: 1 },
    {
      name: 'tabula_relay_uptime_seconds',
      help: 'Seconds since the relay started.',
      type: 'gauge',
      value: Math.round((Date.now() - started) / 1000)
    },
    { name: 'tabula_relay_connections', help: 'Open libp2p connections.', type: 'gauge', value: conns.length },
    {
      name: 'tabula_relay_peers',
      help: 'Distinct connected peers.',
      type: 'gauge',
      value: new Set(conns.map((c) => c.remotePeer.toString())).size
    },
    {
      name: 'tabula_relay_reservations',
      help: 'Active circuit relay v2 reservations.',
      type: 'gauge',
      value: node.services.relay.reservations.size
    },
    ...pubsub.getTopics().map<Metric>((topic) => ({
      name: 'tabula_relay_topic_subscribers',
      help: 'Peers subscribed to a pubsub topic.',
      type: 'gauge',
      value: pubsub.getSubscribers(topic).length,
      labels: { topic }
    })),
    ...guardMetrics(guards)
  ];
}

function listen(http: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
}

export async function startRelay(config: RelayConfig): Promise<RunningRelay> {
  const started = Date.now();
  const genesis = defaultGenesis();
  const netId = networkId(genesis);
  const id = toHex(netId);
  const names = networkNames(id);
  const privateKey = await loadOrCreateKey(join(config.dataDir, 'relay.key'));
  const { node, guards } = await createRelayNode({
    privateKey,
    host: config.host,
    port: config.relayPort,
    maxReservations: config.maxReservations,
    maxReservationsPerIp: config.maxReservationsPerIp,
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    gossipMaxFrameBytes: config.gossipMaxFrameBytes,
    gossipRate: config.gossipRate,
    topics: [names.discoveryTopic, names.entriesTopic, names.telemetryTopic],
    // The same stateless checks every browser runs (size, encoding, network, signature, payload).
    contentValidators: {
      [names.entriesTopic]: (data) =>
        openEntry(data, netId, genesis).then(
          () => true,
          () => false
        )
    }
  });
  const http = createHttpServer(
    {
      relayAddrs: () => node.getMultiaddrs().map((ma) => ma.toString()),
      peerId: () => node.peerId.toString(),
      metrics: () => relayMetrics(node, guards, started),
      healthy: () => node.status === 'started' && node.getMultiaddrs().length > 0
    },
    await createStaticSite(config.staticDir),
    { maxConnections: config.httpMaxConnections }
  );
  try {
    await listen(http, config.port, config.host);
  } catch (err) {
    await node.stop();
    throw err;
  }
  const addr = http.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    node,
    guards,
    http,
    url: `http://${config.host}:${addr.port}`,
    networkId: id,
    stop() {
      stopping ??= (async () => {
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        await node.stop();
      })();
      return stopping;
    }
  };
}
