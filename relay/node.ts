// The relay's libp2p node: WebSockets listener, circuit relay v2 server, identify, ping, gossipsub.
import { createLibp2p, type Libp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { circuitRelayServer, type CircuitRelayService } from '@libp2p/circuit-relay-v2';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import type { PrivateKey } from '@libp2p/interface';
import type { Identify } from '@libp2p/identify';
import type { Ping } from '@libp2p/ping';

export interface RelayNodeInit {
  privateKey: PrivateKey;
  host: string;
  port: number;
  maxReservations: number;
  /** Topics the relay joins so it forwards them between browsers. */
  topics: string[];
}

export type RelayServices = {
  identify: Identify;
  ping: Ping;
  relay: CircuitRelayService;
  pubsub: GossipSub;
};

export type RelayNode = Libp2p<RelayServices>;

export async function createRelayNode(init: RelayNodeInit): Promise<RelayNode> {
  const node = await createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: [`/ip4/${init.host}/tcp/${init.port}/ws`] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: Math.max(300, init.maxReservations * 2) },
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer({
        reservations: {
          maxReservations: init.maxReservations,
          // Relayed hops carry only WebRTC signalling, so tight limits are enough.
          defaultDurationLimit: 2 * 60_000,
          defaultDataLimit: BigInt(1 << 20)
        }
      }),
      pubsub: gossipsub({
        // The relay is a hub: it forwards what browsers publish even when it has no mesh peers yet.
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        canRelayMessage: true
      })
    }
  });
  for (const topic of init.topics) node.services.pubsub.subscribe(topic);
  return node;
}
