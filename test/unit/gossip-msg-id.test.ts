// gossipsub's fast message id (src/lib/platform/gossip-msg-id.ts): a copy of a message a node has
// already validated is dropped before its signature is checked again. Real gossipsub nodes in a
// triangle, so every message reaches each receiver from its author and from the other receiver;
// node:crypto's verify (the Node build of @libp2p/crypto calls it once per signature check) is
// counted.
import crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fastMsgId } from '../../src/lib/platform/gossip-msg-id.js';
import { gossipTestNode, meshPeers, type GossipTestNode } from '../helpers/gossip-net.js';

const TOPIC = 'tabula/test/fast-id';
const WAIT = { timeout: 10_000, interval: 20 };
let net: GossipTestNode[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(net.map((n) => n.stop()));
  net = [];
});

async function triangle(): Promise<GossipTestNode[]> {
  net = await Promise.all([0, 1, 2].map(() => gossipTestNode({ fastMsgIdFn: fastMsgId })));
  const [a, b, c] = net;
  await a.dial(b.getMultiaddrs());
  await a.dial(c.getMultiaddrs());
  await b.dial(c.getMultiaddrs());
  for (const n of net) n.services.pubsub.subscribe(TOPIC);
  await vi.waitFor(() => {
    for (const n of net) expect(meshPeers(n, TOPIC)).toHaveLength(2);
  }, WAIT);
  return net;
}

describe('gossipsub fast message id', () => {
  it('is the message’s from and seqno, and empty without them', () => {
    const from = new Uint8Array([1, 2, 3]);
    const msg = (seqno: number) => ({
      from,
      seqno: new Uint8Array([0, seqno]),
      topic: TOPIC,
      data: new Uint8Array([9])
    });
    expect(fastMsgId(msg(1))).toBe(fastMsgId({ ...msg(1), data: new Uint8Array([7]) }));
    expect(fastMsgId(msg(1))).not.toBe(fastMsgId(msg(2)));
    expect(fastMsgId({ topic: TOPIC, data: new Uint8Array(0) })).toBe('');
  });

  it('checks each message’s signature once per receiver, though copies arrive from two peers', async () => {
    const [a, b, c] = await triangle();
    const received = { b: 0, c: 0 };
    b.services.pubsub.addEventListener('message', () => received.b++);
    c.services.pubsub.addEventListener('message', () => received.c++);
    // Copies gossipsub found to be duplicates, per receiver (each also gets a's message from the other).
    const duplicates = { b: 0, c: 0 };
    for (const [name, node] of [
      ['b', b],
      ['c', c]
    ] as const) {
      const score = (node.services.pubsub as unknown as { score: { duplicateMessage: (...a: unknown[]) => void } })
        .score;
      const original = score.duplicateMessage.bind(score);
      score.duplicateMessage = (...args: unknown[]) => {
        duplicates[name]++;
        original(...args);
      };
    }
    const verify = vi.spyOn(crypto, 'verify');
    const n = 40;
    for (let i = 0; i < n; i++) await a.services.pubsub.publish(TOPIC, new Uint8Array([i]));
    await vi.waitFor(() => expect(received).toEqual({ b: n, c: n }), WAIT);
    await vi.waitFor(() => expect(duplicates).toEqual({ b: n, c: n }), WAIT);
    expect(verify.mock.calls.length).toBe(2 * n);
  });
});
