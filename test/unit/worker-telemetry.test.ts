// The node's telemetry without a browser: a fake pubsub that records the topic validator and the
// published bytes, a real Ledger on a memory store.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TopicValidatorResult, type Message, type TopicValidatorFn } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { toHex } from '../../src/lib/core/bytes.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { verifyBeacon } from '../../src/lib/core/telemetry.js';
import { peerIdOfAuthor } from '../../src/lib/core/peer-id.js';
import { startTelemetry, type Telemetry, type TelemetryInit } from '../../src/lib/worker/telemetry.js';
import { LatencyTracker, quantile } from '../../src/lib/worker/latency-tracker.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const TOPIC = 'tabula/test/telemetry';
const NET = toHex(networkId(genesis));
const peer = { toString: () => 'peer' } as unknown as PeerId;
const msg = (data: Uint8Array, topic = TOPIC): Message => ({ type: 'unsigned', topic, data });

function fakePubsub() {
  const topicValidators = new Map<string, TopicValidatorFn>();
  const published: Uint8Array[] = [];
  const publish = vi.fn(async (_t: string, data: Uint8Array) => {
    published.push(data);
    return { recipients: [] };
  });
  return { topicValidators, published, subscribe: vi.fn(), unsubscribe: vi.fn(), publish };
}

async function node(keyByte: number, over: Partial<TelemetryInit> = {}) {
  const me = await openLedger(memoryLocation(), keyByte);
  const pubsub = fakePubsub();
  const t = startTelemetry({
    pubsub: pubsub as unknown as TelemetryInit['pubsub'],
    ledger: me.ledger,
    seed: me.keys.seed,
    networkIdHex: NET,
    topic: TOPIC,
    peerCount: () => 3,
    role: () => 'full',
    estimate: async () => ({ usage: 1000, quota: 50_000 }),
    intervalMs: 60_000,
    ...over
  });
  running.push(t);
  return { me, pubsub, t };
}

let running: Telemetry[] = [];
beforeEach(() => void (running = []));
afterEach(() => running.forEach((t) => t.stop()));

describe('node telemetry', () => {
  it('publishes a signed beacon describing the node and lists itself', async () => {
    const { me, pubsub, t } = await node(1);
    await me.ledger.put('a', 1);
    await t.beacon();
    const b = await verifyBeacon(pubsub.published.at(-1)!, NET);
    expect(b).toMatchObject({
      author: me.ledger.author,
      role: 'full',
      peers: 3,
      entries: 1,
      headsRoot: headsRoot(me.ledger.heads()),
      lagEntries: null,
      storageUsed: 1000,
      storageQuota: 50_000
    });
    expect(t.view().nodes.map((n) => n.peerId)).toEqual([peerIdOfAuthor(me.ledger.author)]);
  });

  it('carries the lag replication reports, rounded; unknown stays null', async () => {
    const { pubsub, t } = await node(4, { lag: () => ({ entries: 3, ms: 1234.6 }) });
    await t.beacon();
    expect(await verifyBeacon(pubsub.published.at(-1)!, NET)).toMatchObject({ lagEntries: 3, lagMs: 1235 });
    const other = await node(5, { lag: () => ({ entries: null, ms: -1 }) });
    await other.t.beacon();
    expect(await verifyBeacon(other.pubsub.published.at(-1)!, NET)).toMatchObject({ lagEntries: null, lagMs: null });
  });

  it('accepts and lists verified beacons of others, rejects forged or foreign ones', async () => {
    const a = await node(1);
    const b = await node(2);
    await b.t.beacon();
    const validate = a.pubsub.topicValidators.get(TOPIC)!;
    const good = b.pubsub.published.at(-1)!;
    expect(await validate(peer, msg(good))).toBe(TopicValidatorResult.Accept);
    // The same beacon again is not news.
    expect(await validate(peer, msg(good))).toBe(TopicValidatorResult.Ignore);
    const forged = new TextEncoder().encode(new TextDecoder().decode(good).replace('"peers":3', '"peers":4'));
    expect(await validate(peer, msg(forged))).toBe(TopicValidatorResult.Reject);
    expect(await validate(peer, msg(new Uint8Array(5000)))).toBe(TopicValidatorResult.Reject);
    expect(await validate(peer, msg(good, 'other'))).toBe(TopicValidatorResult.Ignore);
    const view = a.t.view();
    expect(view.nodes.map((n) => n.author)).toEqual([b.me.ledger.author]);
    expect(view).toMatchObject({ beaconsSeen: 2, beaconsRejected: 2 });
  });

  it('publishes on its own every interval with jitter', async () => {
    vi.useFakeTimers();
    try {
      const { pubsub } = await node(3, { intervalMs: 5000, random: () => 1 });
      await vi.advanceTimersByTimeAsync(1000);
      await vi.waitFor(() => expect(pubsub.published).toHaveLength(1));
      await vi.advanceTimersByTimeAsync(5999);
      expect(pubsub.published).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      await vi.waitFor(() => expect(pubsub.published).toHaveLength(2));
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('latency tracker', () => {
  it('nearest-rank quantiles over a bounded, expiring window', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.99)).toBe(4);
    let now = 10_000;
    const t = new LatencyTracker(() => now, 3, 1000);
    t.record(now + 50); // author clock ahead: 0
    t.record(now - 100);
    t.record(now - 200);
    t.record(now - 300);
    expect(t.summary()).toEqual({ p50: 200, p99: 300, count: 3 });
    now += 1001;
    expect(t.summary()).toEqual({ p50: null, p99: null, count: 0 });
  });
});
