// Entry gossip without a browser: a fake pubsub that records the topic validator, a real Ledger
// on a memory store, and entries written by other real ledgers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TopicValidatorResult, type Message, type TopicValidatorFn } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { toHex } from '../../src/lib/core/bytes.js';
import { createEntry, decodeEntry, encodeEntry } from '../../src/lib/core/entry.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { startEntryGossip } from '../../src/lib/worker/entry-gossip.js';
import { genesis, memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { keysFromByte, yUpdate, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { connectLine, gossipTestNode, meshPeers, type GossipTestNode } from '../helpers/gossip-net.js';
import { holdIngest } from '../helpers/hold-ingest.js';
import { fakeGossipNode } from '../helpers/fake-gossip-node.js';

const TOPIC = 'tabula/test/entries';

const fakeNode = fakeGossipNode;

const peer = (id: string): PeerId => ({ toString: () => id }) as unknown as PeerId;
const msg = (data: Uint8Array, topic = TOPIC): Message => ({ type: 'unsigned', topic, data });

/** `n` entries written by a fresh ledger of `keyByte` (optionally on another network). */
async function authored(keyByte: number, n: number, g = genesis, tag = ''): Promise<HashedEntry[]> {
  const other = await openLedger(memoryLocation(), keyByte, { genesis: g });
  for (let i = 0; i < n; i++) await other.ledger.put(`k${keyByte}-${i}`, `${tag}${i}`);
  return other.log;
}

let me: TestLedger;
let fake: ReturnType<typeof fakeNode>;
let bob: HashedEntry[];

beforeEach(async () => {
  me = await openLedger(memoryLocation(), 1);
  fake = fakeNode();
  bob = await authored(2, 3);
});

function validator(): TopicValidatorFn {
  const v = fake.topicValidators.get(TOPIC);
  expect(v).toBeDefined();
  return v!;
}

describe('entry gossip validator', () => {
  it('accepts a valid entry and hands it to the ledger', async () => {
    const g = startEntryGossip(fake.node, me.ledger, TOPIC);
    expect(fake.subscribed.has(TOPIC)).toBe(true);
    expect(await validator()(peer('p1'), msg(encodeEntry(bob[0].entry)))).toBe(TopicValidatorResult.Accept);
    await g.settled();
    expect(me.ledger.get('k2-0')).toBe('0');
    expect(g.stats).toMatchObject({ received: 1, accepted: 1, rejected: 0, ingestFailed: 0 });
  });

  it('ignores an entry whose predecessor is unknown here (a gap): not forwarded, held pending by the ledger, sync asked', async () => {
    const onPending = vi.fn();
    const g = startEntryGossip(fake.node, me.ledger, TOPIC, undefined, { links: { waitMs: 20 } }, { onPending });
    // bob's seq 2 without seq 1: Ignored (not forwarded), the carrier not blamed; the ledger holds
    // it as pending and the sync driver is asked for the gap.
    expect(await validator()(peer('relay'), msg(encodeEntry(bob[1].entry)))).toBe(TopicValidatorResult.Ignore);
    await g.settled();
    expect(onPending).toHaveBeenCalledTimes(1);
    expect(me.ledger.stats()).toMatchObject({ entries: 0, pending: 1 });
    expect(g.stats).toMatchObject({ unlinked: 1, accepted: 0, rejected: 0, stored: 0 });
    expect(g.stats.rejectedByPeer.size).toBe(0);
    // Once seq 1 is here, the held seq 2 is applied; seq 3 links and is accepted (forwarded).
    expect(await validator()(peer('p1'), msg(encodeEntry(bob[0].entry)))).toBe(TopicValidatorResult.Accept);
    await g.settled();
    expect(me.ledger.get('k2-1')).toBe('1');
    expect(await validator()(peer('p1'), msg(encodeEntry(bob[2].entry)))).toBe(TopicValidatorResult.Accept);
    await g.settled();
    expect(me.ledger.stats()).toMatchObject({ entries: 3, pending: 0 });
    // Stored counts the held seq 2 that seq 1 released.
    expect(g.stats.stored).toBe(3);
  });

  it('a message that would take the bytes in progress over maxQueuedBytes is dropped (Ignored, sync asked); the bytes are given back once ingested', async () => {
    const release = holdIngest(me.ledger);
    const onPending = vi.fn();
    const sizes = bob.map((h) => encodeEntry(h.entry).byteLength);
    // Room for bob's seq 1 and 2 but not 3 (while 1 and 2 wait for the ledger); the count cap is far away.
    // Flow control off (shed: false): off the topic, the node would drop the third message's second
    // copy unread (tested in redteam-flow-shed.test.ts).
    const cap = sizes[0]! + sizes[1]! + sizes[2]! - 1;
    const g = startEntryGossip(
      fake.node,
      me.ledger,
      TOPIC,
      undefined,
      { maxQueued: 100, maxQueuedBytes: cap, shed: false },
      { onPending }
    );
    const v = validator();
    expect(await v(peer('p'), msg(encodeEntry(bob[0].entry)))).toBe(TopicValidatorResult.Accept);
    expect(await v(peer('p'), msg(encodeEntry(bob[1].entry)))).toBe(TopicValidatorResult.Accept);
    expect(await v(peer('p'), msg(encodeEntry(bob[2].entry)))).toBe(TopicValidatorResult.Ignore);
    expect(g.stats).toMatchObject({ received: 3, accepted: 2, dropped: 1 });
    await vi.waitFor(() => expect(onPending).toHaveBeenCalledTimes(1), { timeout: 5_000, interval: 20 });
    release();
    await g.settled();
    expect(me.ledger.stats().entries).toBe(2);
    // The two ingested entries gave their bytes back: the third now fits.
    expect(await v(peer('p'), msg(encodeEntry(bob[2].entry)))).toBe(TopicValidatorResult.Accept);
    await g.settled();
    expect(me.ledger.stats().entries).toBe(3);
  });

  it('after a gap, the entries that follow it are judged at once (no wait holding a slot each) and held by the ledger until sync fills the gap', async () => {
    const bob5 = await authored(2, 5);
    const timers: (() => void)[] = [];
    const setTimer = (fn: () => void): unknown => timers.push(fn);
    const g = startEntryGossip(fake.node, me.ledger, TOPIC, undefined, {
      links: { waitMs: 60_000, setTimer, clearTimer: () => undefined }
    });
    const v = validator();
    // bob's seq 1 was lost: seq 2 waits for it (a timer), then is a gap.
    const second = v(peer('p'), msg(encodeEntry(bob5[1]!.entry)));
    await vi.waitFor(() => expect(timers).toHaveLength(1));
    timers.shift()!();
    expect(await second).toBe(TopicValidatorResult.Ignore);
    // Seq 3 to 5 follow a predecessor judged and not learnt: no further wait.
    for (const h of bob5.slice(2))
      expect(await v(peer('p'), msg(encodeEntry(h.entry)))).toBe(TopicValidatorResult.Ignore);
    expect(timers).toHaveLength(0);
    await g.settled();
    expect(g.stats).toMatchObject({ unlinked: 4, accepted: 0, dropped: 0 });
    expect(me.ledger.stats()).toMatchObject({ entries: 0, pending: 4 });
    // Sync brings seq 1: the held entries are applied.
    await me.ledger.ingest([bob5[0]!]);
    expect(me.ledger.stats()).toMatchObject({ entries: 5, pending: 0 });
  });

  it('an entry validated just before its predecessor waits for it and is accepted (out-of-order delivery)', async () => {
    const g = startEntryGossip(fake.node, me.ledger, TOPIC, undefined, { links: { waitMs: 5_000 } });
    const v = validator();
    // seq 3 and 2 start first; seq 1 arrives last: all three link once their predecessors are judged.
    const late = [v(peer('p'), msg(encodeEntry(bob[2].entry))), v(peer('p'), msg(encodeEntry(bob[1].entry)))];
    expect(await v(peer('p'), msg(encodeEntry(bob[0].entry)))).toBe(TopicValidatorResult.Accept);
    expect(await Promise.all(late)).toEqual([TopicValidatorResult.Accept, TopicValidatorResult.Accept]);
    await g.settled();
    expect(me.ledger.stats().entries).toBe(3);
    expect(g.stats).toMatchObject({ accepted: 3, unlinked: 0, ingestFailed: 0, stored: 3 });
  });

  it('ignores a validly signed entry whose prev is not the stored entry at seq - 1 (a broken chain); the ledger remembers it', async () => {
    const ingest = vi.spyOn(me.ledger, 'ingest');
    await me.ledger.ingest([bob[0]]);
    ingest.mockClear();
    const g = startEntryGossip(fake.node, me.ledger, TOPIC);
    const bobAgain = await authored(2, 2, genesis, 'again'); // same key, another chain: its seq 2 names another seq 1
    expect(await validator()(peer('relay'), msg(encodeEntry(bobAgain[1].entry)))).toBe(TopicValidatorResult.Ignore);
    await g.settled();
    // Not forwarded, but handed to the ledger, which refuses it as a broken chain and remembers it
    // as a variant of seq 2 (refused-variants.ts): nothing is stored.
    expect(ingest).toHaveBeenCalledTimes(1);
    expect(me.ledger.heads().find((h) => h.author === toHex(bob[0].entry.author))?.seq).toBe(1);
    expect(g.stats).toMatchObject({ unlinked: 1, accepted: 0, rejected: 0, ingestFailed: 1 });
  });

  it('forwards a fork twin that links to the known predecessor (evidence of equivocation)', async () => {
    await me.ledger.ingest([bob[0], bob[1]]);
    const g = startEntryGossip(fake.node, me.ledger, TOPIC);
    const bobKeys = await keysFromByte(2);
    const client = clientIdOf(toHex(bobKeys.publicKey));
    const twin = await createEntry(
      {
        keys: bobKeys,
        seq: 2,
        prev: bob[0].hash,
        lamport: bob[1].entry.lamport,
        time: 2,
        clock: bob[1].entry.clock,
        payload: yUpdateAt('twin', 1, client, bob[0].entry.clock)
      },
      me.ledger.networkId
    );
    expect(await validator()(peer('p'), msg(encodeEntry(twin.entry)))).toBe(TopicValidatorResult.Accept);
    await g.settled();
    expect(me.ledger.isForked(toHex(bobKeys.publicKey))).toBe(true);
  });

  it('ignores (does not forward, does not blame the carrier) a signed entry the causal rules refuse', async () => {
    const ingest = vi.spyOn(me.ledger, 'ingest');
    const g = startEntryGossip(fake.node, me.ledger, TOPIC);
    const eve = await keysFromByte(5);
    // Validly signed, own clientID, but a lamport nothing justifies (case 1 of issue 6).
    const client = clientIdOf(toHex(eve.publicKey));
    const bad = await createEntry(
      {
        keys: eve,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 2 ** 40,
        time: 1,
        clock: 1,
        payload: yUpdateAt('x', 1, client, 0)
      },
      me.ledger.networkId
    );
    expect(await validator()(peer('relay'), msg(encodeEntry(bad.entry)))).toBe(TopicValidatorResult.Ignore);
    await g.settled();
    // Remembered by the ledger as a variant of its seq (no ingest), nothing stored.
    expect(ingest).not.toHaveBeenCalled();
    expect(me.ledger.heads().some((h) => h.author === toHex(eve.publicKey))).toBe(false);
    expect(g.stats).toMatchObject({ causalIgnored: 1, rejected: 0, ingestFailed: 0 });
    expect(g.stats.rejectedByPeer.has('relay')).toBe(false);
  });

  it('a causally refused entry is remembered without an ingest or a heads read; a second variant is fork evidence', async () => {
    const g = startEntryGossip(fake.node, me.ledger, TOPIC);
    const ingest = vi.spyOn(me.ledger, 'ingest');
    const heads = vi.spyOn(me.store, 'heads');
    const at1 = async (keyByte: number, lamport: number, v: string) => {
      const k = await keysFromByte(keyByte);
      const payload = yUpdateAt('x', v, clientIdOf(toHex(k.publicKey)), 0);
      return createEntry(
        { keys: k, seq: 1, prev: new Uint8Array(32), lamport, time: 1, clock: 1, payload },
        me.ledger.networkId
      );
    };
    // A flood of refused entries of fresh keys: each is remembered, none costs an ingest (whose
    // causal refusal would rebuild the FeedSet from the store's heads).
    for (let k = 0; k < 20; k++) {
      const bad = await at1(30 + k, 2 ** 40, 'junk');
      expect(await validator()(peer('relay'), msg(encodeEntry(bad.entry)))).toBe(TopicValidatorResult.Ignore);
    }
    await g.settled();
    expect({ ingest: ingest.mock.calls.length, heads: heads.mock.calls.length }).toEqual({ ingest: 0, heads: 0 });
    // Eve's refused variant first, then her valid one: the second is fork evidence (void from 1).
    const eve = toHex((await keysFromByte(5)).publicKey);
    expect(await validator()(peer('relay'), msg(encodeEntry((await at1(5, 2 ** 40, 'bad')).entry)))).toBe(
      TopicValidatorResult.Ignore
    );
    expect(await validator()(peer('relay'), msg(encodeEntry((await at1(5, 1, 'good')).entry)))).toBe(
      TopicValidatorResult.Accept
    );
    await g.settled();
    expect(me.ledger.voidFrom(eve)).toBe(1);
    expect(g.stats).toMatchObject({ causalIgnored: 21, accepted: 1, rejected: 0 });
  });

  it('rejects bad signatures, oversized, undecodable, wrong-network and forged-payload entries, ingesting none', async () => {
    const ingest = vi.spyOn(me.ledger, 'ingest');
    const g = startEntryGossip(fake.node, me.ledger, TOPIC);
    const v = validator();

    const badSig = encodeEntry(bob[0].entry);
    badSig[badSig.length - 1] ^= 1;
    const oversized = new Uint8Array(genesis.maxEntryBytes + 1);
    const garbage = new Uint8Array(200).fill(7);
    const [foreign] = await authored(3, 1, { ...genesis, name: 'another-network' });
    const eve = await keysFromByte(4);
    // Validly signed by eve, but the Yjs payload writes as another client (a forged write).
    const forged = await createEntry(
      { keys: eve, seq: 1, prev: new Uint8Array(32), lamport: 1, time: 1, payload: yUpdate('x', 1, 12345) },
      me.ledger.networkId
    );

    const results = [];
    for (const data of [badSig, oversized, garbage, encodeEntry(foreign.entry), encodeEntry(forged.entry)]) {
      results.push(await v(peer('mallory'), msg(data)));
    }
    expect(results).toEqual(Array(5).fill(TopicValidatorResult.Reject));
    await g.settled();
    expect(ingest).not.toHaveBeenCalled();
    expect(me.ledger.stats().entries).toBe(0);
    expect(g.stats).toMatchObject({ received: 5, accepted: 0, rejected: 5 });
    expect(g.stats.rejectedByPeer.get('mallory')).toBe(5);
  });

  it('respects a tighter maxEntryBytes than the genesis', async () => {
    const bytes = encodeEntry(bob[0].entry);
    const g = startEntryGossip(fake.node, me.ledger, TOPIC, bytes.length - 1);
    expect(await validator()(peer('p'), msg(bytes))).toBe(TopicValidatorResult.Reject);
    expect(g.stats.rejected).toBe(1);
  });

  it('ignores entries the ledger already stored, without a penalty', async () => {
    const g = startEntryGossip(fake.node, me.ledger, TOPIC);
    const v = validator();
    const bytes = encodeEntry(bob[0].entry);
    expect(await v(peer('p1'), msg(bytes))).toBe(TopicValidatorResult.Accept);
    await g.settled();
    expect(await v(peer('p2'), msg(bytes))).toBe(TopicValidatorResult.Ignore);
    // Entries stored by other paths (sync, local writes) count as known too.
    await me.ledger.ingest([bob[1]]);
    expect(await v(peer('p2'), msg(encodeEntry(bob[1].entry)))).toBe(TopicValidatorResult.Ignore);
    expect(g.stats).toMatchObject({ accepted: 1, duplicates: 2, rejected: 0, stored: 1 });
    expect(g.stats.rejectedByPeer.size).toBe(0);
  });

  it('keeps the per-peer rejection counts bounded, forgetting the least recently updated peer', async () => {
    const g = startEntryGossip(fake.node, me.ledger, TOPIC, undefined, { trackedPeers: 3 });
    const v = validator();
    const junk = new Uint8Array(10);
    for (const id of ['a', 'b', 'a', 'c', 'd']) await v(peer(id), msg(junk));
    expect(Object.fromEntries(g.stats.rejectedByPeer)).toEqual({ a: 2, c: 1, d: 1 });
    for (let i = 0; i < 20; i++) await v(peer(`sybil${i}`), msg(junk));
    expect(g.stats.rejectedByPeer.size).toBe(3);
    expect(g.stats.rejected).toBe(25);
  });

  it('remembers a bounded number of stored hashes', async () => {
    const g = startEntryGossip(fake.node, me.ledger, TOPIC, undefined, { seenHashes: 1 });
    const v = validator();
    await me.ledger.ingest([bob[0], bob[1]]);
    // bob[0] was forgotten: verified again and accepted (the ledger then finds a duplicate).
    expect(await v(peer('p'), msg(encodeEntry(bob[0].entry)))).toBe(TopicValidatorResult.Accept);
    expect(await v(peer('p'), msg(encodeEntry(bob[1].entry)))).toBe(TopicValidatorResult.Ignore);
    await g.settled();
    expect(g.stats).toMatchObject({ accepted: 1, duplicates: 1, ingestFailed: 0 });
  });
});

describe('entry gossip publishing and stop', () => {
  it('publishes local entries only', async () => {
    const g = startEntryGossip(fake.node, me.ledger, TOPIC);
    const h = await me.ledger.put('mine', 1);
    await me.ledger.ingest([bob[0]]);
    await vi.waitFor(() => expect(g.stats.published).toBe(1));
    expect(fake.publish).toHaveBeenCalledTimes(1);
    expect(fake.publish.mock.calls[0][0]).toBe(TOPIC);
    expect(fake.publish.mock.calls[0][1]).toEqual(encodeEntry(h.entry));
  });

  it('stop removes the validator, unsubscribes and stops publishing', async () => {
    const g = startEntryGossip(fake.node, me.ledger, TOPIC);
    const v = validator();
    g.stop();
    expect(fake.topicValidators.has(TOPIC)).toBe(false);
    expect(fake.subscribed.has(TOPIC)).toBe(false);
    await me.ledger.put('after', 1);
    expect(fake.publish).not.toHaveBeenCalled();
    expect(await v(peer('p'), msg(encodeEntry(bob[0].entry)))).toBe(TopicValidatorResult.Ignore);
  });
});

describe('entry gossip over real gossipsub: the in-progress cap', () => {
  /** Real networking under a loaded test run: wait for conditions generously (never a fixed sleep). */
  const WAIT = { timeout: 20_000, interval: 20 };
  let net: GossipTestNode[] = [];
  afterEach(async () => {
    await Promise.all(net.map((n) => n.stop()));
    net = [];
  });

  it('a message beyond the cap is ignored: not forwarded and never delivered again; distinct later messages are processed once the queue drains', async () => {
    // A - B - C in a line: B validates (cap 2) with its ledger's ingest held; C only hears what B forwards.
    net = await Promise.all([gossipTestNode(), gossipTestNode(), gossipTestNode()]);
    const [a, b, c] = net;
    await connectLine(net);
    const release = holdIngest(me.ledger);
    let resyncs = 0;
    // Flow control off (shed: false): B stays on the topic after the drop (tested below).
    const g = startEntryGossip(
      b,
      me.ledger,
      TOPIC,
      undefined,
      { maxQueued: 2, shed: false },
      { onPending: () => resyncs++ }
    );
    const atC: string[] = [];
    c.services.pubsub.addEventListener('message', (ev) => {
      if (ev.detail.topic === TOPIC) atC.push(toHex(decodeEntry(ev.detail.data, genesis.maxEntryBytes).hash));
    });
    c.services.pubsub.subscribe(TOPIC);
    await vi.waitFor(() => {
      expect(a.services.pubsub.getSubscribers(TOPIC).map(String)).toContain(b.peerId.toString());
      expect(meshPeers(b, TOPIC)).toContain(c.peerId.toString());
    }, WAIT);

    // Three distinct entries (three authors' seq 1: none waits for another, which would hold
    // no slot of the queue) while the ledger is busy: two take the slots, one is Ignored.
    const firsts = await Promise.all([6, 7, 8].map((b) => authored(b, 1).then((l) => l[0])));
    for (const h of firsts) await a.services.pubsub.publish(TOPIC, encodeEntry(h.entry));
    await vi.waitFor(() => expect(g.stats.received).toBe(3), WAIT);
    await vi.waitFor(() => expect(g.stats).toMatchObject({ accepted: 2, dropped: 1, rejected: 0 }), WAIT);
    // Gossipsub checks each message's signature before the validator, so they may reach it in
    // any order: the two accepted are forwarded to C, the dropped one is not.
    await vi.waitFor(() => expect(atC).toHaveLength(2), WAIT);
    const dropped = firsts.find((h) => !atC.includes(toHex(h.hash)))!;

    // The queue drains: nothing stalls, the two accepted entries are stored, the dropped one is not.
    release();
    await g.settled();
    expect(me.ledger.stats().entries).toBe(2);
    const values = [6, 7, 8].map((b) => me.ledger.get(`k${b}-0`));
    expect(values).toEqual(firsts.map((h) => (h === dropped ? undefined : '0')));

    // A later distinct message is validated, stored and forwarded. It reaches C over the same
    // B -> C stream after anything B forwarded before it, so C never getting the dropped entry
    // shows B did not forward it. Gossipsub marks a message id as seen before validation, so the
    // Ignored message is never handed to the validator again: it is lost to gossip (sync's job).
    const [carol] = await authored(5, 1);
    await a.services.pubsub.publish(TOPIC, encodeEntry(carol.entry));
    await vi.waitFor(() => expect(atC).toContain(toHex(carol.hash)), WAIT);
    await g.settled();
    expect(atC).not.toContain(toHex(dropped.hash));
    expect(g.stats).toMatchObject({ received: 4, accepted: 3, dropped: 1, duplicates: 0, ingestFailed: 0 });
    expect(me.ledger.get('k5-0')).toBe('0');
    expect(me.ledger.stats().entries).toBe(3);
    // Sync is asked for what was dropped (every ingest linked: no pending entries asked for it).
    await vi.waitFor(() => expect(resyncs).toBe(1), WAIT);
  });

  it('flow control: a drop takes the node off the topic (its peers stop pushing to it, sync is asked meanwhile); it joins again once its queue is empty', async () => {
    net = await Promise.all([gossipTestNode(), gossipTestNode()]);
    const [a, b] = net;
    await connectLine(net);
    const release = holdIngest(me.ledger);
    let asked = 0;
    const g = startEntryGossip(
      b,
      me.ledger,
      TOPIC,
      undefined,
      { maxQueued: 2, shed: { minMs: 0, checkMs: 20, standingMs: 0 } },
      { onPending: () => asked++ }
    );
    const bId = b.peerId.toString();
    await vi.waitFor(() => expect(a.services.pubsub.getSubscribers(TOPIC).map(String)).toContain(bId), WAIT);
    // Three authors' seq 1: none waits for another (a wait holds no slot of the queue).
    const firsts = await Promise.all([6, 7, 8].map((b) => authored(b, 1).then((l) => l[0])));
    for (const h of firsts) await a.services.pubsub.publish(TOPIC, encodeEntry(h.entry));
    await vi.waitFor(() => expect(g.stats).toMatchObject({ accepted: 2, dropped: 1, shed: true, sheds: 1 }), WAIT);
    // Off the topic: A no longer counts B as a subscriber, so it sends B nothing more.
    await vi.waitFor(() => expect(a.services.pubsub.getSubscribers(TOPIC).map(String)).not.toContain(bId), WAIT);
    // While off, and while its queue is not empty, B stays off and keeps asking sync.
    await vi.waitFor(() => expect(asked).toBeGreaterThanOrEqual(3), WAIT);
    expect(g.stats.shed).toBe(true);
    // The queue drains: B joins again.
    release();
    await g.settled();
    await vi.waitFor(() => expect(a.services.pubsub.getSubscribers(TOPIC).map(String)).toContain(bId), WAIT);
    expect(g.stats).toMatchObject({ shed: false, sheds: 1 });
    expect(g.stats.shedMs).toBeGreaterThanOrEqual(0);
    expect(me.ledger.stats().entries).toBe(2);
  });
});
