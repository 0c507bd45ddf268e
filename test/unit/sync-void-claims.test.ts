// Gap fill of void claims (PROTOCOL.md §11.5, protocol version 4 and later): a feed a peer announces with a
// void head is asked up to its fork seq once (the server appends the fork pair to the prefix), a
// short answer pauses only that author's ranges with that peer, and feeds known only from void
// claims rank after the others (issue 7 red team, voidshort-break4).
import { describe, expect, it } from 'vitest';
import { GapFill } from '../../src/lib/core/sync/gap-fill.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { GAP_BACKOFF_BASE_MS, GAP_BATCH_BYTES } from '../../src/lib/core/sync/constants.js';
import { VOID_HEAD_BASE } from '../../src/lib/core/constants.js';

const A = 'aa'.repeat(32);
const B = 'bb'.repeat(32);
const C = 'cc'.repeat(32);
const voidAt = (s: number): number => VOID_HEAD_BASE - s;

function setup() {
  const heads = new Map<string, number>();
  const voids = new Map<string, number>();
  let t = 0;
  const g = new GapFill({
    now: () => t,
    random: mulberry32(1),
    localHead: (a) => heads.get(a) ?? 0,
    localVoidFrom: (a) => voids.get(a),
    maxRequestsTotal: 100
  });
  return { g, heads, voids, advance: (ms: number) => (t += ms) };
}

describe('GapFill: void claims', () => {
  it('asks a void claim once, up to its fork seq (the prefix and the appended pair)', () => {
    const { g } = setup();
    g.addPeer('p', {});
    g.learn('p', [{ author: A, mine: 0, theirs: voidAt(11), fork: false }]);
    const reqs = g.next();
    expect(reqs.map((r) => [r.author, r.from, r.to])).toEqual([[A, 1, 11]]);
  });

  it('a local head at or past the fork: asks the next seq only (answered with the evidence)', () => {
    const { g, heads } = setup();
    heads.set(A, 20);
    g.addPeer('p', {});
    g.learn('p', [{ author: A, mine: 20, theirs: voidAt(11), fork: false }]);
    expect(g.next().map((r) => [r.author, r.from, r.to])).toEqual([[A, 21, 21]]);
  });

  it('an answer with the pair appended is not short: the feed is done, nothing paused', () => {
    const { g, heads, voids } = setup();
    g.addPeer('p', {});
    g.learn('p', [
      { author: A, mine: 0, theirs: voidAt(11), fork: false },
      { author: B, mine: 0, theirs: 300, fork: false }
    ]);
    const reqs = g.next();
    const a = reqs.find((r) => r.author === A)!;
    expect(a).toMatchObject({ from: 1, to: 11 });
    heads.set(A, 10); // the canonical top k of the feed, now void here from 11
    voids.set(A, 11);
    g.settle(a.rid, { received: 10, added: 10, forks: 1, rejected: 0, pair: true, bytes: 3000, largest: 300 });
    expect(g.status({ fresh: true }).byAuthor.map((x) => x.author)).toEqual([B]);
    expect(g.next()).toEqual([]); // B's window (192 seqs) is in flight
    heads.set(B, 64);
    const b = reqs.find((r) => r.author === B && r.from === 1)!;
    g.settle(b.rid, { received: 64, added: 64, forks: 0, rejected: 0, bytes: 64 * 300, largest: 300 });
    expect(g.next().map((r) => [r.peer, r.author, r.from, r.to])).toEqual([['p', B, 193, 256]]);
  });

  it('a short answer pauses that author with that peer, not the peer', () => {
    const { g, heads, advance } = setup();
    g.addPeer('p', {});
    g.learn('p', [
      { author: A, mine: 0, theirs: 100, fork: false },
      { author: B, mine: 0, theirs: 300, fork: false }
    ]);
    const first = g.next();
    expect(first.map((r) => [r.author, r.from])).toEqual([
      [A, 1],
      [A, 65],
      [B, 1],
      [B, 65]
    ]);
    heads.set(A, 1);
    g.settle(first[0].rid, { received: 1, added: 1, forks: 0, rejected: 0, bytes: 300, largest: 300 });
    // One entry of 64, far under the byte cap: A's rest waits; B's next range goes to p now.
    expect(300 * 2 < GAP_BATCH_BYTES / 2).toBe(true);
    expect(g.next().map((r) => [r.author, r.from, r.to])).toEqual([[B, 129, 192]]);
    advance(GAP_BACKOFF_BASE_MS + 1);
    heads.set(B, 64);
    g.settle(first[2].rid, { received: 64, added: 64, forks: 0, rejected: 0, bytes: 64 * 300, largest: 300 });
    expect(g.next().map((r) => [r.author, r.from, r.to])).toEqual([[A, 2, 64]]);
  });

  // Red team 5 (pairdrip-break5): a "pair" appended to a one-entry answer that adds no fork and
  // does not sit at the seq the feed is void from here (a liar's copy of one entry, twice) does
  // not excuse the short answer, even for a feed that is void here.
  it('a copied pair (no fork, not at the fork seq) does not excuse a short answer on a void feed', () => {
    const { g, heads, voids } = setup();
    voids.set(A, 500);
    g.addPeer('p', {});
    g.learn('p', [{ author: A, mine: 0, theirs: voidAt(500), fork: false }]);
    const first = g.next();
    expect(first[0]).toMatchObject({ author: A, from: 1 });
    heads.set(A, 2);
    g.settle(first[0].rid, { received: 1, added: 2, forks: 0, rejected: 0, pair: true, bytes: 900, largest: 300 });
    const again = g.next();
    expect(again.filter((r) => r.author === A && r.from <= 64)).toEqual([]);
  });

  it('feeds known only from void claims rank after plain feeds; wanting only evidence ranks first', () => {
    const { g, heads } = setup();
    heads.set(C, 10);
    g.addPeer('p', {});
    g.learn('p', [
      { author: A, mine: 0, theirs: voidAt(11), fork: false }, // canonical part to fetch: last
      { author: B, mine: 0, theirs: 200, fork: false },
      { author: C, mine: 10, theirs: voidAt(11), fork: false } // only the evidence: first
    ]);
    expect(g.next().map((r) => [r.author, r.from, r.to])).toEqual([
      [C, 11, 11],
      [B, 1, 64],
      [B, 65, 128],
      [B, 129, 192]
    ]);
  });

  it('a plain claim of the same feed is asked as usual beside a void claim', () => {
    const { g } = setup();
    g.addPeer('p', {});
    g.addPeer('q', {});
    g.learn('p', [{ author: A, mine: 0, theirs: voidAt(11), fork: false }]);
    g.learn('q', [{ author: A, mine: 0, theirs: 100, fork: false }]);
    const reqs = g.next().filter((r) => r.author === A);
    // Never past the fork from p; the rest of the window from q.
    expect(reqs.filter((r) => r.peer === 'p').every((r) => r.to <= 11)).toBe(true);
    expect(reqs.some((r) => r.peer === 'q' && r.to === 100)).toBe(true);
  });
});
