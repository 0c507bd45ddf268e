// The write path under load (issues 11 and 12): the ledger's queue timings, Ledger.idle, one
// verification per entry for gossip + ingest, and gossip batching while the ledger is busy.
import { describe, expect, it, vi } from 'vitest';
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { decodeEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { networkId } from '../../src/lib/core/genesis.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { QueueClock } from '../../src/lib/core/write-timings.js';
import { VerifiedEntries, verifyHashed } from '../../src/lib/core/verified-entries.js';
import { startEntryGossip, type GossipNode } from '../../src/lib/worker/entry-gossip.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { untilImmediate as until } from '../helpers/poll.js';

/** A memory store whose local appends wait at a gate until released. */
class GatedStore extends MemoryLedgerStore {
  private gate: Promise<void> | null = null;
  private unblock: (() => void) | null = null;
  appends = 0;
  /** appendLocalBatch fails (storing nothing) while set. */
  failBatches = false;
  /** Store calls in order: 'local:<entries>' or 'ingest:<entries>'. */
  log: string[] = [];
  override async ingest(batch: readonly HashedEntry[]): ReturnType<MemoryLedgerStore['ingest']> {
    this.log.push(`ingest:${batch.length}`);
    return super.ingest(batch);
  }
  hold(): void {
    this.gate = new Promise((r) => (this.unblock = r));
  }
  release(): void {
    this.gate = null;
    this.unblock?.();
  }
  override async appendLocal(h: HashedEntry): Promise<void> {
    this.appends++;
    this.log.push('local:1');
    if (this.gate) await this.gate;
    return super.appendLocal(h);
  }
  override async appendLocalBatch(batch: readonly HashedEntry[]): Promise<void> {
    this.appends++;
    this.log.push(`local:${batch.length}`);
    if (this.gate) await this.gate;
    if (this.failBatches) throw new Error('batch refused');
    return super.appendLocalBatch(batch);
  }
}

/** `n` entries of a fresh ledger with key byte `keyByte`. */
async function authored(keyByte: number, n: number): Promise<HashedEntry[]> {
  const other = await openLedger(memoryLocation(), keyByte);
  for (let i = 0; i < n; i++) await other.ledger.put(`k${keyByte}-${i}`, i);
  await other.ledger.close();
  return other.log;
}

describe('QueueClock', () => {
  it('sums waits, prepare and commit times per group and ingest steps', () => {
    let t = 100;
    const c = new QueueClock(() => t);
    t = 130;
    c.groupStarted([100, 110, 120]);
    c.prepared(4);
    c.committed(10);
    c.groupStarted([125]);
    c.committed(25);
    c.ingested(7);
    expect(c.snapshot()).toEqual({
      groups: 2,
      writes: 4,
      maxGroup: 3,
      waitMs: 35,
      // Each write's own wait: 30 + 20 + 10 in the first group, 5 in the second.
      writeWaitMs: 65,
      prepareMs: 4,
      commitMs: 35,
      maxCommitMs: 25,
      ingests: 1,
      ingestMs: 7
    });
  });
});

describe('Ledger queue timings and idle()', () => {
  it('stats().queue counts every group with its writes, its commit and each ingest step', async () => {
    const store = new GatedStore();
    const t = await openLedger(memoryLocation(), 1, { store });
    store.hold();
    const first = t.ledger.put('a', 1);
    await until(() => store.appends === 1);
    const rest = [t.ledger.put('b', 2), t.ledger.put('c', 3), t.ledger.put('d', 4)];
    store.release();
    await Promise.all([first, ...rest]);
    await t.ledger.ingest(await authored(2, 2));
    const q = t.ledger.stats({ digest: false }).queue;
    expect(q).toMatchObject({ groups: 2, writes: 4, maxGroup: 3, ingests: 1 });
    expect(q.commitMs).toBeGreaterThanOrEqual(0);
    await t.ledger.close();
  });

  it('idle() resolves only after the work queued before it, and still resolves once the ledger is closed', async () => {
    const store = new GatedStore();
    const t = await openLedger(memoryLocation(), 1, { store });
    store.hold();
    const put = t.ledger.put('a', 1);
    let idle = false;
    const waiting = t.ledger.idle().then(() => (idle = true));
    await until(() => store.appends === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(idle).toBe(false); // the put's commit is still held
    store.release();
    await put;
    await waiting;
    expect(idle).toBe(true);
    await t.ledger.close();
    await expect(t.ledger.idle()).resolves.toBeUndefined();
  });
});

describe('verified entries: one verification per entry and process', () => {
  const id = networkId(genesis);

  it('remembers a verified entry; a different entry (one signature byte changed) is verified and refused', async () => {
    const [h] = await authored(3, 1);
    const cache = new VerifiedEntries(16);
    await verifyHashed(h, id, genesis, cache);
    expect(cache.has(Buffer.from(id).toString('hex'), h.hash)).toBe(true);
    const bytes = encodeEntry(h.entry);
    bytes[bytes.length - 1] ^= 1; // inside the signature: another entry, another hash
    const forged = decodeEntry(bytes, genesis.maxEntryBytes);
    await expect(verifyHashed(forged, id, genesis, cache)).rejects.toMatchObject({ name: 'BadSignatureError' });
    expect(cache.size).toBe(1); // failures are not remembered
  });

  it('a key is per network: the same entry on another network is verified again (and refused)', async () => {
    const [h] = await authored(4, 1);
    const cache = new VerifiedEntries(16);
    await verifyHashed(h, id, genesis, cache);
    const other = new Uint8Array(id);
    other[0] ^= 0xff;
    await expect(verifyHashed(h, other, genesis, cache)).rejects.toMatchObject({ name: 'WrongNetworkError' });
  });

  it('is bounded: the oldest key is forgotten first', () => {
    const cache = new VerifiedEntries(2);
    const k = (b: number) => new Uint8Array(32).fill(b);
    cache.add('n', k(1));
    cache.add('n', k(2));
    cache.add('n', k(3));
    expect([cache.has('n', k(1)), cache.has('n', k(2)), cache.has('n', k(3))]).toEqual([false, true, true]);
  });
});

describe('entry gossip under load', () => {
  const TOPIC = 'test/entries';
  function fakeNode(): { node: GossipNode; validator: () => TopicValidatorFn } {
    const validators = new Map<string, TopicValidatorFn>();
    const pubsub = {
      topicValidators: validators,
      subscribe: () => undefined,
      unsubscribe: () => undefined,
      publish: vi.fn(async () => ({ recipients: [] }))
    };
    return { node: { services: { pubsub } } as unknown as GossipNode, validator: () => validators.get(TOPIC)! };
  }
  const peer = { toString: () => 'p' } as unknown as PeerId;
  const msg = (h: HashedEntry): Message => ({ type: 'unsigned', topic: TOPIC, data: encodeEntry(h.entry) });

  it('entries that arrive while the ledger is busy go to the ledger in one ingest call, all stored', async () => {
    const store = new GatedStore();
    const t = await openLedger(memoryLocation(), 1, { store });
    const fake = fakeNode();
    const g = startEntryGossip(fake.node, t.ledger, TOPIC);
    const ingest = vi.spyOn(t.ledger, 'ingest');
    const bob = await authored(5, 6);
    store.hold();
    const put = t.ledger.put('mine', 1); // holds the ledger's queue at its commit
    await until(() => store.appends === 1);
    const verdicts = bob.map((h) => fake.validator()(peer, msg(h)));
    await Promise.all(verdicts);
    await new Promise((r) => setTimeout(r, 20));
    store.release();
    await put;
    await g.settled();
    expect(ingest.mock.calls.map((c) => c[0].length)).toEqual([6]);
    expect(t.ledger.head(bob[0].entry.author.reduce((s, b) => s + b.toString(16).padStart(2, '0'), ''))?.seq).toBe(6);
    g.stop();
    await t.ledger.close();
  });
});

describe('group commit across queued replicated ingest', () => {
  const id = networkId(genesis);
  /** Entries of another author, already verified in this process (as gossip leaves them). */
  async function preverified(keyByte: number, n: number): Promise<HashedEntry[]> {
    const list = await authored(keyByte, n);
    for (const h of list) await verifyHashed(h, id, genesis);
    return list;
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('a write requested while an ingest waits behind the open group joins that group (one commit); the ingest follows', async () => {
    const store = new GatedStore();
    const t = await openLedger(memoryLocation(), 1, { store });
    const bob = await preverified(6, 3);
    store.hold();
    const a = t.ledger.put('a', 1);
    await until(() => store.appends === 1); // a's commit is in flight
    const b = t.ledger.put('b', 2); // opens the next group
    const ingested = t.ledger.ingest(bob);
    await tick(); // the ingest step is queued behind b's group
    const c = t.ledger.put('c', 3);
    store.release();
    const [, hb, hc] = await Promise.all([a, b, c]);
    expect((await ingested).added).toBe(3);
    expect(store.log).toEqual(['local:1', 'local:2', 'ingest:3']);
    expect([hb.entry.seq, hc.entry.seq]).toEqual([2, 3]);
    expect(hc.entry.prev).toEqual(hb.hash);
    expect([t.ledger.get('b'), t.ledger.get('c'), t.ledger.get('k6-2')]).toEqual([2, 3, 2]);
    await t.ledger.close();
  });

  it('an atomic ingest (an import) is a barrier: a write requested after it commits after it', async () => {
    const store = new GatedStore();
    const t = await openLedger(memoryLocation(), 1, { store });
    const bob = await preverified(7, 2);
    store.hold();
    const a = t.ledger.put('a', 1);
    await until(() => store.appends === 1);
    const b = t.ledger.put('b', 2);
    const imported = t.ledger.ingest(bob, { atomic: true });
    await tick();
    const c = t.ledger.put('c', 3);
    store.release();
    await Promise.all([a, b, c, imported]);
    expect(store.log).toEqual(['local:1', 'local:1', 'ingest:2', 'local:1']);
    await t.ledger.close();
  });

  it('a failing commit of a group joined across an ingest rejects exactly its writes, stores none of them; the ingest lands', async () => {
    const store = new GatedStore();
    const t = await openLedger(memoryLocation(), 1, { store });
    const bob = await preverified(8, 2);
    store.hold();
    const a = t.ledger.put('a', 1);
    await until(() => store.appends === 1);
    const b = t.ledger.put('b', 2);
    const ingested = t.ledger.ingest(bob);
    await tick();
    const c = t.ledger.put('c', 3);
    store.failBatches = true;
    store.release();
    await expect(a).resolves.toMatchObject({ entry: { seq: 1 } });
    await expect(b).rejects.toThrow('batch refused');
    await expect(c).rejects.toThrow('batch refused');
    expect((await ingested).added).toBe(2);
    expect(store.log).toEqual(['local:1', 'local:2', 'ingest:2']);
    // Nothing of the failed group is stored or visible; the chain goes on from the durable head.
    expect([t.ledger.get('a'), t.ledger.get('b'), t.ledger.get('c'), t.ledger.get('k8-1')]).toEqual([
      1,
      undefined,
      undefined,
      1
    ]);
    expect((await store.getHead(t.ledger.author))?.seq).toBe(1);
    store.failBatches = false;
    await expect(t.ledger.put('d', 4)).resolves.toMatchObject({ entry: { seq: 2 } });
    await t.ledger.close();
  });
});
