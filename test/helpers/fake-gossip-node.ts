// A libp2p node stand-in for entry gossip tests: a pubsub that records the topic validators it
// is given (so a test calls them as gossipsub would) and the topics it subscribes to.
import { vi } from 'vitest';
import type { TopicValidatorFn } from '@libp2p/gossipsub';
import type { GossipNode } from '../../src/lib/worker/entry-gossip.js';

export function fakeGossipNode() {
  const topicValidators = new Map<string, TopicValidatorFn>();
  const subscribed = new Set<string>();
  const publish = vi.fn(async (_topic: string, _data?: Uint8Array) => ({ recipients: [] }));
  const pubsub = {
    topicValidators,
    subscribe: (t: string) => void subscribed.add(t),
    unsubscribe: (t: string) => void subscribed.delete(t),
    publish,
    addEventListener: vi.fn(),
    removeEventListener: vi.fn()
  };
  return { node: { services: { pubsub } } as unknown as GossipNode, topicValidators, subscribed, publish };
}
