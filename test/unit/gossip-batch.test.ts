// Batch messages on the entries topic (src/lib/core/gossip-batch.ts, PROTOCOL.md §2.6): the codec
// and its bounds, a seeded fuzz of hostile batch bytes, and how a node (worker/entry-gossip.ts),
// the relay (relay/entry-links.ts) and the outbox (worker/gossip-outbox.ts) treat them.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import * as encoding from 'lib0/encoding';
import { toHex } from '../../src/lib/core/bytes.js';
import { GOSSIP_BATCH_FORMAT, GOSSIP_BATCH_MAX_ENTRIES } from '../../src/lib/core/constants.js';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import {
  batchBytes,
  decodeGossipMessage,
  encodeGossipMessage,
  gossipMessageEntries,
  splitGossipMessage
} from '../../src/lib/core/gossip-batch.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { startEntryGossip } from '../../src/lib/worker/entry-gossip.js';
import { GossipOutbox, type OutboxOptions, type OutboxPubsub } from '../../src/lib/worker/gossip-outbox.js';
import { entryLinkGuard, IGNORE_MESSAGE } from '../../relay/entry-links.js';
import { PeerRateLimiter, rateLimitValidator } from '../../relay/gossip-guard.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { fakeGossipNode } from '../helpers/fake-gossip-node.js';

const genesis = defaultGenesis();
const net = networkId(genesis);
const TOPIC = 'tabula/test/entries';
const SEED = Number(process.env.BATCH_SEED ?? 20261203);

async function chain(keyByte: number, n: number, tag = ''): Promise<HashedEntry[]> {
  const l = await openLedger(memoryLocation(), keyByte, { genesis });
  for (let i = 0; i < n; i++) await l.ledger.put(`k${keyByte}-${i}`, `${tag}${i}`);
  return l.log;
}
const enc = (hs: readonly HashedEntry[]): Uint8Array[] => hs.map((h) => encodeEntry(h.entry));
const batch = (hs: readonly HashedEntry[]): Uint8Array => encodeGossipMessage(enc(hs));

/** A batch as a hostile peer could write it: any count, any parts. */
function rawBatch(parts: readonly Uint8Array[], count = parts.length): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeUint8(e, GOSSIP_BATCH_FORMAT);
  encoding.writeVarUint(e, count);
  for (const p of parts) encoding.writeVarUint8Array(e, p);
  return encoding.toUint8Array(e);
}

let alice: HashedEntry[];
beforeEach(async () => {
  alice = await chain(21, 6);
});

describe('gossip batch codec', () => {
  it('one entry travels as itself; several as a batch that decodes to the same entries and bytes', () => {
    const one = encodeGossipMessage(enc(alice.slice(0, 1)));
    expect(one).toEqual(encodeEntry(alice[0].entry));
    const data = batch(alice);
    expect(data[0]).toBe(GOSSIP_BATCH_FORMAT);
    expect(data.byteLength).toBe(batchBytes(enc(alice)));
    const d = decodeGossipMessage(data, genesis.maxEntryBytes);
    expect(d.entries.map((h) => h.entry.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(d.entries.map((h) => h.hash)).toEqual(alice.map((h) => h.hash));
    expect(d.encoded).toEqual(enc(alice));
    expect(splitGossipMessage(data)).toEqual(enc(alice));
    expect(gossipMessageEntries(data)).toBe(6);
    expect(gossipMessageEntries(one)).toBe(1);
  });

  it('refuses batches that are not a run of one feed, with a typed error', async () => {
    const bob = await chain(22, 2);
    const forkOf2 = (await chain(21, 2, 'fork'))[1];
    const cases: Array<[string, Uint8Array]> = [
      ['two authors', rawBatch(enc([alice[0], bob[1]]))],
      ['a hole in the seqs', rawBatch(enc([alice[0], alice[2]]))],
      ['descending', rawBatch(enc([alice[1], alice[0]]))],
      ['a duplicate', rawBatch(enc([alice[0], alice[0]]))],
      ['a fork inside (prev is not the entry before)', rawBatch(enc([forkOf2, alice[2]]))],
      ['a count of 1', rawBatch(enc([alice[0]]))],
      ['a count of 0', rawBatch([], 0)],
      ['too many', rawBatch([], GOSSIP_BATCH_MAX_ENTRIES + 1)],
      ['a count over what follows', rawBatch(enc(alice.slice(0, 2)), 3)],
      ['trailing bytes', new Uint8Array([...batch(alice.slice(0, 2)), 0])],
      ['a length overrunning the message', batch(alice.slice(0, 2)).slice(0, -1)],
      ['an unknown first byte', new Uint8Array([0xb2, ...batch(alice.slice(0, 2)).slice(1)])],
      ['an empty message', new Uint8Array(0)],
      ['a bad entry inside', rawBatch([encodeEntry(alice[0].entry), new Uint8Array(200).fill(2)])]
    ];
    for (const [what, data] of cases) {
      let code: string | undefined;
      try {
        decodeGossipMessage(data, genesis.maxEntryBytes);
      } catch (err) {
        code = (err as { name?: string }).name;
      }
      expect(code, what).toBe('MalformedEntryError');
    }
    // A non-canonical count (an over-long varint) is refused too: one message, one encoding.
    const e = encoding.createEncoder();
    encoding.writeUint8(e, GOSSIP_BATCH_FORMAT);
    encoding.writeUint8(e, 0x82);
    encoding.writeUint8(e, 0x00);
    for (const p of enc(alice.slice(0, 2))) encoding.writeVarUint8Array(e, p);
    expect(() => decodeGossipMessage(encoding.toUint8Array(e), genesis.maxEntryBytes)).toThrow(/canonical/);
  });

  it('checks the size before parsing: a batch over the limit is oversized', () => {
    const data = batch(alice);
    expect(() => decodeGossipMessage(data, data.byteLength - 1)).toThrow(
      expect.objectContaining({ name: 'OversizedEntryError' })
    );
  });

  it(`seeded fuzz (seed ${SEED}, BATCH_SEED): mutated batches decode to a run of one feed or throw a typed error`, () => {
    console.log(`gossip batch fuzz seed ${SEED}`);
    let s = SEED >>> 0;
    const rnd = (n: number): number => {
      s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
      return s % n;
    };
    const base = batch(alice);
    let decoded = 0;
    for (let i = 0; i < 3_000; i++) {
      const data = base.slice(0, rnd(4) === 0 ? rnd(base.length + 1) : base.length);
      for (let k = rnd(4); k >= 0; k--) if (data.length > 0) data[rnd(data.length)] = rnd(256);
      try {
        const d = decodeGossipMessage(data, genesis.maxEntryBytes);
        decoded++;
        for (let j = 1; j < d.entries.length; j++) expect(d.entries[j].entry.prev).toEqual(d.entries[j - 1].hash);
      } catch (err) {
        expect(['MalformedEntryError', 'OversizedEntryError']).toContain((err as Error).name);
      }
    }
    // The mutations leave some batches intact (a byte set to its own value, a cut at the end).
    expect(decoded).toBeGreaterThan(0);
  });
});

const peer = (id: string): PeerId => ({ toString: () => id }) as unknown as PeerId;
const msg = (data: Uint8Array): Message => ({ type: 'unsigned', topic: TOPIC, data });

function fakeNode() {
  const f = fakeGossipNode();
  return { node: f.node, validate: () => f.topicValidators.get(TOPIC)! };
}

describe('a node judging batches (entry gossip)', () => {
  let me: TestLedger;
  beforeEach(async () => {
    me = await openLedger(memoryLocation(), 1, { genesis });
  });

  it('accepts a run that links and stores all of it; a second copy is a duplicate', async () => {
    const f = fakeNode();
    const g = startEntryGossip(f.node, me.ledger, TOPIC);
    expect(await f.validate()(peer('p'), msg(batch(alice)))).toBe(TopicValidatorResult.Accept);
    await g.settled();
    expect(me.ledger.stats().entries).toBe(6);
    expect(g.stats).toMatchObject({ received: 1, receivedEntries: 6, accepted: 6, stored: 6, rejected: 0 });
    expect(await f.validate()(peer('q'), msg(batch(alice)))).toBe(TopicValidatorResult.Ignore);
    expect(g.stats.duplicates).toBe(6);
    g.stop();
  });

  it('a run that overlaps what is stored: the new entries are accepted, the stored ones not verified again', async () => {
    const f = fakeNode();
    const g = startEntryGossip(f.node, me.ledger, TOPIC);
    await me.ledger.ingest(alice.slice(0, 3)); // by sync, say: gossip sees them stored
    expect(await f.validate()(peer('p'), msg(batch(alice.slice(1))))).toBe(TopicValidatorResult.Accept);
    await g.settled();
    expect(me.ledger.stats().entries).toBe(6);
    expect(g.stats).toMatchObject({ duplicates: 2, accepted: 3 });
    g.stop();
  });

  it('one bad signature rejects the whole batch: nothing stored, the sender blamed', async () => {
    const f = fakeNode();
    const g = startEntryGossip(f.node, me.ledger, TOPIC);
    const parts = enc(alice);
    parts[4][parts[4].length - 1] ^= 1;
    expect(await f.validate()(peer('mallory'), msg(encodeGossipMessage(parts)))).toBe(TopicValidatorResult.Reject);
    await g.settled();
    expect(me.ledger.stats().entries).toBe(0);
    expect(g.stats).toMatchObject({ rejected: 1, accepted: 0 });
    expect(g.stats.rejectedByPeer.get('mallory')).toBe(1);
    g.stop();
  });

  it('a malformed batch is rejected before anything is verified or queued', async () => {
    const f = fakeNode();
    const g = startEntryGossip(f.node, me.ledger, TOPIC);
    const verdict = await f.validate()(peer('mallory'), msg(rawBatch(enc([alice[0], alice[2]]))));
    expect(verdict).toBe(TopicValidatorResult.Reject);
    expect(g.stats).toMatchObject({ rejected: 1, inProgress: 0, inProgressBytes: 0 });
    g.stop();
  });

  it('the causal rules judge every entry of a run, each on top of the ones before it, in one precheck per message', async () => {
    const f = fakeNode();
    const g = startEntryGossip(f.node, me.ledger, TOPIC);
    const precheckRun = vi.spyOn(me.ledger, 'precheckRun');
    expect(await f.validate()(peer('p'), msg(batch(alice)))).toBe(TopicValidatorResult.Accept);
    expect(precheckRun).toHaveBeenCalledTimes(1);
    expect(await precheckRun.mock.results[0].value).toEqual({ verdict: 'ok', at: 6 });
    await g.settled();
    expect(me.ledger.stats().entries).toBe(6);
    g.stop();
  });

  it('a run whose entries overwrite and delete what the run wrote before them passes the precheck whole', async () => {
    const f = fakeNode();
    const g = startEntryGossip(f.node, me.ledger, TOPIC);
    const author = await openLedger(memoryLocation(), 26, { genesis });
    await author.ledger.put('same', 'v1');
    await author.ledger.put('same', 'v2');
    await author.ledger.delete('same');
    await author.ledger.put('same', 'v3');
    expect(await me.ledger.precheckRun(author.log)).toEqual({ verdict: 'ok', at: 4 });
    expect(await f.validate()(peer('p'), msg(batch(author.log)))).toBe(TopicValidatorResult.Accept);
    await g.settled();
    expect(me.ledger.get('same')).toBe('v3');
    g.stop();
  });

  it('a run hiding a causally refused entry behind a valid head is Ignored (not forwarded), the carrier not blamed', async () => {
    const f = fakeNode();
    const g = startEntryGossip(f.node, me.ledger, TOPIC);
    const eve = await keysFromByte(25);
    const client = clientIdOf(toHex(eve.publicKey));
    const at = (seq: number, prev: Uint8Array, lamport: number, v: string) =>
      createEntry(
        { keys: eve, seq, prev, lamport, time: 1, clock: seq, payload: yUpdateAt(`e${seq}`, v, client, seq - 1) },
        net
      );
    const first = await at(1, new Uint8Array(32), 1, 'ok');
    // Validly signed and linked, but a lamport nothing justifies (PROTOCOL.md §5.3).
    const second = await at(2, first.hash, 2 ** 40, 'bad');
    const third = await at(3, second.hash, 2 ** 40 + 1, 'after');
    expect(await f.validate()(peer('relay'), msg(batch([first, second, third])))).toBe(TopicValidatorResult.Ignore);
    await g.settled();
    expect(g.stats).toMatchObject({ causalIgnored: 1, accepted: 0, rejected: 0 });
    expect(g.stats.rejectedByPeer.has('relay')).toBe(false);
    // The valid head is stored all the same; the refused entry and what follows it are not.
    expect(me.ledger.heads().find((h) => h.author === toHex(eve.publicKey))?.seq).toBe(1);
    expect(me.ledger.stats()).toMatchObject({ entries: 1 });
    g.stop();
  });

  it('a run after a gap is Ignored (not forwarded) and held by the ledger until its predecessor comes', async () => {
    const f = fakeNode();
    const onPending = vi.fn();
    const g = startEntryGossip(f.node, me.ledger, TOPIC, undefined, { links: { waitMs: 20 } }, { onPending });
    expect(await f.validate()(peer('relay'), msg(batch(alice.slice(2))))).toBe(TopicValidatorResult.Ignore);
    await g.settled();
    expect(me.ledger.stats()).toMatchObject({ entries: 0, pending: 4 });
    expect(g.stats).toMatchObject({ unlinked: 4, accepted: 0, rejected: 0 });
    expect(onPending).toHaveBeenCalled();
    expect(await f.validate()(peer('p'), msg(batch(alice.slice(0, 2))))).toBe(TopicValidatorResult.Accept);
    await g.settled();
    expect(me.ledger.stats()).toMatchObject({ entries: 6, pending: 0 });
    expect(g.stats.inProgress).toBe(0);
    g.stop();
  });

  it('batches validated out of order: the later one waits for the earlier one and both pass', async () => {
    const f = fakeNode();
    const g = startEntryGossip(f.node, me.ledger, TOPIC);
    const later = f.validate()(peer('p'), msg(batch(alice.slice(3))));
    const earlier = f.validate()(peer('p'), msg(batch(alice.slice(0, 3))));
    expect(await Promise.all([later, earlier])).toEqual([TopicValidatorResult.Accept, TopicValidatorResult.Accept]);
    await g.settled();
    expect(me.ledger.stats().entries).toBe(6);
    g.stop();
  });
});

describe(`a node judging hostile batches (seeded, seed ${SEED})`, () => {
  it('a batch is stored whole or not at all: an Accepted one entirely, a Rejected one not at all', async () => {
    let s = (SEED ^ 0x5bd1e995) >>> 0;
    const rnd = (n: number): number => {
      s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
      return s % n;
    };
    const seen = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const me = await openLedger(memoryLocation(), 1, { genesis });
      const f = fakeNode();
      const g = startEntryGossip(f.node, me.ledger, TOPIC, undefined, { links: { waitMs: 0 } });
      const parts = enc(alice);
      const where = rnd(3);
      if (where === 0) {
        // One entry damaged inside a well-formed frame.
        const p = parts[rnd(parts.length)];
        p[rnd(p.length)] ^= 1 << rnd(8);
      }
      let data = encodeGossipMessage(parts);
      if (where === 1) {
        // The frame itself damaged.
        data = data.slice();
        data[rnd(Math.min(data.length, 12))] ^= 1 << rnd(8);
      }
      const verdict = await f.validate()(peer('mallory'), msg(data));
      await g.settled();
      const stored = me.ledger.stats().entries;
      seen.set(`${where}:${verdict}`, (seen.get(`${where}:${verdict}`) ?? 0) + 1);
      if (verdict === TopicValidatorResult.Accept) expect(stored).toBe(alice.length);
      else expect(stored, `case ${i}: ${verdict} stored ${stored}`).toBe(0);
      if (where === 2) expect(verdict).toBe(TopicValidatorResult.Accept);
      g.stop();
    }
    console.log('hostile batches:', [...seen].map(([k, n]) => `${k}=${n}`).join(' '));
    expect(seen.get(`0:${TopicValidatorResult.Reject}`)).toBeGreaterThan(0);
  });
});

describe('the relay judging batches (entryLinkGuard)', () => {
  it('forwards a run that links, Ignores one after a gap and learns it once the gap passes, rejects junk', async () => {
    const gaps: Uint8Array[] = [];
    const g = entryLinkGuard(net, genesis, undefined, (d) => gaps.push(d));
    expect(await g.validate(batch(alice.slice(0, 2)))).toBe(true);
    expect(await g.validate(batch(alice.slice(3)))).toBe(IGNORE_MESSAGE); // seq 3 is late (after the wait)
    expect(gaps).toEqual(enc(alice.slice(3))); // an archive holds each entry
    expect(await g.validate(encodeEntry(alice[2].entry))).toBe(true);
    // Seqs 4-6 were parked and learnt with seq 3: what goes on from seq 7 links.
    expect(await g.links.check(toHex(alice[0].entry.author), 7, toHex(alice[5].hash))).toBe('links');
    const parts = enc(alice.slice(0, 2));
    parts[1][parts[1].length - 1] ^= 1;
    expect(await g.validate(encodeGossipMessage(parts))).toBe('bad-signature');
  });

  it('a rejected batch does not make an honest run sharing one of its entries a gap (review of 2026-12-03)', async () => {
    const es = await chain(23, 12);
    const g = entryLinkGuard(net, genesis);
    expect(await g.validate(batch(es.slice(0, 2)))).toBe(true); // seqs 1-2
    const forged = enc(es.slice(8, 10)); // honest seq 9, forged seq 10
    forged[1][forged[1].length - 1] ^= 1;
    const h = g.validate(encodeGossipMessage(forged));
    const a = g.validate(batch(es.slice(3, 9))); // seqs 4-9, waiting for seq 3
    expect(await h).toBe('bad-signature');
    let bVerdict: unknown;
    const b = g.validate(batch(es.slice(9, 12))).then((v) => (bVerdict = v)); // seqs 10-12
    // B has judged its link (a gap at once, the bug) or waits for seq 9 (A's) with A.
    await vi.waitFor(() => expect(bVerdict !== undefined || g.links.waiting >= 2).toBe(true), { timeout: 5_000 });
    expect(await g.validate(encodeEntry(es[2].entry))).toBe(true); // seq 3 comes
    expect(await Promise.all([a, b])).toEqual([true, true]);
    expect(g.links.counts.afterUnlinked).toBe(0);
    expect(await g.validate(rawBatch(enc([alice[0], alice[0]])))).toBe('malformed-entry');
  });
});

describe("the relay's per-peer rate counts a batch's entries", () => {
  it('a batch of 64 takes 64 tokens; one over what is left is Ignored and struck', () => {
    const limiter = new PeerRateLimiter({ rate: 1, burst: 100, strikeHalfLifeMs: 10_000 }, () => 0);
    const validate = rateLimitValidator(limiter, (m) => gossipMessageEntries(m.data));
    const p = peer('writer');
    const full = batch(alice);
    expect(validate(p, msg(full))).toBe(TopicValidatorResult.Accept); // 6 of 100
    for (let i = 0; i < 15; i++) expect(validate(p, msg(full))).toBe(TopicValidatorResult.Accept); // 96
    expect(validate(p, msg(full))).toBe(TopicValidatorResult.Ignore); // 4 left, 6 asked
    expect(limiter.strikes('writer')).toBe(1);
    expect(validate(p, msg(encodeEntry(alice[0].entry)))).toBe(TopicValidatorResult.Accept); // a single entry: 1
  });

  it('junk claiming no entries still costs one token (the rate limit runs before any content check)', () => {
    expect(gossipMessageEntries(new Uint8Array([GOSSIP_BATCH_FORMAT, 0]))).toBe(1);
    expect(gossipMessageEntries(new Uint8Array([GOSSIP_BATCH_FORMAT, 0x80, 0x00]))).toBe(1);
    expect(gossipMessageEntries(new Uint8Array([GOSSIP_BATCH_FORMAT, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toBe(64);
    expect(gossipMessageEntries(new Uint8Array([GOSSIP_BATCH_FORMAT]))).toBe(1);
    const limiter = new PeerRateLimiter({ rate: 1, burst: 2, strikeHalfLifeMs: 10_000 }, () => 0);
    const validate = rateLimitValidator(limiter, (m) => gossipMessageEntries(m.data));
    const verdicts = Array.from({ length: 10 }, () =>
      validate(peer('mallory'), msg(new Uint8Array([GOSSIP_BATCH_FORMAT, 0])))
    );
    expect(verdicts.filter((v) => v === TopicValidatorResult.Accept)).toHaveLength(2);
    expect(limiter.strikes('mallory')).toBe(8);
    // A batch bigger than the bucket (a relay run with a low --gossip-rate) costs the whole bucket.
    const small = new PeerRateLimiter({ rate: 1, burst: 2, strikeHalfLifeMs: 10_000 }, () => 0);
    expect(small.take('writer', 64)).toBe(true);
    expect(small.take('writer', 1)).toBe(false);
  });
});

describe('the outbox batching its own entries', () => {
  function pubsub() {
    const messages: number[][] = [];
    const sizes: number[] = [];
    const p: OutboxPubsub = {
      publish: async (_t, data) => {
        sizes.push(data.byteLength);
        messages.push(decodeGossipMessage(data, genesis.maxEntryBytes).entries.map((h) => h.entry.seq));
        return { recipients: [1] };
      },
      getSubscribers: () => [1],
      addEventListener: () => undefined,
      removeEventListener: () => undefined
    };
    return { p, messages, sizes };
  }

  /** An outbox holding `log` as local appends (nobody subscribed yet), then attached to a recording pubsub. */
  function heldThenAttached(log: HashedEntry[], opts: Partial<OutboxOptions>) {
    let cb: ((h: HashedEntry, o: 'local') => void) | undefined;
    const source = { onAppend: (f: typeof cb) => ((cb = f), () => (cb = undefined)) };
    const outbox = new GossipOutbox(source as never, { maxHeld: 64, ...opts });
    for (const h of log) cb!(h, 'local');
    const f = pubsub();
    outbox.attach(f.p, TOPIC);
    return { outbox, f };
  }

  it('a lone write goes alone at once; entries waiting together go as one batch', async () => {
    const me = await openLedger(memoryLocation(), 3, { genesis });
    const outbox = new GossipOutbox(me.ledger);
    const f = pubsub();
    outbox.attach(f.p, TOPIC);
    await me.ledger.put('a', 1);
    await outbox.settled();
    expect(f.messages).toEqual([[1]]);
    outbox.stop();
    const held = new GossipOutbox(me.ledger);
    for (let i = 0; i < 5; i++) await me.ledger.put(`b${i}`, i); // no subscriber yet: held
    held.attach(f.p, TOPIC);
    await held.settled();
    expect(f.messages.slice(1)).toEqual([[2, 3, 4, 5, 6]]);
    expect(held.stats).toMatchObject({ published: 5, messages: 1 });
    held.stop();
  });

  it("paces by entries: a batch takes at most the tokens there are, and waits for a batch's worth", async () => {
    vi.useFakeTimers();
    try {
      const { outbox, f } = heldThenAttached(await chain(5, 30), { ratePerSecond: 10, burst: 8 });
      await vi.advanceTimersByTimeAsync(0);
      expect(f.messages).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]]); // the burst
      // Then it waits for tokens enough for a full batch (8, the bucket's size) at 10 a second.
      await vi.advanceTimersByTimeAsync(1_000);
      expect(f.messages).toEqual([
        [1, 2, 3, 4, 5, 6, 7, 8],
        [9, 10, 11, 12, 13, 14, 15, 16]
      ]);
      await vi.advanceTimersByTimeAsync(2_000);
      expect(f.messages.flat()).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(f.messages.map((m) => m.length)).toEqual([8, 8, 8, 6]);
      outbox.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('odd pacing options are made whole: a fractional burst does not stall it', async () => {
    vi.useFakeTimers();
    try {
      const { outbox, f } = heldThenAttached(await chain(6, 6), { ratePerSecond: 10, burst: 1.5 });
      await vi.advanceTimersByTimeAsync(1_000);
      expect(f.messages.flat()).toEqual([1, 2, 3, 4, 5, 6]);
      expect(f.messages.every((m) => m.length === 1)).toBe(true);
      outbox.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a batch never goes over maxMessageBytes nor batchEntries, and ends at a hole left by a dropped entry', async () => {
    const log = await chain(4, 12);
    const sizes = enc(log).map((b) => b.byteLength);
    let cb: ((h: HashedEntry, o: 'local') => void) | undefined;
    const source = { onAppend: (f: typeof cb) => ((cb = f), () => (cb = undefined)) };
    const limit = sizes[0] * 3 + 10; // room for three entries and the header, not four
    const outbox = new GossipOutbox(source as never, { maxMessageBytes: limit, maxHeld: 12, batchEntries: 4 });
    for (const h of log.slice(0, 7)) cb!(h, 'local');
    for (const h of log.slice(8)) cb!(h, 'local'); // seq 8 never reached the outbox
    const f = pubsub();
    outbox.attach(f.p, TOPIC);
    await outbox.settled();
    expect(f.messages).toEqual([[1, 2, 3], [4, 5, 6], [7], [9, 10, 11], [12]]);
    expect(Math.max(...f.sizes)).toBeLessThanOrEqual(limit);
    outbox.stop();
    const four = new GossipOutbox(source as never, { maxHeld: 12, batchEntries: 4 });
    for (const h of log) cb!(h, 'local');
    const g = pubsub();
    four.attach(g.p, TOPIC);
    await four.settled();
    expect(g.messages).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12]
    ]);
    four.stop();
  });
});
