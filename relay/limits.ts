// Every resource limit the relay enforces, in one place. Those an operator may need to tune are
// also fields of RelayConfig (flags and environment variables); the rest are fixed here.
import { DEFAULT_MAX_ENTRY_BYTES } from '../src/lib/core/constants.js';

const KiB = 1024;
const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Circuit relay v2 (reservations and the relayed hops browsers use for WebRTC signalling). */
export const RELAY_LIMITS = {
  /** Reservations held at once; a reservation is freed when its peer disconnects. */
  maxReservations: 128,
  /** Reservations held at once by peers connected from one IP address. */
  maxReservationsPerIp: 16,
  /** How long a reservation lasts without a refresh, ms. */
  reservationTtlMs: 2 * 60 * MINUTE,
  /** Lifetime of one relayed hop, ms: it carries signalling only. */
  circuitDurationMs: 2 * MINUTE,
  /** Bytes one relayed hop may carry (both directions together). */
  circuitDataBytes: 1024 * KiB,
  /** A HOP request must be read and answered within this time, ms. */
  hopTimeoutMs: 10 * SECOND,
  /** Concurrent inbound HOP streams per connection. */
  maxInboundHopStreams: 4,
  /** Concurrent outbound STOP streams (all connections). */
  maxOutboundStopStreams: 256,
  /** Largest HOP request frame, bytes (a reserve or connect message is a few hundred bytes). */
  maxHopFrameBytes: 4 * KiB
} as const;

/** libp2p connections and streams. */
export const CONNECTION_LIMITS = {
  /** Open connections before libp2p prunes the least valuable. */
  maxConnections: 512,
  /** Open connections from one IP address; more are refused before the handshake. */
  maxConnectionsPerIp: 32,
  /** Inbound connections still doing their handshake. */
  maxIncomingPendingConnections: 32,
  /** New inbound connections per second from one host before the relay refuses more (relay/ip-abuse.ts). */
  inboundConnectionThreshold: 10,
  /** libp2p's own per-host rate, a backstop above ours (ours scores the refusals, libp2p's cannot). */
  inboundConnectionBackstop: 50,
  /** The noise + yamux upgrade of an inbound connection must finish within this, ms. */
  inboundUpgradeTimeoutMs: 5 * SECOND,
  /** Largest WebSocket message, bytes. A Noise frame is at most 65,535 bytes plus its prefix. */
  maxWebSocketMessageBytes: 256 * KiB,
  /** Concurrent inbound streams per connection, all protocols and negotiating ones together. */
  maxInboundStreamsPerConnection: 64,
  /** Concurrent inbound streams per connection for identify and ping. */
  maxInboundStreamsSmall: 2,
  /** Concurrent inbound gossipsub streams per connection (a peer needs one). */
  maxInboundGossipStreams: 2,
  /** Concurrent outbound gossipsub streams per connection (we need one). */
  maxOutboundGossipStreams: 2,
  /** Largest identify message, bytes. */
  maxIdentifyMessageBytes: 8 * KiB
} as const;

/** Gossipsub: frame caps and per-peer publish rate. */
export const GOSSIP_LIMITS = {
  /**
   * Largest gossipsub RPC frame accepted, bytes: one entry (genesis maxEntryBytes, 64 KiB by default)
   * plus its envelope (topic, sender, seqno, signature, key) and piggybacked control messages
   * (IHAVE / IDONTWANT message ids, ~48 bytes each; a few thousand under heavy load).
   * A bigger length prefix closes the peer's gossip stream before the frame is buffered.
   */
  maxFrameBytes: DEFAULT_MAX_ENTRY_BYTES + 192 * KiB,
  /**
   * New (first-seen) messages per second accepted from one peer (an entries batch counts its
   * entries, at most a full bucket); above it they are Ignored and struck.
   */
  messagesPerSecond: 300,
  /** A peer may burst this many seconds' worth of messages (bucket size = rate × this). */
  burstSeconds: 2,
  /** Rate-limit strikes (each lowers the peer's gossipsub score) halve after this long, ms. */
  strikeHalfLifeMs: 10 * SECOND,
  /**
   * Strikes stop growing here: 20 × the application weight 10 = a score of -200, under the graylist
   * (-80); 13 s later the peer is above the graylist again, 43 s later above the gossip threshold
   * (-10). Uncapped, a burst of 2,000 messages at once (1,400 over the rate) kept an honest writer
   * graylisted for about 75 s. A flood goes on adding no strikes while graylisted (its RPCs are
   * dropped unread), so a flooder is let in for up to a second (gossipsub's score cache) every
   * ~14 s: about 3,600 messages a minute get through, a fifth of what 300/s allows.
   */
  maxStrikes: 20,
  /** Messages per RPC kept by the decoder; the rest of a larger RPC is dropped. */
  maxMessagesPerRpc: 256,
  /** Subscriptions per RPC kept by the decoder. */
  maxSubscriptionsPerRpc: 64,
  /** Message ids per IHAVE / IWANT, and control messages per RPC, kept by the decoder. */
  maxControlIdsPerRpc: 5000,
  /** Message ids per IDONTWANT kept by the decoder. */
  maxIdontwantIdsPerRpc: 512,
  /** Peer records per PRUNE kept by the decoder. */
  maxPeerInfosPerRpc: 16
} as const;

/** Per-IP abuse scoring (relay/ip-abuse.ts). */
export const ABUSE_LIMITS = {
  /** Points (refusals: 1 per connection or reservation, 5 per ban) from which an IP is abusive. */
  threshold: 20,
  /** Points halve after this long, ms. */
  halfLifeMs: MINUTE,
  /** IPs tracked (least recently seen forgotten first). */
  maxIps: 65_536
} as const;

/** The HTTP listener (the app, /healthz, /metrics, /api/relays). */
export const HTTP_LIMITS = {
  /** Open HTTP connections; more are refused. */
  maxConnections: 1024,
  /** The request headers must arrive within this time, ms. */
  headersTimeoutMs: 10 * SECOND,
  /** The whole request must arrive within this time, ms. */
  requestTimeoutMs: 30 * SECOND,
  /** An idle keep-alive connection is closed after this time, ms. */
  keepAliveTimeoutMs: 5 * SECOND,
  /** Largest request header block, bytes. */
  maxHeaderBytes: 16 * KiB,
  /** Requests served on one keep-alive connection. */
  maxRequestsPerSocket: 1000
} as const;
