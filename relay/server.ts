// Starts and stops one relay: libp2p node + HTTP server, wired to each other.
import '../src/lib/platform/polyfills.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { toHex } from '../src/lib/core/bytes.js';
import { defaultGenesis, networkId } from '../src/lib/core/genesis.js';
import { networkNames } from '../src/lib/core/topics.js';
import type { RelayConfig } from './config.js';
import { createHttpServer } from './http.js';
import { loadOrCreateKey } from './key.js';
import type { Metric } from './metrics.js';
import { createRelayNode, type RelayNode } from './node.js';

export interface RunningRelay {
  node: RelayNode;
  http: Server;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  networkId: string;
  stop(): Promise<void>;
}

function relayMetrics(node: RelayNode, started: number): Metric[] {
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
    }))
  ];
}

export async function startRelay(config: RelayConfig): Promise<RunningRelay> {
  const started = Date.now();
  const id = toHex(networkId(defaultGenesis()));
  const names = networkNames(id);
  const privateKey = await loadOrCreateKey(join(config.dataDir, 'relay.key'));
  const node = await createRelayNode({
    privateKey,
    host: config.host,
    port: config.relayPort,
    maxReservations: config.maxReservations,
    topics: [names.discoveryTopic, names.entriesTopic, names.telemetryTopic]
  });
  const http = createHttpServer(
    {
      relayAddrs: () => node.getMultiaddrs().map((ma) => ma.toString()),
      peerId: () => node.peerId.toString(),
      metrics: () => relayMetrics(node, started),
      healthy: () => node.status === 'started' && node.getMultiaddrs().length > 0
    },
    config.staticDir
  );
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const addr = http.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    node,
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
