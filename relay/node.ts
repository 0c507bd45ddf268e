// The relay's libp2p node: WebSockets listener, circuit relay v2 server, identify, ping, gossipsub,
// with every inbound resource capped (limits.ts): connections (total, per IP, pending, rate),
// streams per protocol, frame sizes, reservations (total, per IP, freed on disconnect), relayed
// hop duration and data, and the per-peer gossip publish rate.
import { createLibp2p, type Libp2p } from 'libp2p';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { circuitRelayServer, type CircuitRelayService } from '@libp2p/circuit-relay-v2';
import { gossipsub, TopicValidatorResult, type GossipSub } from '@libp2p/gossipsub';
import type { ConnectionGater, PrivateKey, StreamHandler } from '@libp2p/interface';
import type { Identify } from '@libp2p/identify';
import type { Ping } from '@libp2p/ping';
import { ABUSE_LIMITS, CONNECTION_LIMITS, GOSSIP_LIMITS, HTTP_LIMITS, RELAY_LIMITS } from './limits.js';
import { abuseGater, bindAbuse, IpAbuse, type BoundAbuse } from './ip-abuse.js';
import { cappedWebSockets, firstFrameCap } from './frame-cap.js';
import { createRelayGater, type GaterCounters } from './gater.js';
import { onOversizedFrame, PeerRateLimiter, rateLimitValidator, scoringOptions } from './gossip-guard.js';
import { freeReservationsOnDisconnect } from './reservations.js';
import { UnsupportedLibraryError } from './errors.js';
import { exemptMeshPeers, type MeshPeer } from './mesh.js';
import { RelayBans } from './peer-bans.js';
import { fileBanStore } from './ban-file.js';
import { mergeGaters } from '../src/lib/platform/ban-gater.js';
import { blameOrigin } from '../src/lib/platform/gossip-origin.js';
import { fastMsgId } from '../src/lib/platform/gossip-msg-id.js';
import { IGNORE_MESSAGE, type ContentVerdict } from './entry-links.js';
import { RefusalLog } from './refusal-log.js';

/** The circuit relay v2 HOP protocol (its first frame is capped). */
export const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop';

export interface RelayNodeInit {
  privateKey: PrivateKey;
  host: string;
  port: number;
  maxReservations: number;
  maxReservationsPerIp: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  gossipMaxFrameBytes: number;
  /** New gossip messages per second accepted from one peer. */
  gossipRate: number;
  /** Topics the relay joins so it forwards them between browsers; only these are accepted. */
  topics: string[];
  /**
   * Content checks per topic, run after the rate limit: false (or an error code, e.g.
   * `bad-signature`) rejects the message: not forwarded, it costs its signed originator its
   * gossipsub score, and a ban offence bans the originator (relay/peer-bans.ts), so junk stops
   * at the first hop. IGNORE_MESSAGE Ignores it: not forwarded, nobody penalised (e.g. an entry
   * that does not link, relay/entry-links.ts). `from` is the message's signed originator, `via`
   * the peer that sent it here.
   */
  contentValidators?: Record<string, (data: Uint8Array, from?: string, via?: string) => Promise<ContentVerdict>>;
  /** Rate-limit tokens a message costs (default 1): the entries of a batch on the entries topic. */
  messageCost?: (topic: string, data: Uint8Array) => number;
  /** Runs before the node starts listening, e.g. to register protocol handlers (the archive's sync). */
  beforeStart?: (node: RelayNode) => Promise<void>;
  /** Public multiaddrs announced instead of the listen address (e.g. behind a TLS proxy). */
  announce?: string[];
  /** Other relays of the mesh: gossipsub direct peers, exempt from the publish rate limit. */
  meshPeers?: MeshPeer[];
  /** Points from which an IP is abusive (relay/ip-abuse.ts); 0 turns IP scoring off. Default ABUSE_LIMITS.threshold. */
  ipAbuseThreshold?: number;
  /** Where bans are kept across restarts (relay/ban-file.ts); absent: in memory only. */
  bansFile?: string;
  /** Logs refusals and abusive IPs (relay/refusal-log.ts); default: to the console, rate-limited. */
  refusalLog?: RefusalLog;
}

export type RelayServices = {
  identify: Identify;
  ping: Ping;
  relay: CircuitRelayService;
  pubsub: GossipSub;
};

export type RelayNode = Libp2p<RelayServices>;

/** Counters the relay's /metrics reads. */
export interface RelayGuards {
  gater: GaterCounters;
  rateLimiter: PeerRateLimiter;
  /** Peers disconnected for sending a gossip frame over the cap. */
  oversizedFrames: { count: number };
  /** Gossip messages refused by a content validator (invalid entries). */
  rejectedMessages: { count: number };
  /** Peers banned for invalid gossip (relay/peer-bans.ts). */
  bans: RelayBans;
  /** Per-IP abuse score (relay/ip-abuse.ts). */
  abuse: IpAbuse;
  /** The abuse score's view of connected peers. */
  abusePeers: BoundAbuse;
}

export interface RelayNodeHandle {
  node: RelayNode;
  guards: RelayGuards;
}

function gossipOptions(
  init: RelayNodeInit,
  limiter: PeerRateLimiter,
  bans: RelayBans,
  isAbusive: (peer: string) => boolean
): Parameters<typeof gossipsub>[0] {
  return {
    // The relay is a hub: it forwards what browsers publish even when it has no mesh peers yet.
    allowPublishToZeroTopicPeers: true,
    // Copies of a message already validated are dropped before their signature is checked again.
    fastMsgIdFn: fastMsgId,
    emitSelf: false,
    canRelayMessage: true,
    allowedTopics: init.topics,
    // Explicit peering with the other relays: every message is forwarded to them.
    directPeers: init.meshPeers ?? [],
    // A bigger length prefix ends the peer's gossip stream before the frame is buffered.
    maxInboundDataLength: init.gossipMaxFrameBytes,
    maxInboundStreams: CONNECTION_LIMITS.maxInboundGossipStreams,
    maxOutboundStreams: CONNECTION_LIMITS.maxOutboundGossipStreams,
    decodeRpcLimits: {
      maxSubscriptions: GOSSIP_LIMITS.maxSubscriptionsPerRpc,
      maxMessages: GOSSIP_LIMITS.maxMessagesPerRpc,
      maxIhaveMessageIDs: GOSSIP_LIMITS.maxControlIdsPerRpc,
      maxIwantMessageIDs: GOSSIP_LIMITS.maxControlIdsPerRpc,
      maxIdontwantMessageIDs: GOSSIP_LIMITS.maxIdontwantIdsPerRpc,
      maxControlMessages: GOSSIP_LIMITS.maxControlIdsPerRpc,
      maxPeerInfos: GOSSIP_LIMITS.maxPeerInfosPerRpc
    },
    ...scoringOptions(init.topics, limiter, (p) => bans.isBanned(p), isAbusive)
  };
}

/** The bans' gater, logging each inbound connection it refuses. */
function loggedBanGater(bans: RelayBans, refusals: RefusalLog): ConnectionGater {
  const gate = bans.gater();
  return {
    ...gate,
    async denyInboundEncryptedConnection(peer, conn) {
      const deny = (await gate.denyInboundEncryptedConnection?.(peer, conn)) === true;
      if (deny) refusals.refused(peer.toString(), 'banned-peer');
      return deny;
    }
  };
}

/** The circuit relay server's own HOP handler (public on the class, not on its interface). */
interface HopHandlerOwner {
  onHop?: StreamHandler;
}

/** Re-registers the circuit relay server's HOP handler behind a first-frame cap. */
async function capHopRequests(node: RelayNode): Promise<void> {
  const onHop = (node.services.relay as unknown as HopHandlerOwner).onHop;
  if (typeof onHop !== 'function') {
    throw new UnsupportedLibraryError('cannot cap HOP requests on this @libp2p/circuit-relay-v2');
  }
  await node.handle(
    HOP_PROTOCOL,
    firstFrameCap(onHop, RELAY_LIMITS.maxHopFrameBytes, RELAY_LIMITS.hopTimeoutMs, RELAY_LIMITS.maxHopFrameBytes * 4),
    { force: true, maxInboundStreams: RELAY_LIMITS.maxInboundHopStreams, runOnLimitedConnection: true }
  );
}

export async function createRelayNode(init: RelayNodeInit): Promise<RelayNodeHandle> {
  const abuse = new IpAbuse({
    ...ABUSE_LIMITS,
    threshold: init.ipAbuseThreshold ?? ABUSE_LIMITS.threshold,
    connectionsPerSecond: CONNECTION_LIMITS.inboundConnectionThreshold,
    connectionBurst: CONNECTION_LIMITS.inboundConnectionThreshold
  });
  // Bound once the node exists; the gater and gossipsub read it through this holder.
  const bound: { abuse?: BoundAbuse } = {};
  const refusals = init.refusalLog ?? new RefusalLog();
  const gater = createRelayGater(init, (ip, kind) => {
    abuse.record(ip, kind);
    refusals.refused(ip, kind === 'connection' ? 'connection-cap' : 'reservation-cap');
  });
  const rateLimiter = new PeerRateLimiter({
    rate: init.gossipRate,
    burst: init.gossipRate * GOSSIP_LIMITS.burstSeconds,
    strikeHalfLifeMs: GOSSIP_LIMITS.strikeHalfLifeMs,
    maxStrikes: GOSSIP_LIMITS.maxStrikes
  });
  // Other relays of the mesh forward everyone's gossip: never banned (the originator is).
  const meshIds = new Set((init.meshPeers ?? []).map((p) => p.id.toString()));
  const bans = new RelayBans(Date.now, (peer) => meshIds.has(peer));
  if (init.bansFile !== undefined) await bans.persist(fileBanStore(init.bansFile));
  const small = { maxInboundStreams: CONNECTION_LIMITS.maxInboundStreamsSmall };
  const node = await createLibp2p({
    // Started below, once the gater and the reservation listener are bound.
    start: false,
    privateKey: init.privateKey,
    addresses: {
      listen: [`/ip4/${init.host}/tcp/${init.port}/ws`],
      ...(init.announce !== undefined && init.announce.length > 0 ? { announce: init.announce } : {})
    },
    transports: [
      cappedWebSockets(CONNECTION_LIMITS.maxWebSocketMessageBytes, {
        http: { headersTimeout: HTTP_LIMITS.headersTimeoutMs, maxHeaderSize: HTTP_LIMITS.maxHeaderBytes }
      })
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxInboundStreams: CONNECTION_LIMITS.maxInboundStreamsPerConnection })],
    connectionGater: mergeGaters(
      abuseGater(
        abuse,
        () => bound.abuse,
        (ip, reason) => refusals.refused(ip, reason)
      ),
      gater.gater,
      loggedBanGater(bans, refusals)
    ),
    connectionManager: {
      maxConnections: init.maxConnections,
      maxIncomingPendingConnections: CONNECTION_LIMITS.maxIncomingPendingConnections,
      inboundConnectionThreshold: CONNECTION_LIMITS.inboundConnectionBackstop,
      inboundUpgradeTimeout: CONNECTION_LIMITS.inboundUpgradeTimeoutMs
    },
    services: {
      identify: identify({ ...small, maxMessageSize: CONNECTION_LIMITS.maxIdentifyMessageBytes }),
      ping: ping(small),
      relay: circuitRelayServer({
        hopTimeout: RELAY_LIMITS.hopTimeoutMs,
        maxInboundHopStreams: RELAY_LIMITS.maxInboundHopStreams,
        maxOutboundStopStreams: RELAY_LIMITS.maxOutboundStopStreams,
        reservations: {
          maxReservations: init.maxReservations,
          reservationTtl: RELAY_LIMITS.reservationTtlMs,
          // Relayed hops carry only WebRTC signalling, so tight limits are enough.
          defaultDurationLimit: RELAY_LIMITS.circuitDurationMs,
          defaultDataLimit: BigInt(RELAY_LIMITS.circuitDataBytes)
        }
      }),
      pubsub: gossipsub(gossipOptions(init, rateLimiter, bans, (p) => bound.abuse?.isAbusivePeer(p) === true))
    }
  });
  gater.bind({
    connections: () => node.getConnections(),
    connectionsTo: (peer) => node.getConnections(peer),
    reservations: () => node.services.relay.reservations.entries()
  });
  freeReservationsOnDisconnect(node);
  bans.bind(node);
  const abusePeers = (bound.abuse = bindAbuse(abuse, node));
  const revoke = abuse.onAbusive;
  abuse.onAbusive = (ip) => {
    refusals.abusive(ip);
    revoke(ip);
  };
  try {
    await init.beforeStart?.(node);
    return await startGuarded(node, init, rateLimiter, gater.counters, bans, abuse, abusePeers);
  } catch (err) {
    await node.stop();
    throw err;
  }
}

/** Starts `node`, then puts the guards that need a running node in place. */
async function startGuarded(
  node: RelayNode,
  init: RelayNodeInit,
  rateLimiter: PeerRateLimiter,
  gaterCounters: GaterCounters,
  bans: RelayBans,
  abuse: IpAbuse,
  abusePeers: BoundAbuse
): Promise<RelayNodeHandle> {
  await node.start();
  // After start: the relay service registers its HOP handler when it starts.
  await capHopRequests(node);
  const oversizedFrames = { count: 0 };
  // A peer that sends a frame over the cap is broken or hostile: hang up on it.
  onOversizedFrame(node.services.pubsub, (peer) => {
    oversizedFrames.count++;
    node.hangUp(peer).catch(() => {});
  });
  const rateValidate = exemptMeshPeers(
    rateLimitValidator(rateLimiter, (msg) => init.messageCost?.(msg.topic, msg.data) ?? 1),
    new Set((init.meshPeers ?? []).map((p) => p.id.toString()))
  );
  // A message over the rate also scores its sender's IP.
  const validate: typeof rateValidate = (peer, msg) => {
    const verdict = rateValidate(peer, msg);
    if (verdict !== TopicValidatorResult.Accept) abusePeers.recordPeer(peer.toString(), 'gossip');
    return verdict;
  };
  const rejectedMessages = { count: 0 };
  for (const topic of init.topics) {
    const content = init.contentValidators?.[topic];
    node.services.pubsub.topicValidators.set(
      topic,
      content === undefined
        ? validate
        : blameOrigin(
            async (peer, msg) => {
              const rate = validate(peer, msg);
              if (rate !== TopicValidatorResult.Accept) return { verdict: rate };
              const ok = await content(
                msg.data,
                msg.type === 'signed' ? msg.from.toString() : undefined,
                peer.toString()
              );
              if (ok === true) return { verdict: TopicValidatorResult.Accept };
              if (ok === IGNORE_MESSAGE) return { verdict: TopicValidatorResult.Ignore };
              rejectedMessages.count++;
              return { verdict: TopicValidatorResult.Reject, code: ok === false ? undefined : ok };
            },
            {
              onInvalid: (origin, _via, code) => {
                if (bans.offence(origin, code) !== null) abusePeers.recordPeer(origin, 'ban');
              }
            }
          )
    );
    node.services.pubsub.subscribe(topic);
  }
  return {
    node,
    guards: { gater: gaterCounters, rateLimiter, oversizedFrames, rejectedMessages, bans, abuse, abusePeers }
  };
}
