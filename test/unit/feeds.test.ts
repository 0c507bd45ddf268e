import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FeedSet, type FeedIngestResult } from '../../src/lib/core/feeds.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { toHex } from '../../src/lib/core/bytes.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte, makeChain, yUpdate } from '../helpers/ledger-fixtures.js';
import { MAX_PENDING_BYTES, PENDING_ENTRY_OVERHEAD_BYTES, PENDING_MAX_AGE_MS } from '../../src/lib/core/constants.js';
import { voidHead } from '../../src/lib/core/void.js';

const netId = networkId(defaultGenesis());
const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31);
console.log('feeds.test seed', seed);

let alice: IdentityKeys;
let A: HashedEntry[]; // alice seq 1..8
let A3x: HashedEntry; // a second, different alice seq 3 (fork)
let A4x: HashedEntry; // child of A3x
let authors: { keys: IdentityKeys; chain: HashedEntry[] }[];

beforeAll(async () => {
  alice = await keysFromByte(1);
  A = await makeChain(alice, 8, netId);
  [A3x, A4x] = await makeChain(alice, 2, netId, A[1], 'fork');
  authors = [];
  for (let i = 0; i < 4; i++) {
    const keys = await keysFromByte(10 + i);
    authors.push({ keys, chain: await makeChain(keys, 6, netId) });
  }
});

const hex = (h: HashedEntry): string => toHex(h.hash);
const seqs = (r: FeedIngestResult): number[] => (r.kind === 'appended' ? r.entries.map((e) => e.entry.seq) : []);
const aliceHex = (): string => toHex(alice.publicKey);

describe('FeedSet', () => {
  it('appends in order and reports heads', () => {
    const fs = new FeedSet();
    expect(fs.head(aliceHex())).toBeUndefined();
    for (const h of A.slice(0, 3)) expect(seqs(fs.ingest(h))).toEqual([h.entry.seq]);
    expect(fs.heads()).toEqual([{ author: aliceHex(), seq: 3, hash: hex(A[2]) }]);
  });

  it('holds entries past a gap as pending and releases them in order when the gap closes', () => {
    const fs = new FeedSet();
    fs.ingest(A[0]);
    expect(fs.ingest(A[4])).toEqual({ kind: 'pending', missing: { author: aliceHex(), fromSeq: 2, toSeq: 4 } });
    expect(fs.ingest(A[5]).kind).toBe('pending');
    expect(fs.ingest(A[2])).toEqual({ kind: 'pending', missing: { author: aliceHex(), fromSeq: 2, toSeq: 2 } });
    expect(fs.missing()).toEqual([
      { author: aliceHex(), fromSeq: 2, toSeq: 2 },
      { author: aliceHex(), fromSeq: 4, toSeq: 4 }
    ]);
    expect(fs.pendingCount()).toBe(3);
    expect(seqs(fs.ingest(A[1]))).toEqual([2, 3]);
    expect(fs.head(aliceHex())?.seq).toBe(3);
    expect(seqs(fs.ingest(A[3]))).toEqual([4, 5, 6]);
    expect(fs.pendingCount()).toBe(0);
    expect(fs.missing()).toEqual([]);
    expect(fs.head(aliceHex())).toEqual({ author: aliceHex(), seq: 6, hash: hex(A[5]) });
  });

  it('drops exact duplicates, appended or pending', () => {
    const fs = new FeedSet();
    fs.ingest(A[0]);
    fs.ingest(A[2]);
    expect(fs.ingest(A[0]).kind).toBe('duplicate');
    expect(fs.ingest(A[2]).kind).toBe('duplicate');
    expect(fs.pendingCount()).toBe(1);
  });

  it('detects a fork against the chain: both are kept as evidence and the feed is void from there', () => {
    const fs = new FeedSet({ now: () => 42 });
    A.slice(0, 4).forEach((h) => fs.ingest(h));
    const r = fs.ingest(A3x);
    expect(r.kind).toBe('fork');
    expect(fs.isForked(aliceHex())).toBe(true);
    expect(fs.forks()).toEqual([{ author: aliceHex(), seq: 3, a: A[2], b: A3x, detectedAt: 42 }]);
    expect(fs.head(aliceHex())).toEqual(voidHead(aliceHex(), 3, { seq: 2, hash: hex(A[1]) }));
    expect(fs.appliedHead(aliceHex())).toEqual({ seq: 2, hash: hex(A[1]) });
    expect(fs.appliedCount()).toBe(2);
    expect(fs.ingest(A3x).kind).toBe('duplicate'); // no second evidence for the same variant
    expect(fs.ingest(A4x)).toEqual({ kind: 'dropped', reason: 'forked-branch' });
    expect(fs.forks()).toHaveLength(1);
    expect(fs.ingest(A[4])).toEqual({ kind: 'dropped', reason: 'forked-branch' }); // nothing joins a void feed
  });

  it('a fork below a known one moves the void down; the void head sorts above any real head', async () => {
    const fs = new FeedSet();
    A.slice(0, 5).forEach((h) => fs.ingest(h));
    fs.ingest(A4x);
    expect(fs.voidFrom(aliceHex())).toBe(4);
    const A2x = await createEntry({ ...A[1].entry, keys: alice, time: A[1].entry.time + 7 }, netId);
    expect(fs.ingest(A2x).kind).toBe('fork');
    expect(fs.voidFrom(aliceHex())).toBe(2);
    expect(fs.head(aliceHex())).toEqual(voidHead(aliceHex(), 2, { seq: 1, hash: hex(A[0]) }));
    expect(fs.head(aliceHex())!.seq).toBeGreaterThan(voidHead(aliceHex(), 4).seq);
    expect(fs.head(aliceHex())!.seq).toBeGreaterThan(2 ** 52);
  });

  it('detects a fork among pending entries', () => {
    const fs = new FeedSet();
    fs.ingest(A[0]);
    fs.ingest(A[2]);
    const r = fs.ingest(A3x);
    expect(r.kind === 'fork' && r.evidence.a === A[2] && r.evidence.b === A3x).toBe(true);
    expect(fs.isForked(aliceHex())).toBe(true);
    expect(fs.pendingCount()).toBe(0); // both variants leave the pending buffer
    expect(seqs(fs.ingest(A[1]))).toEqual([2]);
    expect(fs.appliedHead(aliceHex())).toEqual({ seq: 2, hash: hex(A[1]) });
  });

  it('rejects an entry whose prev is not the stored predecessor (BrokenChainError)', async () => {
    const fs = new FeedSet();
    fs.ingest(A[0]);
    const liar = await createEntry(
      { keys: alice, seq: 2, prev: new Uint8Array(32).fill(9), lamport: 2, time: 1, payload: yUpdate('x', 1) },
      netId
    );
    const r = fs.ingest(liar);
    expect(r.kind).toBe('broken-chain');
    if (r.kind === 'broken-chain') expect([r.error.name, r.error.code]).toEqual(['BrokenChainError', 'broken-chain']);
    expect(fs.head(aliceHex())?.seq).toBe(1);
    // The same liar held as pending is rejected when its gap closes; the feed stays consistent.
    const fs2 = new FeedSet();
    fs2.ingest(A[0]);
    const liar3 = await createEntry(
      { keys: alice, seq: 3, prev: new Uint8Array(32).fill(9), lamport: 3, time: 1, payload: yUpdate('x', 1) },
      netId
    );
    expect(fs2.ingest(liar3).kind).toBe('pending');
    const r2 = fs2.ingest(A[1]);
    expect(r2).toEqual({ kind: 'appended', entries: [A[1]], rejected: [{ entry: liar3, reason: 'broken-chain' }] });
    expect(fs2.pendingCount()).toBe(0);
    expect(seqs(fs2.ingest(A[2]))).toEqual([3]);
  });

  it('bounds pending entries per author and in total', () => {
    const fs = new FeedSet({ maxPendingPerAuthor: 2 });
    fs.ingest(A[0]);
    expect(fs.ingest(A[2]).kind).toBe('pending');
    expect(fs.ingest(A[3]).kind).toBe('pending');
    expect(fs.ingest(A[4])).toEqual({ kind: 'dropped', reason: 'pending-full' });
    expect(fs.pendingCount(aliceHex())).toBe(2);
    const total = new FeedSet({ maxPendingTotal: 1 });
    expect(total.ingest(A[2]).kind).toBe('pending');
    expect(total.ingest(authors[0].chain[2])).toEqual({ kind: 'dropped', reason: 'pending-full' });
  });

  it('forgets old entries beyond the recent window and asks the caller to look them up', () => {
    const fs = new FeedSet({ recentPerAuthor: 2 });
    A.slice(0, 5).forEach((h) => fs.ingest(h));
    expect(fs.ingest(A[3]).kind).toBe('duplicate');
    expect(fs.ingest(A[1])).toEqual({ kind: 'needs-lookup', author: aliceHex(), seq: 2 });
    const ev = fs.recordFork(A[2], A3x).evidence;
    expect(ev.seq).toBe(3);
    expect(fs.isForked(aliceHex())).toBe(true);
  });

  it('resumes from stored heads alone (light replica restart)', () => {
    const fs = FeedSet.fromHeads({ heads: [{ author: aliceHex(), seq: 4, hash: hex(A[3]) }] });
    expect(fs.ingest(A[3]).kind).toBe('duplicate');
    expect(fs.ingest(A[1])).toEqual({ kind: 'needs-lookup', author: aliceHex(), seq: 2 });
    expect(fs.ingest(A4x)).toEqual({ kind: 'needs-lookup', author: aliceHex(), seq: 4, knownHash: hex(A[3]) });
    expect(fs.ingest(A[6]).kind).toBe('pending');
    expect(seqs(fs.ingest(A[4]))).toEqual([5]);
    expect(seqs(fs.ingest(A[5]))).toEqual([6, 7]);
  });

  it('resumes with recent entries and persisted forks', () => {
    const ev = { author: aliceHex(), seq: 3, a: A[2], b: A3x, detectedAt: 1 };
    const fs = FeedSet.fromHeads({
      heads: [{ author: aliceHex(), seq: 4, hash: hex(A[3]) }],
      recent: [A[2], A[3], A[6]],
      forks: [ev]
    });
    expect(fs.isForked(aliceHex())).toBe(true);
    expect(fs.forks()).toEqual([ev]);
    expect(fs.head(aliceHex())).toEqual(voidHead(aliceHex(), 3));
    expect(fs.ingest(A[2])).toEqual({ kind: 'dropped', reason: 'forked-branch' });
    expect(fs.ingest(A3x).kind).toBe('duplicate');
    expect(fs.ingest(A4x)).toEqual({ kind: 'dropped', reason: 'forked-branch' });
    expect(fs.ingest(A[6])).toEqual({ kind: 'dropped', reason: 'forked-branch' });
    expect(fs.ingest(A[1]).kind).toBe('needs-lookup'); // below the fork, out of the window: the store decides
  });
});

describe('FeedSet pending bounds', () => {
  const cost = (h: HashedEntry): number => h.entry.payload.byteLength + PENDING_ENTRY_OVERHEAD_BYTES;

  it('caps the bytes held by pending entries and frees them when they drain', () => {
    const fs = new FeedSet({ maxPendingBytes: cost(A[2]) + cost(A[3]) });
    fs.ingest(A[0]);
    expect(fs.ingest(A[2]).kind).toBe('pending');
    expect(fs.ingest(A[3]).kind).toBe('pending');
    expect(fs.pendingByteCount()).toBe(cost(A[2]) + cost(A[3]));
    expect(fs.ingest(A[4])).toEqual({ kind: 'dropped', reason: 'pending-full' });
    // Another author's entry takes the fair share: alice (the biggest) gives up her highest seq.
    expect(fs.ingest(authors[0].chain[2]).kind).toBe('pending');
    expect(fs.pendingEvictedCount()).toBe(1);
    expect(fs.pendingByteCount()).toBe(cost(A[2]) + cost(authors[0].chain[2]));
    expect(seqs(fs.ingest(A[1]))).toEqual([2, 3]);
    expect(fs.pendingByteCount()).toBe(cost(authors[0].chain[2]));
    expect(fs.ingest(A[3]).kind).toBe('appended'); // room again
  });

  it('with the defaults, large entries hit the byte cap long before the count caps', async () => {
    const big = new Uint8Array(60_000);
    const entries: HashedEntry[] = [];
    for (const a of authors.slice(0, 2)) {
      let prev = a.chain[0].hash;
      for (let seq = 3; seq < 3 + 150; seq++) {
        const h = await createEntry({ keys: a.keys, seq, prev, lamport: seq, time: seq, payload: big }, netId);
        entries.push(h);
        prev = h.hash;
      }
    }
    const fs = new FeedSet();
    const kept = entries.filter((h) => fs.ingest(h).kind === 'pending').length;
    const perEntry = big.byteLength + PENDING_ENTRY_OVERHEAD_BYTES;
    expect(fs.pendingCount()).toBe(Math.floor(MAX_PENDING_BYTES / perEntry));
    // The second author took its fair share from the first: about half each.
    expect(kept - fs.pendingCount()).toBe(fs.pendingEvictedCount());
    for (const a of authors.slice(0, 2))
      expect(Math.abs(fs.pendingCount(toHex(a.keys.publicKey)) - fs.pendingCount() / 2)).toBeLessThanOrEqual(1);
    expect(fs.pendingByteCount()).toBeLessThanOrEqual(MAX_PENDING_BYTES);
  });

  it('evicts pending entries older than the age limit when new entries arrive', () => {
    let t = 1_000_000;
    const fs = new FeedSet({ now: () => t });
    expect(fs.ingest(A[2]).kind).toBe('pending'); // received at t0
    t += PENDING_MAX_AGE_MS / 2;
    expect(fs.ingest(A[4]).kind).toBe('pending'); // received at t0 + half
    expect(fs.ingest(authors[0].chain[3]).kind).toBe('pending');
    t += PENDING_MAX_AGE_MS / 2 - 1;
    fs.ingest(authors[1].chain[0]); // just under the limit: nothing goes
    expect(fs.pendingCount()).toBe(3);
    t += 1;
    expect(seqs(fs.ingest(authors[1].chain[1]))).toEqual([2]);
    expect(fs.pendingCount()).toBe(2);
    expect(fs.pendingCount(aliceHex())).toBe(1);
    expect(fs.missing(aliceHex())).toEqual([{ author: aliceHex(), fromSeq: 1, toSeq: 4 }]);
    expect(fs.pendingByteCount()).toBe(cost(A[4]) + cost(authors[0].chain[3]));
    // The evicted entry is simply gone: it may be offered again (e.g. by sync) and is held anew.
    expect(fs.ingest(A[2]).kind).toBe('pending');
    t += PENDING_MAX_AGE_MS / 2;
    expect(fs.evictExpired()).toBe(2);
    expect(fs.pendingCount()).toBe(1);
    // Authors left with nothing are forgotten; authors with a head stay.
    expect(fs.trackedAuthors()).toBe(2); // alice (A[2] still pending) and authors[1] (head 2)
    t += PENDING_MAX_AGE_MS / 2;
    expect(fs.evictExpired()).toBe(1);
    expect(fs.trackedAuthors()).toBe(1);
    expect(fs.heads().map((h) => h.author)).toEqual([toHex(authors[1].keys.publicKey)]);
  });

  it('an entry held again by a new FeedSet (heldSince) keeps its first receive time and expires from it, in order', () => {
    let t = 1_000_000;
    const first = new FeedSet({ now: () => t });
    expect(first.ingest(A[2]).kind).toBe('pending');
    t += PENDING_MAX_AGE_MS / 2;
    const carried = new Map(first.pendingWithTimes().map(({ h, at }) => [h, at]));
    expect([...carried.values()]).toEqual([1_000_000]);
    // The new FeedSet holds another author's entry first, then the carried one (as a rebuild's
    // queued carry step can): the carried one is older but comes later in arrival order.
    const next = new FeedSet({ now: () => t, heldSince: (h) => carried.get(h) });
    expect(next.ingest(authors[0].chain[3]).kind).toBe('pending');
    expect(next.ingest(A[2]).kind).toBe('pending');
    expect(next.pendingWithTimes().map((p) => p.at)).toEqual([t, 1_000_000]);
    t = 1_000_000 + PENDING_MAX_AGE_MS; // ten minutes after A[2] first came, five after the other
    expect(next.evictExpired()).toBe(1);
    expect(next.pendingEntries()).toEqual([authors[0].chain[3]]);
    // Out of order but not expired: no sort needed (the scan's early stop is still right), so a
    // carry of many entries behind a newer one costs no sort each (review of c633462).
    const many = new FeedSet({ now: () => t, heldSince: (h) => (h === A[2] ? t - 1_000 : undefined) });
    expect(many.ingest(authors[1].chain[3]).kind).toBe('pending');
    expect(many.ingest(A[2]).kind).toBe('pending');
    expect(many.evictExpired()).toBe(0);
    expect(many.pendingEntries()).toEqual([authors[1].chain[3], A[2]]); // not sorted yet
    t += PENDING_MAX_AGE_MS - 1_000; // A[2]'s time has expired, the other's not
    expect(many.evictExpired()).toBe(1);
    expect(many.pendingEntries()).toEqual([authors[1].chain[3]]);
    // A time later than now (a clock that went back) counts as now.
    const later = new FeedSet({ now: () => t, heldSince: () => t + 5_000 });
    expect(later.ingest(A[2]).kind).toBe('pending');
    expect(later.pendingWithTimes()[0]!.at).toBe(t);
  });

  it('keeps no feed for an author whose entry was dropped', () => {
    const fs = new FeedSet({ maxPendingTotal: 1 });
    expect(fs.ingest(authors[0].chain[2]).kind).toBe('pending');
    for (const a of authors.slice(1)) {
      expect(fs.ingest(a.chain[2])).toEqual({ kind: 'dropped', reason: 'pending-full' });
    }
    expect(fs.trackedAuthors()).toBe(1);
    const bytes = new FeedSet({ maxPendingBytes: 1 });
    for (const a of authors) expect(bytes.ingest(a.chain[3]).kind).toBe('dropped');
    expect(bytes.trackedAuthors()).toBe(0);
    expect(bytes.missing()).toEqual([]);
    expect(bytes.ingest(authors[0].chain[0]).kind).toBe('appended'); // a kept entry does register
    expect(bytes.trackedAuthors()).toBe(1);
  });
});

describe('FeedSet properties (seeded)', () => {
  type Delivery = { entries: HashedEntry[]; expected: Map<string, string> };

  /** Prefix lengths per author, copies per entry and a shuffle key per copy. */
  const plan = fc.record({
    lens: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 4, maxLength: 4 }),
    copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 24, maxLength: 24 }),
    keys: fc.array(fc.integer(), { minLength: 72, maxLength: 72 })
  });

  function deliveries(p: { lens: number[]; copies: number[]; keys: number[] }, extra: HashedEntry[] = []): Delivery {
    const pool: HashedEntry[] = [];
    const expected = new Map<string, string>();
    authors.forEach((a, i) => {
      pool.push(...a.chain.slice(0, p.lens[i]));
      if (p.lens[i] > 0) expected.set(toHex(a.keys.publicKey), hex(a.chain[p.lens[i] - 1]));
    });
    pool.push(...extra);
    const tagged: [number, HashedEntry][] = [];
    pool.forEach((h, i) => {
      for (let c = 0; c < p.copies[i % 24]; c++) tagged.push([p.keys[(i * 3 + c) % 72] * 100 + i * 3 + c, h]);
    });
    tagged.sort((x, y) => x[0] - y[0]);
    return { entries: tagged.map(([, h]) => h), expected };
  }

  it('any order and duplication of the same entries gives the same heads', () => {
    fc.assert(
      fc.property(plan, (p) => {
        const { entries, expected } = deliveries(p);
        const fs = new FeedSet();
        for (const h of entries) {
          const r = fs.ingest(h);
          expect(['appended', 'pending', 'duplicate']).toContain(r.kind);
        }
        expect(new Map(fs.heads().map((h) => [h.author, h.hash]))).toEqual(expected);
        expect(fs.pendingCount()).toBe(0);
        expect(fs.missing()).toEqual([]);
        expect(fs.forks()).toEqual([]);
      }),
      { seed, numRuns: 200 }
    );
  });

  it('a fork is detected whatever the delivery order', () => {
    fc.assert(
      fc.property(plan, (p) => {
        const { entries } = deliveries(p, [...A.slice(0, 5), A3x, A4x]);
        const fs = new FeedSet();
        for (const h of entries) fs.ingest(h);
        expect(fs.isForked(aliceHex())).toBe(true);
        expect(authors.some((a) => fs.isForked(toHex(a.keys.publicKey)))).toBe(false);
        const ev = fs.forks();
        expect(ev.length).toBeGreaterThanOrEqual(1);
        for (const e of ev) expect(hex(e.a)).not.toBe(hex(e.b));
      }),
      { seed, numRuns: 200 }
    );
  });
});
