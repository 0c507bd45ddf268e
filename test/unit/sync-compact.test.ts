// The compact item listing of the Merkle exchange (sync 1.1.0): heads listed by a 2-byte author
// tag, answered with flags and the answering side's differing heads, tag pairings corrected by
// the lister. Randomized: prints its seed (SEED=n replays).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HeadsTree } from '../../src/lib/core/sync/merkle.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { CompareNode, SyncMsg } from '../../src/lib/core/sync/messages.js';
import { pairByTag } from '../../src/lib/core/sync/pairing.js';
import { toHex } from '../../src/lib/core/bytes.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import { mulberry32, randomBytes, type Rand } from '../helpers/fake-feed.js';
import { expectedDiffs, flip, randomHead, runExchange, sortDiffs } from '../helpers/sync-fixtures.js';
import { SYNC_HEAD_FP_BYTES } from '../../src/lib/core/sync/constants.js';

const SEED = Number(process.env.SEED ?? Date.now() % 2 ** 31);
console.log(`sync-compact seed ${SEED} (replay with SEED=${SEED})`);

const isTyped = (e: unknown) =>
  e instanceof Error && (e.name === 'SyncMalformedError' || e.name === 'SyncOversizedError');

/** An author whose bytes 1..2 (the tag at depths 1 and 2) and 0..1 (depth 0) come from a tiny set. */
function collidingAuthor(rand: Rand): string {
  const tags = ['0000', '0001', '7f7f'];
  const first = Math.floor(rand() * 256)
    .toString(16)
    .padStart(2, '0');
  const lead = rand() < 0.3 ? '00' : first;
  return (lead + tags[Math.floor(rand() * tags.length)] + toHex(randomBytes(32, rand))).slice(0, 64);
}

function mutate(rand: Rand, a: Map<string, FeedHead>, b: Map<string, FeedHead>, d: number): void {
  for (let i = 0; i < d; i++) {
    const side = rand() < 0.5 ? a : b;
    const keys = [...side.keys()];
    const r = rand();
    if (r < 0.35 || keys.length === 0) {
      const h = randomHead(rand, collidingAuthor(rand));
      side.set(h.author, h);
    } else if (r < 0.55) side.delete(keys[Math.floor(rand() * keys.length)]);
    else {
      const k = side.get(keys[Math.floor(rand() * keys.length)])!;
      const fork = r > 0.8;
      side.set(k.author, { ...k, seq: fork ? k.seq : k.seq + 1, hash: toHex(randomBytes(32, rand)) });
    }
  }
}

describe('compact listings: exact under author-tag collisions', () => {
  it('finds exactly the differing feeds on both sides when many authors share tags (property)', () => {
    let corrected = 0;
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 1, max: 25 }),
        fc.boolean(),
        (seed, n, d, eager) => {
          const rand = mulberry32(seed);
          const base = Array.from({ length: n }, () => randomHead(rand, collidingAuthor(rand)));
          const a = new Map(base.map((h) => [h.author, h]));
          const b = new Map(a);
          mutate(rand, a, b, d);
          const run = runExchange(HeadsTree.from(a.values()), HeadsTree.from(b.values()), rand, 2000, eager);
          const want = expectedDiffs([...a.values()], [...b.values()]);
          expect(sortDiffs(run.a)).toEqual(want);
          expect(flip(run.b)).toEqual(want);
          if (run.corrections > 0) corrected++;
        }
      ),
      { numRuns: 300, seed: SEED }
    );
    // The generator must reach the correction path, or this test proves little.
    expect(corrected).toBeGreaterThan(0);
  });

  it('corrects a wrong tag pairing: each side holds one author the other lacks, same tag', () => {
    const rand = mulberry32(SEED);
    const shared = Array.from({ length: 5 }, () => randomHead(rand));
    const mineOnly = randomHead(rand, 'abcd' + toHex(randomBytes(30, rand)));
    const theirsOnly = randomHead(rand, 'abcd' + toHex(randomBytes(30, rand)));
    const a = [...shared, mineOnly];
    const b = [...shared, theirsOnly];
    const run = runExchange(HeadsTree.from(a), HeadsTree.from(b), rand);
    const want = expectedDiffs(a, b);
    expect(want).toHaveLength(2);
    expect(sortDiffs(run.a)).toEqual(want);
    expect(flip(run.b)).toEqual(want);
    expect(run.corrections).toBe(1);
  });

  it('needs no correction when the tags pair the right authors (same author advanced)', () => {
    const rand = mulberry32(SEED + 1);
    const a = Array.from({ length: 12 }, () => randomHead(rand));
    const b = a.map((h, i) => (i === 3 ? { ...h, seq: h.seq + 2, hash: toHex(randomBytes(32, rand)) } : h));
    const run = runExchange(HeadsTree.from(a), HeadsTree.from(b), rand);
    expect(sortDiffs(run.a)).toEqual(expectedDiffs(a, b));
    expect(run.corrections).toBe(0);
    expect(run.lastWithNodes).toBe(2);
  });

  // The cost grows with the heads listed: those sharing the advanced feed's depth-3 subtree (its
  // first three nibbles; 20,000 / 4,096 ≈ 4.9 on average, Poisson, so 12–16 in about one seed of
  // a hundred), each a 2-byte tag and a 4-byte fingerprint plus framing. 120 seeds measured
  // 296 bytes with 1 such head … 390 with 13 (~290 + 7.8 a head); a fixed "under 400" failed
  // CI at exactly 400 bytes (a leaf of about 14).
  it('one advanced feed among 20,000 costs 3 round trips and ≤ 300 + 8 bytes a head of its leaf (~330; 1.1.0: ~600)', () => {
    const rand = mulberry32(SEED + 2);
    const heads = Array.from({ length: 20_000 }, () => randomHead(rand));
    const other = heads.map((h, i) => (i === 777 ? { ...h, seq: h.seq + 1, hash: toHex(randomBytes(32, rand)) } : h));
    const run = runExchange(HeadsTree.from(heads), HeadsTree.from(other), rand);
    const leaf = heads[777].author.slice(0, 3);
    const listed = heads.filter((h) => h.author.startsWith(leaf)).length;
    expect(run.a).toHaveLength(1);
    expect(Math.ceil(run.lastWithNodes / 2)).toBeLessThanOrEqual(3);
    expect(run.bytesAtoB + run.bytesBtoA).toBeLessThanOrEqual(300 + 8 * listed);
  });

  it('100 scattered differences among 20,000 feeds: 3 round trips, under 170 bytes each (~150; 1.1.0: ~260)', () => {
    const rand = mulberry32(SEED + 4);
    const heads = Array.from({ length: 20_000 }, () => randomHead(rand));
    const other = heads.map((h, i) =>
      i % 200 === 7 ? { ...h, seq: h.seq + 1, hash: toHex(randomBytes(32, rand)) } : h
    );
    const run = runExchange(HeadsTree.from(heads), HeadsTree.from(other), rand);
    expect(sortDiffs(run.a)).toEqual(expectedDiffs(heads, other));
    expect(sortDiffs(run.b)).toEqual(expectedDiffs(other, heads));
    expect(Math.ceil(run.lastWithNodes / 2)).toBeLessThanOrEqual(3);
    expect(run.bytesAtoB + run.bytesBtoA).toBeLessThan(100 * 170);
  });

  it('the initiator lists a differing subtree of up to 32 heads at once (saves a round trip); the responder opens it', () => {
    const rand = mulberry32(SEED + 3);
    const heads = Array.from({ length: 6000 }, () => randomHead(rand));
    const under = (p: string) => heads.filter((h) => h.author.startsWith(p)).length;
    // A feed whose depth-2 subtree is an inner node (> 16 heads) small enough to list (<= 32).
    const i = heads.findIndex((h) => under(h.author.slice(0, 2)) > 16 && under(h.author.slice(0, 2)) <= 32);
    expect(i).toBeGreaterThanOrEqual(0);
    const other = heads.map((h, k) => (k === i ? { ...h, seq: h.seq + 1, hash: toHex(randomBytes(32, rand)) } : h));
    // Eager begin: the initiator describes depths 0 and 2 (messages 1 and 3); its listing at
    // depth 2 is answered in message 4.
    const eager = runExchange(HeadsTree.from(heads), HeadsTree.from(other), rand);
    expect(sortDiffs(eager.a)).toEqual(expectedDiffs(heads, other));
    expect(eager.lastWithNodes).toBe(4);
    // Lazy begin: the responder describes depth 2 (message 4) and opens it as usual.
    const lazy = runExchange(HeadsTree.from(heads), HeadsTree.from(other), rand, undefined, false);
    expect(sortDiffs(lazy.a)).toEqual(expectedDiffs(heads, other));
    expect(lazy.lastWithNodes).toBe(6);
  });

  it('pairs only tags unique on both sides', () => {
    expect([...pairByTag([1, 2, 2, 3], [3, 2, 1, 1])]).toEqual([[3, 0]]);
    expect([...pairByTag([5], [5])]).toEqual([[0, 0]]);
    expect(pairByTag([], [1]).size).toBe(0);
  });
});

// ---- decoder: the new node kinds ----

const fpArb = fc.uint8Array({ minLength: SYNC_HEAD_FP_BYTES, maxLength: SYNC_HEAD_FP_BYTES });
const pathArb = fc.array(fc.constantFrom(...'0123456789abcdef'), { maxLength: 15 }).map((cs) => cs.join(''));
const tagItemsArb = fc
  .array(
    fc.record({ tag: fc.integer({ min: 0, max: 0xffff }), seq: fc.integer({ min: 1, max: 2 ** 40 }), fp: fpArb }),
    {
      maxLength: 20
    }
  )
  .map((items) =>
    items.sort((x, y) => x.tag - y.tag || Buffer.compare(Buffer.from(x.fp), Buffer.from(y.fp)) || x.seq - y.seq)
  );
const nodeArb: fc.Arbitrary<CompareNode> = fc.oneof(
  fc.record({ k: fc.constant('items' as const), path: pathArb, items: tagItemsArb }),
  fc
    .tuple(
      pathArb,
      fc.array(fc.boolean(), { maxLength: 40 }),
      fc.array(fc.tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(1000), fpArb), { maxLength: 5 })
    )
    .map(([path, unmatched, raw]) => {
      const items = [...new Map(raw.map(([a, seq, fp]) => [(path + toHex(a)).slice(0, 64), { seq, fp }])).entries()]
        .sort(([x], [y]) => (x < y ? -1 : 1))
        .map(([author, { seq, fp }]) => ({ author, seq, fp: seq > 0 ? fp : new Uint8Array(SYNC_HEAD_FP_BYTES) }));
      return { k: 'answer' as const, path, unmatched, items };
    })
);
const compareArb: fc.Arbitrary<SyncMsg> = fc.record({
  t: fc.constant('compare' as const),
  xid: fc.nat(),
  step: fc.nat(),
  end: fc.boolean(),
  nodes: fc.array(nodeArb, { maxLength: 4 })
});

describe('sync codec: compact items and answers', () => {
  it('round-trips random items/answer nodes; any mutation or cut fails only with typed errors', () => {
    fc.assert(
      fc.property(compareArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (m, pos, v, cut) => {
        const bytes = encodeSyncMessage(m);
        expect(decodeSyncMessage(bytes)).toEqual(m);
        const mutated = bytes.slice();
        mutated[pos % bytes.length] = v;
        for (const input of [mutated, bytes.subarray(0, cut % bytes.length)]) {
          try {
            const back = decodeSyncMessage(input);
            expect(encodeSyncMessage(back)).toEqual(input);
          } catch (e) {
            expect(isTyped(e)).toBe(true);
          }
        }
      }),
      { numRuns: 1000, seed: SEED }
    );
  });

  const compare = (nodes: CompareNode[]) => ({ t: 'compare' as const, xid: 1, step: 2, end: false, nodes });
  const malformed = expect.objectContaining({ name: 'SyncMalformedError' });

  it('refuses unsorted compact items, seq 0 in them, set bitmap padding and answers outside their path', () => {
    const fp = Uint8Array.of(1, 1, 1, 1);
    // items sorted by tag: swap two items' tag bytes in the encoding
    const sorted = encodeSyncMessage(
      compare([
        {
          k: 'items',
          path: '',
          items: [
            { tag: 1, seq: 1, fp },
            { tag: 2, seq: 1, fp }
          ]
        }
      ])
    );
    // layout: type, xid, step, flags, nodes count, kind, depth, count, tag(2)...
    const unsorted = sorted.slice();
    unsorted[9] = 3; // first tag 0x0003 > second 0x0002
    expect(() => decodeSyncMessage(unsorted)).toThrow(malformed);
    const seq0 = sorted.slice();
    seq0[10] = 0;
    expect(() => decodeSyncMessage(seq0)).toThrow(malformed);
    expect(() => encodeSyncMessage(compare([{ k: 'items', path: '', items: [{ tag: 1, seq: 0, fp }] }]))).toThrow(
      malformed
    );
    expect(() => encodeSyncMessage(compare([{ k: 'items', path: '', items: [{ tag: 70000, seq: 1, fp }] }]))).toThrow(
      malformed
    );
    const answer = encodeSyncMessage(compare([{ k: 'answer', path: '', unmatched: [true, false, true], items: [] }]));
    // type, xid, step, flags, count, kind, depth, flag count, bitmap byte, items count
    expect(answer[8]).toBe(0b101);
    const padded = answer.slice();
    padded[8] |= 0x80;
    expect(() => decodeSyncMessage(padded)).toThrow(malformed);
    const outside = encodeSyncMessage(
      compare([{ k: 'answer', path: 'ab', unmatched: [], items: [{ author: 'cd'.repeat(32), seq: 1, fp }] }])
    );
    expect(() => decodeSyncMessage(outside)).toThrow(malformed);
  });
});
