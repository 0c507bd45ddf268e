// The node's own entries on their way to gossip (src/lib/worker/gossip-outbox.ts): held from the
// node's start until a peer subscribes to the entries topic, then published in seq order; a
// publish that reached nobody is tried again; bounded; paced below the relay's per-peer rate.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PeerRateLimiter } from '../../relay/gossip-guard.js';
import { GOSSIP_LIMITS } from '../../relay/limits.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { decodeGossipMessage, gossipMessageEntries } from '../../src/lib/core/gossip-batch.js';
import type { AppendOrigin } from '../../src/lib/core/ledger.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import {
  GossipOutbox,
  type AppendSource,
  type OutboxOptions,
  type OutboxPubsub
} from '../../src/lib/worker/gossip-outbox.js';
import { GOSSIP_BATCH_MAX_ENTRIES } from '../../src/lib/core/constants.js';
import { genesis, memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';

const TOPIC = 'tabula/test/entries';

/** A pubsub whose subscribers and per-publish recipients the test sets. */
function fakePubsub() {
  const listeners = new Set<() => void>();
  const state = { subscribers: 0, recipients: 1 };
  const seqs: number[] = [];
  /** Each message's seqs (a message is one entry or a batch). */
  const messages: number[][] = [];
  const pubsub: OutboxPubsub = {
    publish: async (_topic, data) => {
      const run = decodeGossipMessage(data, genesis.maxEntryBytes).entries.map((h) => h.entry.seq);
      messages.push(run);
      seqs.push(...run);
      return { recipients: Array.from({ length: state.recipients }, (_, i) => i) };
    },
    getSubscribers: () => Array.from({ length: state.subscribers }, (_, i) => i),
    addEventListener: (_t, cb) => void listeners.add(cb),
    removeEventListener: (_t, cb) => void listeners.delete(cb)
  };
  const subscribe = (): void => {
    state.subscribers = 1;
    for (const l of listeners) l();
  };
  return { pubsub, state, seqs, messages, subscribe, listeners };
}

let me: TestLedger;
let outbox: GossipOutbox | undefined;
beforeEach(async () => {
  me = await openLedger(memoryLocation(), 1);
});
afterEach(() => {
  outbox?.stop();
  vi.useRealTimers();
});

async function write(n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) await me.ledger.put(`k${i}`, i);
}

/** An append source that replays `log` as local appends when told to. */
function replay(log: HashedEntry[]): AppendSource & { emit(from: number, to: number): void } {
  let cb: ((h: HashedEntry, origin: AppendOrigin) => void) | undefined;
  return {
    onAppend(f) {
      cb = f;
      return () => (cb = undefined);
    },
    emit(from, to) {
      for (const h of log.slice(from, to)) cb?.(h, 'local');
    }
  };
}

/** `n` local writes to replay, fake timers, a subscribed fake pubsub and an outbox (`opts`) attached to it. */
async function pacedOutbox(n: number, opts: Partial<OutboxOptions>) {
  await write(n);
  vi.useFakeTimers();
  const f = fakePubsub();
  f.state.subscribers = 1;
  const source = replay(me.log);
  outbox = new GossipOutbox(source, opts);
  outbox.attach(f.pubsub, TOPIC);
  return { f, source };
}

describe('gossip outbox', () => {
  it('holds entries written before gossip runs and before any peer subscribes, then publishes them in seq order', async () => {
    outbox = new GossipOutbox(me.ledger);
    await write(3); // the network (and gossip) is not up yet
    const f = fakePubsub();
    outbox.attach(f.pubsub, TOPIC);
    await write(2, 3); // gossip runs, but no relay's subscription has arrived
    await outbox.settled();
    expect(f.seqs).toEqual([]);
    expect(outbox.stats).toMatchObject({ held: 5, published: 0 });

    f.subscribe();
    await outbox.settled();
    await write(1, 5); // from now on each goes at once
    await outbox.settled();
    expect(f.seqs).toEqual([1, 2, 3, 4, 5, 6]);
    // The five held ones in one batch, then the sixth alone.
    expect(f.messages).toEqual([[1, 2, 3, 4, 5], [6]]);
    expect(outbox.stats).toEqual({ published: 6, messages: 2, held: 0, dropped: 0, paced: 0 });
  });

  it('publishes only local entries', async () => {
    const other = await openLedger(memoryLocation(), 2);
    await other.ledger.put('x', 1);
    outbox = new GossipOutbox(me.ledger);
    expect(await me.ledger.ingest(other.log)).toMatchObject({ added: 1 });
    expect(me.ledger.get('x')).toBe(1);
    expect(outbox.stats.held).toBe(0);
    await write(1);
    expect(outbox.stats.held).toBe(1);
  });

  it('tries again a publish that reached no peer, keeping the order', async () => {
    vi.useFakeTimers();
    outbox = new GossipOutbox(me.ledger, { maxHeld: 16, retryMs: 1_000 });
    const f = fakePubsub();
    f.state.subscribers = 1;
    f.state.recipients = 0; // subscribed, but no stream to it yet
    outbox.attach(f.pubsub, TOPIC);
    await write(2);
    await outbox.settled();
    expect(outbox.stats).toMatchObject({ held: 2, published: 0 });
    f.state.recipients = 1;
    await vi.advanceTimersByTimeAsync(1_000);
    await outbox.settled();
    expect(outbox.stats).toMatchObject({ held: 0, published: 2 });
    // The first try of seq 1 reached nobody; then seq 1 and seq 2, in order.
    expect(f.seqs.slice(-2)).toEqual([1, 2]);
  });

  it('keeps at most `max` entries (the oldest) and counts the rest as dropped', async () => {
    outbox = new GossipOutbox(me.ledger, { maxHeld: 2 });
    await write(4);
    expect(outbox.stats).toMatchObject({ held: 2, dropped: 2 });
    const f = fakePubsub();
    f.state.subscribers = 1;
    outbox.attach(f.pubsub, TOPIC);
    await outbox.settled();
    expect(f.seqs).toEqual([1, 2]);
  });

  it('never drops a burst of writes while entries flow to a subscribed peer', async () => {
    outbox = new GossipOutbox(me.ledger, { maxHeld: 2 });
    const f = fakePubsub();
    f.state.subscribers = 1;
    outbox.attach(f.pubsub, TOPIC);
    await Promise.all(Array.from({ length: 6 }, (_, i) => me.ledger.put(`b${i}`, i)));
    await outbox.settled();
    expect(f.seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(outbox.stats).toMatchObject({ published: 6, held: 0, dropped: 0, paced: 0 });
  });

  it('stops listening and publishing when stopped', async () => {
    outbox = new GossipOutbox(me.ledger);
    const f = fakePubsub();
    outbox.attach(f.pubsub, TOPIC);
    outbox.stop();
    expect(f.listeners.size).toBe(0);
    await write(1);
    f.state.subscribers = 1;
    expect(outbox.stats.held).toBe(0);
    expect(f.seqs).toEqual([]);
  });

  for (const batchEntries of [1, GOSSIP_BATCH_MAX_ENTRIES])
    it(`paces a burst of 2,000 writes under the relay's default per-peer rate: none is refused, all in order (batches of ${batchEntries})`, async () => {
      await write(2_000);
      vi.useFakeTimers();
      // The relay's own limiter, built as relay/node.ts builds it, on the fake clock.
      const limiter = new PeerRateLimiter({
        rate: GOSSIP_LIMITS.messagesPerSecond,
        burst: GOSSIP_LIMITS.messagesPerSecond * GOSSIP_LIMITS.burstSeconds,
        strikeHalfLifeMs: GOSSIP_LIMITS.strikeHalfLifeMs
      });
      const f = fakePubsub();
      const accepted: number[] = [];
      const publish = f.pubsub.publish;
      f.pubsub.publish = async (topic, data) => {
        // Charged by entries, as relay/server.ts charges the entries topic.
        const run = decodeGossipMessage(data, genesis.maxEntryBytes).entries.map((h) => h.entry.seq);
        if (limiter.take('writer', gossipMessageEntries(data))) accepted.push(...run);
        return publish(topic, data);
      };
      f.state.subscribers = 1;
      const source = replay(me.log);
      outbox = new GossipOutbox(source, { batchEntries });
      outbox.attach(f.pubsub, TOPIC);
      source.emit(0, 2_000); // the whole burst at one instant
      for (let t = 0; t < 30 && outbox.stats.held > 0; t++) await vi.advanceTimersByTimeAsync(1_000);
      expect(limiter.refused).toBe(0);
      expect(limiter.strikes('writer')).toBe(0);
      expect(accepted).toEqual(Array.from({ length: 2_000 }, (_, i) => i + 1));
      expect(outbox.stats).toMatchObject({ published: 2_000, held: 0, dropped: 0 });
      // Paced by entries either way (200/s after a burst of 200): 2,000 entries take ~9 s.
      expect(outbox.stats.paced).toBeGreaterThan(0);
      if (batchEntries === 1) expect(outbox.stats.messages).toBe(2_000);
      // Batched: at most 64 a message, as many as the pace has tokens for.
      else expect(outbox.stats.messages).toBeLessThan(2_000 / 2);
      expect(f.messages.every((m) => m.length <= batchEntries)).toBe(true);
    });

  it('publishes at most `burst` at once and `ratePerSecond` after that', async () => {
    const { f, source } = await pacedOutbox(30, { ratePerSecond: 10, burst: 5, batchEntries: 1 });
    source.emit(0, 30);
    await vi.advanceTimersByTimeAsync(0);
    expect(f.seqs).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(f.seqs).toHaveLength(15);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(f.seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('bounds the line while entries flow (entries and bytes) and counts what it drops', async () => {
    const { f, source: byCount } = await pacedOutbox(20, { ratePerSecond: 1, burst: 1, maxQueued: 4 });
    byCount.emit(0, 20);
    expect(outbox!.stats).toMatchObject({ held: 4, dropped: 16 });
    outbox!.stop();

    // Entries of these writes differ in size by a byte or two: room for 3.5 of them holds 3.
    const size = encodeEntry(me.log[0]!.entry).byteLength;
    const byBytes = replay(me.log);
    outbox = new GossipOutbox(byBytes, { ratePerSecond: 1, burst: 1, maxQueuedBytes: Math.floor(size * 3.5) });
    outbox.attach(f.pubsub, TOPIC);
    byBytes.emit(0, 20);
    expect(outbox.stats).toMatchObject({ held: 3, dropped: 17 });
  });

  it('stop() ends a drain that waits for the pace', async () => {
    const { f, source } = await pacedOutbox(3, { ratePerSecond: 1, burst: 1 });
    source.emit(0, 3);
    await vi.advanceTimersByTimeAsync(0);
    expect(f.seqs).toEqual([1]);
    outbox!.stop();
    await outbox!.settled();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(f.seqs).toEqual([1]);
  });
});

describe('gossip outbox: red team', () => {
  it('bounds the held bytes while nothing flows too (256 entries of 1 MiB would be 256 MiB)', async () => {
    await write(20);
    const size = encodeEntry(me.log[0]!.entry).byteLength;
    const source = replay(me.log);
    // Not attached: nothing flows, so `maxHeld` (256) is the count bound; the bytes bound holds too.
    outbox = new GossipOutbox(source, { maxQueuedBytes: Math.floor(size * 3.5) });
    source.emit(0, 20);
    expect(outbox.stats).toMatchObject({ held: 3, dropped: 17 });
  });

  it('entries flow again as soon as a retried publish reaches a peer, not only when the retry timer fires', async () => {
    await write(12);
    vi.useFakeTimers();
    const f = fakePubsub();
    f.state.subscribers = 1;
    f.state.recipients = 0; // subscribed, but the first publish reaches nobody
    const source = replay(me.log);
    outbox = new GossipOutbox(source, { maxHeld: 2, retryMs: 1_000 });
    outbox.attach(f.pubsub, TOPIC);
    source.emit(0, 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(outbox.stats).toMatchObject({ held: 1, published: 0 });
    f.state.recipients = 1;
    f.subscribe(); // a stream is up: the subscription kicks the outbox before the retry's 1 s
    await vi.advanceTimersByTimeAsync(0);
    expect(outbox.stats).toMatchObject({ held: 0, published: 1 });
    source.emit(1, 12); // a burst while entries flow: `maxQueued` applies, not `maxHeld`
    await vi.advanceTimersByTimeAsync(0);
    expect(outbox.stats).toMatchObject({ published: 12, held: 0, dropped: 0 });
  });

  it('keeps its pace when the clock is set back (no stall for the length of the jump)', async () => {
    const { f, source } = await pacedOutbox(10, { ratePerSecond: 10, burst: 5, batchEntries: 1 });
    source.emit(0, 5);
    await vi.advanceTimersByTimeAsync(0);
    expect(f.seqs).toHaveLength(5); // the bucket is empty now
    vi.setSystemTime(Date.now() - 3_600_000); // NTP steps the clock back an hour
    source.emit(5, 10);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(f.seqs).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });
});

describe('gossip outbox: network restart', () => {
  it('a re-attach while waiting for the pace goes on, in order, on the new pubsub', async () => {
    await write(4);
    vi.useFakeTimers();
    const [a, b] = [fakePubsub(), fakePubsub()];
    a.state.subscribers = 1;
    b.state.subscribers = 1;
    const source = replay(me.log);
    outbox = new GossipOutbox(source, { ratePerSecond: 1, burst: 1, batchEntries: 1 });
    outbox.attach(a.pubsub, TOPIC);
    source.emit(0, 4);
    await vi.advanceTimersByTimeAsync(0);
    outbox.attach(b.pubsub, TOPIC); // the network restarted (node-runtime startGossip)
    expect(a.listeners.size).toBe(0);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(a.seqs).toEqual([1]);
    expect(b.seqs).toEqual([2, 3, 4]);
  });

  it('a publish that fails on the stopped pubsub is retried on the new one, nothing lost', async () => {
    await write(3);
    vi.useFakeTimers();
    const [a, b] = [fakePubsub(), fakePubsub()];
    a.state.subscribers = 1;
    b.state.subscribers = 1;
    let fail: (err: Error) => void = () => undefined;
    a.pubsub.publish = () => new Promise((_resolve, reject) => (fail = reject));
    const source = replay(me.log);
    outbox = new GossipOutbox(source, { retryMs: 1_000 });
    outbox.attach(a.pubsub, TOPIC);
    source.emit(0, 3);
    await vi.advanceTimersByTimeAsync(0);
    outbox.attach(b.pubsub, TOPIC);
    fail(new Error('PublishError.Uninitialized')); // the old node stopped under it
    await vi.advanceTimersByTimeAsync(1_000);
    expect(b.seqs).toEqual([1, 2, 3]);
    expect(outbox.stats).toMatchObject({ published: 3, held: 0, dropped: 0 });
  });
});
