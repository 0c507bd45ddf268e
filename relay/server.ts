// Starts and stops one relay: libp2p node + HTTP server, wired to each other.
import '../src/lib/platform/polyfills.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { toHex } from '../src/lib/core/bytes.js';
import { defaultGenesis, networkId } from '../src/lib/core/genesis.js';
import { networkNames } from '../src/lib/core/topics.js';
import { openEntry } from '../src/lib/core/entry.js';
import { errorCode } from '../src/lib/core/peers/offences.js';
import { checkAnnouncement } from '../src/lib/core/peers/announcement.js';
import type { RelayConfig } from './config.js';
import { createHttpServer } from './http.js';
import { loadOrCreateKey } from './key.js';
import { createRelayMetrics, type RelayMetricsSource } from './metrics.js';
import { GRAYLIST_THRESHOLD } from './gossip-guard.js';
import { startRelayTelemetry, type RelayTelemetry } from './telemetry.js';
import { createRelayNode, type RelayGuards, type RelayNode } from './node.js';
import { createStaticSite } from './static.js';

export interface RunningRelay {
  node: RelayNode;
  /** Refusal counters of the relay's limits (also in /metrics). */
  guards: RelayGuards;
  /** Beacons heard and entries forwarded (also in /metrics and /api/network). */
  telemetry: RelayTelemetry;
  http: Server;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  networkId: string;
  stop(): Promise<void>;
}

/** Everything /metrics reads, from the running relay. */
function metricsSource(
  node: RelayNode,
  guards: RelayGuards,
  telemetry: RelayTelemetry,
  started: number
): RelayMetricsSource {
  const pubsub = node.services.pubsub;
  const peerIds = (): string[] => [...new Set(node.getConnections().map((c) => c.remotePeer.toString()))];
  // getScore is on the GossipSub class, not on its exported interface.
  const score = (peer: string): number => (pubsub as unknown as { getScore(p: string): number }).getScore(peer);
  return {
    uptimeSeconds: () => Math.round((Date.now() - started) / 1000),
    connections: () => node.getConnections().length,
    peers: () => peerIds().length,
    reservations: () => node.services.relay.reservations.size,
    topicSubscribers: () => pubsub.getTopics().map((topic) => ({ topic, count: pubsub.getSubscribers(topic).length })),
    rejectedPeers: () => peerIds().filter((p) => score(p) < GRAYLIST_THRESHOLD).length,
    networkNodes: () => telemetry.nodes().length,
    refusedConnections: () => guards.gater.connectionsRefused,
    refusedReservations: () => guards.gater.reservationsRefused,
    rateLimitedMessages: () => guards.rateLimiter.refused,
    oversizedFrames: () => guards.oversizedFrames.count,
    rejectedMessages: () => guards.rejectedMessages.count,
    peerBans: () => guards.bans.total,
    bannedPeers: () => guards.bans.active().length,
    bannedConnectionsRefused: () => guards.bans.gate.refused,
    beaconsSeen: () => telemetry.counters.beaconsSeen,
    beaconsRejected: () => telemetry.counters.beaconsRejected,
    entriesRelayed: () => telemetry.counters.entriesRelayed
  };
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
          (err: unknown) => errorCode(err) ?? false
        ),
      // Announcements bound to their sender: nobody announces addresses for another peer id.
      [names.discoveryTopic]: async (data, from) => {
        const verdict = checkAnnouncement(data, from);
        return verdict === 'ok' || verdict === 'unsupported-key' ? true : verdict;
      }
    }
  });
  const telemetry = startRelayTelemetry(
    node.services.pubsub,
    { telemetry: names.telemetryTopic, entries: names.entriesTopic },
    id
  );
  const http = createHttpServer(
    {
      relayAddrs: () => node.getMultiaddrs().map((ma) => ma.toString()),
      peerId: () => node.peerId.toString(),
      metrics: createRelayMetrics(metricsSource(node, guards, telemetry, started)),
      network: () => ({ now: Date.now(), nodes: telemetry.nodes() }),
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
    telemetry,
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
