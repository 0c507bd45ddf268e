// Real libp2p nodes in one Node process: in-memory transport, noise, yamux, identify and
// gossipsub, so tests see what gossipsub really does with a topic validator's verdicts.
import { gossipsub, type GossipSub, type GossipsubOpts } from '@libp2p/gossipsub';
import { identify, type Identify } from '@libp2p/identify';
import { memory } from '@libp2p/memory';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { createLibp2p, type Libp2p } from 'libp2p';

export type GossipTestNode = Libp2p<{ identify: Identify; pubsub: GossipSub }>;

let nodes = 0;

/** A node listening on a fresh in-memory address; heartbeats are fast so meshes form quickly. */
export async function gossipTestNode(opts: Partial<GossipsubOpts> = {}): Promise<GossipTestNode> {
  return createLibp2p({
    addresses: { listen: [`/memory/gossip-test-${process.pid}-${++nodes}`] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false, heartbeatInterval: 100, ...opts })
    }
  });
}

/** Connects the nodes in a line: nodes[0] - nodes[1] - ... (each only to its neighbours). */
export async function connectLine(nodes: readonly GossipTestNode[]): Promise<void> {
  for (let i = 0; i + 1 < nodes.length; i++) await nodes[i].dial(nodes[i + 1].getMultiaddrs());
}

/** Peer ids in `node`'s gossipsub mesh for `topic` (where it forwards validated messages). */
export function meshPeers(node: GossipTestNode, topic: string): string[] {
  // getMeshPeers is on the GossipSub class, not on its exported interface.
  return (node.services.pubsub as unknown as { getMeshPeers(t: string): string[] }).getMeshPeers(topic);
}
