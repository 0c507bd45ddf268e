// Starts and stops one relay: libp2p node + HTTP server, wired to each other.
import '../src/lib/platform/polyfills.js';
import { installNodeEd25519 } from '../src/lib/platform/node-ed25519.js';
import { installNodeSha256 } from '../src/lib/platform/node-sha256.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fromHex, toHex } from '../src/lib/core/bytes.js';
import { genesisDocument } from '../src/lib/core/genesis-document.js';
import { loadNetworkGenesis } from './network-genesis.js';
import { GOSSIP_LIMITS } from './limits.js';
import { DEFAULT_MAX_ENTRY_BYTES } from '../src/lib/core/constants.js';
import { networkNames, shortNetworkId } from '../src/lib/core/topics.js';
import { TIME_PROTOCOL_ID } from '../src/lib/core/clock/constants.js';
import { handleTime } from '../src/lib/platform/time-protocol.js';
import { gossipMessageEntries } from '../src/lib/core/gossip-batch.js';
import { entryLinkGuard, type EntryLinkGuard } from './entry-links.js';
import { checkAnnouncement } from '../src/lib/core/peers/announcement.js';
import type { RelayConfig } from './config.js';
import { createHttpServer } from './http.js';
import { loadOrCreateKey } from './key.js';
import { createRelayMetrics, type RelayMetricsSource } from './metrics.js';
import { GRAYLIST_THRESHOLD } from './gossip-guard.js';
import { startRelayTelemetry, type RelayTelemetry } from './telemetry.js';
import { createRelayNode, type RelayGuards, type RelayNode } from './node.js';
import { createStaticSite } from './static.js';
import { openArchive, reusedStatus, startArchive, type RunningArchive } from './archive/archive.js';
import { ARCHIVE_STATUS_REUSE_MS } from './archive/constants.js';
import { startArchiveBeacon } from './archive/beacon.js';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { networkRelayAddrs, parseMeshPeers, RelayMesh } from './mesh.js';
import { BANS_FILE } from './ban-file.js';
import { plainRelayLinkFetch } from './link-fetch-wiring.js';

export interface RunningRelay {
  node: RelayNode;
  /** Refusal counters of the relay's limits (also in /metrics). */
  guards: RelayGuards;
  /** Beacons heard and entries forwarded (also in /metrics and /api/network). */
  telemetry: RelayTelemetry;
  http: Server;
  /** The other relays this one keeps connections to (`--peer`). */
  mesh: RelayMesh;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  networkId: string;
  /** The name of a network created with `relay genesis`; undefined on the bundled network. */
  networkName?: string;
  /** The full replica (relay --archive), else undefined. */
  archive?: RunningArchive;
  stop(): Promise<void>;
}

/** Everything /metrics reads, from the running relay. */
function metricsSource(
  node: RelayNode,
  guards: RelayGuards,
  telemetry: RelayTelemetry,
  started: number,
  entryLinks: EntryLinkGuard
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
    entriesRelayed: () => telemetry.counters.entriesRelayed,
    unlinkedEntries: () => entryLinks.links.counts.gaps + entryLinks.links.counts.broken - entryLinks.recovered.count,
    abuse: () => ({
      abusiveIps: guards.abuse.abusiveIps().length,
      abusivePeers: guards.abusePeers.abusivePeers(),
      refusedAbusive: guards.abuse.refusedAbusive,
      events: guards.abuse.events
    })
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
  installNodeEd25519(); // signatures and verifications (entries, join votes): libsodium, synchronously
  installNodeSha256(); // entry hashes and Merkle trees: node:crypto
  // `<data-dir>/genesis.json` (relay genesis), else the bundled network.
  const signed = await loadNetworkGenesis(config.dataDir);
  const genesis = signed.genesis;
  const netId = fromHex(signed.networkId);
  const id = signed.networkId;
  const genesisJson = JSON.stringify(genesisDocument(signed));
  const names = networkNames(id);
  const privateKey = await loadOrCreateKey(join(config.dataDir, 'relay.key'));
  // The archive's ledger opens (and replays) first; it joins the node before the node listens.
  const opened = config.archive ? await openArchive(config.dataDir, genesis) : undefined;
  let archive: RunningArchive | undefined;
  const meshPeers = parseMeshPeers(config.peers, peerIdFromPrivateKey(privateKey));
  // Only entries that link are forwarded; an archive also finds predecessors in its ledger.
  const archiveLedger = opened?.ledger;
  // An archive keeps what gossip Ignores for a missing predecessor: held pending, sync asked for the gap.
  // A plain relay fetches a gap entry's missing predecessor from a peer serving sync (relay/link-fetch.ts).
  const nodeBox: { node?: RelayNode } = {};
  const linkFetch = archiveLedger
    ? undefined
    : plainRelayLinkFetch(nodeBox, netId, genesis, id, () => meshPeers.map((p) => p.id.toString()));
  const entryLinks = entryLinkGuard(
    netId,
    genesis,
    archiveLedger && ((a, seq) => archiveLedger.entryHashes(a, seq)),
    archiveLedger && ((data) => archive?.holdGap(data)),
    linkFetch?.fetcher
  );
  archiveLedger?.onAppend((h) => entryLinks.learn(toHex(h.entry.author), h.entry.seq, toHex(h.hash)));
  const { node, guards } = await createRelayNode({
    privateKey,
    host: config.host,
    port: config.relayPort,
    maxReservations: config.maxReservations,
    maxReservationsPerIp: config.maxReservationsPerIp,
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    // A created network may allow bigger entries than the bundled one: one must still fit a frame.
    gossipMaxFrameBytes: Math.max(
      config.gossipMaxFrameBytes,
      genesis.maxEntryBytes + GOSSIP_LIMITS.maxFrameBytes - DEFAULT_MAX_ENTRY_BYTES
    ),
    gossipRate: config.gossipRate,
    ipAbuseThreshold: config.ipAbuseThreshold,
    bansFile: join(config.dataDir, BANS_FILE),
    announce: config.announce,
    meshPeers,
    topics: [names.discoveryTopic, names.entriesTopic, names.telemetryTopic],
    // A batch (core/gossip-batch.ts) costs its entries: the per-peer rate bounds entries, as before batches.
    messageCost: (topic, data) => (topic === names.entriesTopic ? gossipMessageEntries(data) : 1),
    // The same stateless checks every browser runs (size, encoding, network, signature, payload),
    // then the chain link (relay/entry-links.ts).
    contentValidators: {
      [names.entriesTopic]: (data, _from, via) => entryLinks.validate(data, via),
      // Announcements bound to their sender: nobody announces addresses for another peer id.
      [names.discoveryTopic]: async (data, from) => {
        const verdict = checkAnnouncement(data, from);
        return verdict === 'ok' || verdict === 'unsupported-key' ? true : verdict;
      }
    },
    beforeStart:
      opened &&
      (async (n) =>
        void (archive = await startArchive({
          opened,
          node: n,
          networkIdHex: id,
          checkpoints: {
            dataDir: config.dataDir,
            operators: genesis.operators,
            intervalMs: config.checkpointSeconds * 1000
          }
        })))
  }).catch(async (err: unknown) => {
    await (archive?.stop() ?? opened?.close());
    throw err;
  });
  nodeBox.node = node;
  // Browsers measure their clock offset against the relay too (a node with only the relay still gets one).
  await handleTime(node, TIME_PROTOCOL_ID(shortNetworkId(id)));
  const telemetry = startRelayTelemetry(
    node.services.pubsub,
    { telemetry: names.telemetryTopic, entries: names.entriesTopic },
    id
  );
  // The archive is a full node of the network: it publishes its own signed beacon.
  const archiveBeacon =
    archive &&
    opened &&
    startArchiveBeacon({
      pubsub: node.services.pubsub,
      seed: opened.seed,
      networkIdHex: id,
      topic: names.telemetryTopic,
      status: archive.status,
      dataDir: config.dataDir,
      record: (b) => telemetry.record(b)
    });
  const mesh = new RelayMesh(node, meshPeers);
  await mesh.start();
  const http = createHttpServer(
    {
      relayAddrs: () =>
        networkRelayAddrs(
          node.getMultiaddrs().map((ma) => ma.toString()),
          config.relays,
          mesh
        ),
      peerId: () => node.peerId.toString(),
      metrics: createRelayMetrics({
        ...metricsSource(node, guards, telemetry, started, entryLinks),
        ...(linkFetch ? { linkFetches: () => linkFetch.fetcher.counts } : {}),
        // One status per scrape, not one per archive gauge.
        archive: archive && reusedStatus(archive.status, 0)
      }),
      network: () => ({ now: Date.now(), nodes: telemetry.nodes() }),
      healthy: () => node.status === 'started' && node.getMultiaddrs().length > 0,
      archive: archive && reusedStatus(archive.status, ARCHIVE_STATUS_REUSE_MS),
      mesh: () => mesh.status(),
      genesis: () => genesisJson
    },
    await createStaticSite(config.staticDir),
    { maxConnections: config.httpMaxConnections }
  );
  try {
    await listen(http, config.port, config.host);
  } catch (err) {
    archiveBeacon?.stop();
    await archive?.stop();
    mesh.stop();
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
    mesh,
    url: `http://${config.host}:${addr.port}`,
    networkId: id,
    // Only created networks are signed; the bundled one is not.
    ...(signed.signatures.length > 0 ? { networkName: genesis.name } : {}),
    archive,
    stop() {
      stopping ??= (async () => {
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        archiveBeacon?.stop();
        await archive?.stop();
        linkFetch?.close();
        mesh.stop();
        await node.stop();
        await guards.bans.close();
      })();
      return stopping;
    }
  };
}
