// A gossip node stand-in for entry-gossip validator tests: the validator is called by hand with
// any peer id and message, and ChainLinks' wait timers are fired by the test.
import { vi } from 'vitest';
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import type { HashedEntry } from '../../src/lib/core/types.js';
import type { GossipNode } from '../../src/lib/worker/entry-gossip.js';
import { memoryLocation, openLedger } from './ledger-nodes.js';

/** A GossipNode whose topic validators and subscriptions the test can see. */
export function fakeGossipNode() {
  const topicValidators = new Map<string, TopicValidatorFn>();
  const subscribed = new Set<string>();
  const pubsub = {
    topicValidators,
    subscribe: (t: string) => void subscribed.add(t),
    unsubscribe: (t: string) => void subscribed.delete(t),
    publish: vi.fn(async () => ({ recipients: [] }))
  };
  return { node: { services: { pubsub } } as unknown as GossipNode, topicValidators, subscribed };
}

/** A peer id that is only its string. */
export const fakePeer = (id: string): PeerId => ({ toString: () => id }) as unknown as PeerId;

/** An unsigned gossipsub message on `topic`. */
export const topicMessage = (topic: string, data: Uint8Array): Message => ({ type: 'unsigned', topic, data });

/** `n` records written by key byte `keyByte` on a ledger of its own: its entries, seq 1..n. */
export async function authoredEntries(keyByte: number, n: number): Promise<HashedEntry[]> {
  const other = await openLedger(memoryLocation(), keyByte);
  for (let i = 0; i < n; i++) await other.ledger.put(`k${keyByte}-${i}`, `${i}`);
  return other.log;
}

/** ChainLinks timers fired by hand: a waiting entry waits until the test fires its timer. */
export function manualLinkTimers() {
  const timers: (() => void)[] = [];
  return {
    timers,
    links: { waitMs: 60_000, setTimer: (fn: () => void): unknown => timers.push(fn), clearTimer: () => undefined }
  };
}
