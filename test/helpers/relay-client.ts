// A Node libp2p client for relay tests: WebSockets to the relay, circuit relay v2 reservations.
import '../../src/lib/platform/polyfills.js';
import { createLibp2p, type Libp2p } from 'libp2p';
import type { PrivateKey } from '@libp2p/interface';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify, type Identify } from '@libp2p/identify';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { multiaddr } from '@multiformats/multiaddr';
import { createRequire } from 'node:module';

// Node 20 has no global WebSocket (Node 22 does); libp2p's dialler needs one. `ws` is what the
// relay's own listener uses.
globalThis.WebSocket ??= (createRequire(import.meta.url)('ws') as { WebSocket: typeof WebSocket }).WebSocket;

export type ClientNode = Libp2p<{ identify: Identify; pubsub: GossipSub }>;

export interface ClientOptions {
  /** Listen on `/p2p-circuit`, i.e. reserve a slot on the relay it dials (default true). */
  reserve?: boolean;
  /** The client's identity (default: a new key). */
  privateKey?: PrivateKey;
}

/** A Node libp2p client with WebSockets, circuit relay and gossipsub. */
export async function createRelayClient(opts: ClientOptions = {}): Promise<ClientNode> {
  return createLibp2p({
    ...(opts.privateKey ? { privateKey: opts.privateKey } : {}),
    addresses: { listen: opts.reserve === false ? [] : ['/p2p-circuit'] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Loopback ws:// is refused by the default gater.
    connectionGater: { denyDialMultiaddr: () => false },
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false })
    }
  });
}

export async function dialRelay(client: ClientNode, relayAddr: string): Promise<void> {
  await client.dial(multiaddr(relayAddr));
}

/** Polls `cond` every 20 ms until true; throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
