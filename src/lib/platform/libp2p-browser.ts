// The browser node's libp2p: WebRTC between browsers, WebSockets to relays, circuit relay v2 for
// signalling, Noise, Yamux, identify, ping, gossipsub and pubsub peer discovery.
import { createLibp2p, type Libp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { webRTC } from '@libp2p/webrtc';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify, type Identify } from '@libp2p/identify';
import { ping, type Ping } from '@libp2p/ping';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { pubsubPeerDiscovery } from '@libp2p/pubsub-peer-discovery';
import { isPrivate } from '@libp2p/utils';
import { WebSockets } from '@multiformats/multiaddr-matcher';
import type { ConnectionGater, PrivateKey } from '@libp2p/interface';
import type { GossipsubOpts } from '@libp2p/gossipsub';
import { mergeGaters } from './ban-gater.js';
import { fastMsgId } from './gossip-msg-id.js';
import { GOSSIP_MESH, GOSSIP_UNSUBSCRIBE_BACKOFF_MS } from '../core/constants.js';
import type { Multiaddr } from '@multiformats/multiaddr';

export interface BrowserNodeInit {
  privateKey: PrivateKey;
  /** Relay multiaddrs (with /p2p/<id>) from the site's /api/relays. */
  relays: string[];
  /** ICE servers for WebRTC; [] by default, so no outside STUN/TURN server is ever contacted. */
  iceServers: RTCIceServer[];
  discoveryTopic: string;
  discoveryIntervalMs: number;
  maxConnections: number;
  /** Circuit reservations held at once, each on a different relay (default 1). */
  reservations?: number;
  /** Further gater rules (e.g. bans, platform/ban-gater.ts), merged with the relay-aware one. */
  gater?: ConnectionGater;
  /** Further gossipsub options (e.g. peer scoring, platform/gossip-scoring.ts). */
  gossip?: Partial<GossipsubOpts>;
}

export type BrowserServices = { identify: Identify; ping: Ping; pubsub: GossipSub };
export type BrowserNode = Libp2p<BrowserServices>;

/**
 * libp2p's browser gater refuses ws:// and private addresses. The relays the site itself named
 * are trusted, including circuit addresses through them (which is how WebRTC dials are signalled);
 * every other address keeps the default rule.
 */
export function relayAwareGater(relays: string[]): { denyDialMultiaddr: (ma: Multiaddr) => boolean } {
  const trusted = relays.map((r) => r.toString());
  return {
    denyDialMultiaddr(ma: Multiaddr): boolean {
      const s = ma.toString();
      if (trusted.some((r) => s === r || s.startsWith(`${r}/p2p-circuit`))) return false;
      if (WebSockets.matches(ma)) return true;
      return isPrivate(ma);
    }
  };
}

export async function createBrowserNode(init: BrowserNodeInit): Promise<BrowserNode> {
  return createLibp2p({
    // Started by the caller once its handlers are registered.
    start: false,
    privateKey: init.privateKey,
    // One '/p2p-circuit' per reservation: libp2p reserves a slot on that many relays.
    addresses: { listen: [...Array<string>(Math.max(1, init.reservations ?? 1)).fill('/p2p-circuit'), '/webrtc'] },
    transports: [webSockets(), webRTC({ rtcConfiguration: { iceServers: init.iceServers } }), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater:
      init.gater === undefined ? relayAwareGater(init.relays) : mergeGaters(relayAwareGater(init.relays), init.gater),
    connectionManager: { maxConnections: init.maxConnections },
    // Off: it aborts a connection on one late ping, which under load dropped live direct links;
    // the worker's RTT probe closes a connection only after several pings in a row went
    // unanswered (worker/link-liveness.ts).
    connectionMonitor: { enabled: false },
    peerDiscovery: [pubsubPeerDiscovery({ topics: [init.discoveryTopic], interval: init.discoveryIntervalMs })],
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        ...GOSSIP_MESH,
        fastMsgIdFn: fastMsgId,
        // A node that shed gossip (core/gossip-shed.ts) joins again after 2 s or more: its PRUNE
        // asks its mesh peers to wait only this long before grafting it again (default 10 s).
        unsubcribeBackoff: GOSSIP_UNSUBSCRIBE_BACKOFF_MS,
        ...init.gossip
      })
    }
  });
}
