import { describe, expect, it } from 'vitest';
import { GapFill } from '../../src/lib/core/sync/gap-fill.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import {
  GAP_BACKOFF_MAX_MS,
  GAP_BATCH_BYTES,
  GAP_BATCH_SEQS,
  GAP_DOUBT_TIMEOUTS,
  GAP_MAX_PEERS_PER_RANGE,
  GAP_MAX_REQUESTS_PER_PEER,
  GAP_MAX_TARGETS,
  GAP_REQUEST_TIMEOUT_MS,
  GAP_STATUS_MAX_AUTHORS,
  GAP_WINDOW_SEQS
} from '../../src/lib/core/sync/constants.js';

const A = 'aa'.repeat(32);
const B = 'bb'.repeat(32);
const C = 'cc'.repeat(32);

function setup() {
  const heads = new Map<string, number>();
  let t = 0;
  const clock = { advance: (ms: number) => (t += ms) };
  const g = new GapFill({
    now: () => t,
    random: mulberry32(1),
    localHead: (a) => heads.get(a) ?? 0,
    maxRequestsTotal: 100
  });
  return { g, heads, clock };
}

describe('GapFill', () => {
  it('asks for fork evidence first, then tails, then history; in seq order within a feed', () => {
    const { g, heads } = setup();
    heads.set(B, 10);
    heads.set(C, 7);
    g.addPeer('p', {});
    g.learn('p', [
      { author: A, mine: 0, theirs: 5000, fork: false }, // history
      { author: B, mine: 10, theirs: 20, fork: false }, // tail
      { author: C, mine: 7, theirs: 7, fork: true } // fork evidence
    ]);
    const reqs = g.next();
    expect(reqs[0]).toMatchObject({ author: C, from: 7, to: 7, priority: 'fork' });
    expect(reqs[1]).toMatchObject({ author: B, from: 11, to: 20, priority: 'tail' });
    expect(reqs.slice(2).every((r) => r.author === A && r.priority === 'history')).toBe(true);
    expect(reqs.length).toBe(GAP_MAX_REQUESTS_PER_PEER);
    expect(reqs.every((r) => r.maxBytes <= GAP_BATCH_BYTES && r.maxBytes < 256 * 1024)).toBe(true);
  });

  it('splits one feed over at most three peers, within the window, best peer first', () => {
    const { g } = setup();
    for (const [p, rtt] of [
      ['slow', 900],
      ['fast', 10],
      ['mid', 100],
      ['other', 50]
    ] as const)
      g.addPeer(p, { rttMs: rtt });
    const diff = [{ author: A, mine: 0, theirs: 10_000, fork: false }];
    for (const p of ['slow', 'fast', 'mid', 'other']) g.learn(p, diff);
    const reqs = g.next();
    expect(new Set(reqs.map((r) => r.peer)).size).toBe(GAP_MAX_PEERS_PER_RANGE);
    expect(reqs.map((r) => r.peer)).not.toContain('slow');
    expect(reqs[0].peer).toBe('fast');
    expect(Math.max(...reqs.map((r) => r.to))).toBeLessThanOrEqual(GAP_WINDOW_SEQS);
    // Disjoint, contiguous, ascending ranges from seq 1.
    const sorted = [...reqs].sort((a, b) => a.from - b.from);
    expect(sorted[0].from).toBe(1);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].from).toBe(sorted[i - 1].to + 1);
    expect(sorted.every((r) => r.to - r.from + 1 <= GAP_BATCH_SEQS)).toBe(true);
  });

  it('uses only peers that cover the range', () => {
    const { g } = setup();
    g.addPeer('light', { holdsFrom: () => 500 });
    g.addPeer('full', {});
    g.learn('light', [{ author: A, mine: 0, theirs: 600, fork: false }]);
    expect(g.next()).toEqual([]);
    g.learn('full', [{ author: A, mine: 0, theirs: 600, fork: false }]);
    const reqs = g.next();
    expect(reqs.length).toBeGreaterThan(0);
    expect(reqs.every((r) => r.peer === 'full')).toBe(true);
  });

  it('never forgets a gap: timeouts back off (with jitter) and retry; a departed peer leaves the gap queued', () => {
    const { g, heads, clock } = setup();
    g.addPeer('p', {});
    g.learn('p', [{ author: A, mine: 0, theirs: 10, fork: false }]);
    const [r1] = g.next();
    expect(r1).toMatchObject({ from: 1, to: 10 });
    clock.advance(GAP_REQUEST_TIMEOUT_MS + 1);
    expect(g.tick().map((r) => r.rid)).toEqual([r1.rid]);
    expect(g.next()).toEqual([]); // backing off
    clock.advance(30_000);
    const [r2] = g.next();
    expect(r2).toMatchObject({ from: 1, to: 10, peer: 'p' });
    g.removePeer('p');
    // No connected peer claims it now: unconfirmed, not missing (a later exchange finds it again).
    expect(g.status()).toMatchObject({ missing: 0, unconfirmed: 1, authors: 0, inFlight: [] });
    g.addPeer('q', {});
    g.learn('q', [{ author: A, mine: 0, theirs: 12, fork: false }]);
    const [r3] = g.next();
    expect(r3).toMatchObject({ peer: 'q', from: 1, to: 12 });
    // Half of it arrives: the rest is asked for again; once the head is there, the gap is gone.
    heads.set(A, 6);
    g.settle(r3.rid, { received: 6, added: 6, forks: 0, rejected: 0 });
    expect(g.next()[0]).toMatchObject({ from: 7, to: 12 });
    heads.set(A, 12);
    expect(g.status().missing).toBe(0);
  });

  it('reports missing entries per author, largest first, forks included, at most GAP_STATUS_MAX_AUTHORS', () => {
    const { g, heads } = setup();
    heads.set(B, 10);
    g.addPeer('p', {});
    g.learn('p', [
      { author: A, mine: 0, theirs: 5, fork: false },
      { author: B, mine: 10, theirs: 30, fork: false },
      { author: C, mine: 7, theirs: 7, fork: true }
    ]);
    const s = g.status();
    expect(s.byAuthor).toEqual([
      { author: B, missing: 20 },
      { author: A, missing: 5 },
      { author: C, missing: 1 }
    ]);
    expect(s.byAuthor.reduce((n, x) => n + x.missing, 0)).toBe(s.missing);
    heads.set(B, 30);
    expect(g.status().byAuthor.map((x) => x.author)).toEqual([A, C]);

    const many = setup();
    many.g.addPeer('p', {});
    const n = GAP_STATUS_MAX_AUTHORS + 50;
    many.g.learn(
      'p',
      Array.from({ length: n }, (_, i) => ({
        author: i.toString(16).padStart(64, '0'),
        mine: 0,
        theirs: i + 1,
        fork: false
      }))
    );
    const big = many.g.status();
    expect(big.authors).toBe(n);
    expect(big.byAuthor.length).toBe(GAP_STATUS_MAX_AUTHORS);
    expect(big.byAuthor[0].missing).toBe(n);
  });

  it('penalises invalid answers and prefers useful peers afterwards', () => {
    const { g, clock } = setup();
    g.addPeer('bad', { rttMs: 10 });
    g.addPeer('good', { rttMs: 200 });
    const diff = [{ author: A, mine: 0, theirs: 1000, fork: false }];
    g.learn('bad', diff);
    g.learn('good', diff);
    for (const r of g.next())
      g.settle(
        r.rid,
        r.peer === 'bad'
          ? { received: 5, added: 0, forks: 0, rejected: 5 }
          : { received: 5, added: 5, forks: 0, rejected: 0 }
      );
    clock.advance(60_000);
    expect(g.score('good')).toBeGreaterThan(g.score('bad'));
    expect(g.next()[0].peer).toBe('good');
  });

  it('caps requests and requested bytes per peer', () => {
    const { g } = setup();
    g.addPeer('p', {});
    g.learn(
      'p',
      Array.from({ length: 20 }, (_, i) => ({
        author: i.toString(16).padStart(2, '0').repeat(32),
        mine: 0,
        theirs: 5,
        fork: false
      }))
    );
    const reqs = g.next();
    expect(reqs.length).toBe(GAP_MAX_REQUESTS_PER_PEER);
    expect(g.next()).toEqual([]);
    g.settle(reqs[0].rid, { received: 5, added: 5, forks: 0, rejected: 0 });
    expect(g.next().length).toBe(1);
  });

  it('fetches fork evidence once per (author, seq)', () => {
    const { g } = setup();
    g.addPeer('p', {});
    const fork = [{ author: A, mine: 3, theirs: 3, fork: true }];
    g.learn('p', fork);
    const [r] = g.next();
    g.settle(r.rid, { received: 1, added: 0, forks: 1, rejected: 0 });
    g.learn('p', fork);
    expect(g.next()).toEqual([]);
  });

  it('a fork want a useful holder never answers stops counting as missing after GAP_DOUBT_TIMEOUTS rounds, and is still asked', () => {
    const { g, heads, clock } = setup();
    g.addPeer('p', {});
    // p served entries of B (useful: fail() never refuses its claims), and claims a fork of A.
    g.learn('p', [{ author: B, mine: 0, theirs: 5, fork: false }]);
    const [b] = g.next();
    heads.set(B, 5);
    g.settle(b.rid, { received: 5, added: 5, forks: 0, rejected: 0 });
    g.learn('p', [{ author: A, mine: 3, theirs: 3, fork: true }]);
    for (let round = 1; round <= GAP_DOUBT_TIMEOUTS + 2; round++) {
      const [r] = g.next();
      expect(r, `round ${round}`).toMatchObject({ peer: 'p', author: A, from: 3, priority: 'fork' });
      clock.advance(GAP_REQUEST_TIMEOUT_MS + 1);
      expect(g.tick().map((x) => x.rid)).toEqual([r.rid]);
      const doubtful = round >= GAP_DOUBT_TIMEOUTS;
      expect(g.status({ fresh: true }), `round ${round}`).toMatchObject({
        missing: doubtful ? 0 : 1,
        unconfirmed: doubtful ? 1 : 0
      });
      expect(g.busy()).toBe(!doubtful);
      clock.advance(GAP_BACKOFF_MAX_MS);
    }
    // Another holder that answers counts it again, and its evidence ends the want.
    g.addPeer('q', {});
    g.learn('q', [{ author: A, mine: 3, theirs: 3, fork: true }]);
    expect(g.status({ fresh: true })).toMatchObject({ missing: 1, unconfirmed: 0 });
    const r = g.next().find((x) => x.peer === 'q')!;
    g.settle(r.rid, { received: 1, added: 0, forks: 1, rejected: 0 });
    expect(g.status({ fresh: true })).toMatchObject({ missing: 0, unconfirmed: 0 });
  });

  it('an empty answer refuses that claim only: no backoff, other feeds of the peer still served', () => {
    const { g } = setup();
    g.addPeer('p', {});
    g.learn('p', [
      { author: A, mine: 0, theirs: 3, fork: false },
      { author: B, mine: 0, theirs: 300, fork: false },
      { author: C, mine: 5, theirs: 5, fork: true }
    ]);
    const first = g.next();
    // The peer's 4 request slots: the fork, A, and B's first two batches.
    expect(first.map((r) => r.author).sort()).toEqual([A, B, B, C].sort());
    const a = first.find((r) => r.author === A)!;
    const c = first.find((r) => r.author === C)!;
    g.settle(a.rid, { received: 0, added: 0, forks: 0, rejected: 0 });
    g.settle(c.rid, { received: 0, added: 0, forks: 0, rejected: 0 });
    // p is not backing off: B's next window part goes out at once; A and the fork are not asked again.
    const again = g.next();
    expect(again.every((r) => r.author === B)).toBe(true);
    expect(again.length).toBeGreaterThan(0);
    expect(g.status()).toMatchObject({ unconfirmed: 2, missing: 300 });
    // The same claims at the next exchange change nothing; a higher claim is asked again.
    g.learn('p', [
      { author: A, mine: 0, theirs: 3, fork: false },
      { author: C, mine: 5, theirs: 5, fork: true }
    ]);
    expect(g.next().filter((r) => r.author !== B)).toEqual([]);
    g.learn('p', [{ author: A, mine: 0, theirs: 4, fork: false }]);
    expect(g.next().filter((r) => r.author === A)).toMatchObject([{ from: 1, to: 4, peer: 'p' }]);
  });

  it('a full table makes room for others: the largest claimant gives up one of its own', () => {
    const { g } = setup();
    g.addPeer('liar', {});
    g.addPeer('honest', {});
    const fakes = Array.from({ length: GAP_MAX_TARGETS }, (_, i) => ({
      author: (i + 1).toString(16).padStart(64, '0'),
      mine: 0,
      theirs: 1,
      fork: false
    }));
    g.learn('liar', fakes);
    expect(g.status().authors).toBe(GAP_MAX_TARGETS);
    // More from the liar itself: still refused (it is the largest claimant).
    g.learn('liar', [{ author: 'ee'.repeat(32), mine: 0, theirs: 1, fork: false }]);
    expect(g.status().authors).toBe(GAP_MAX_TARGETS);
    g.learn('honest', [{ author: A, mine: 0, theirs: 20, fork: false }]);
    const s = g.status();
    expect(s.authors).toBe(GAP_MAX_TARGETS);
    expect(s.byAuthor[0]).toEqual({ author: A, missing: 20 });
  });

  it('a full table: claims of a peer that served outrank those of peers that never did; proven claims stay', () => {
    const { g, heads } = setup();
    const author = (p: number, i: number): string => (p * 1_000_000 + i + 1).toString(16).padStart(64, '0');
    const claim = (a: string) => ({ author: a, mine: 0, theirs: 1, fork: false });
    const claimsOf = (peer: string): number =>
      (g as unknown as { claimsBy: Map<string, Set<string>> }).claimsBy.get(peer)?.size ?? 0;
    // 100 silent peers claim 1,000 fake feeds each: the table is full.
    const sybils = Array.from({ length: 100 }, (_, s) => `s${s}`);
    for (const [s, id] of sybils.entries()) {
      g.addPeer(id, {});
      g.learn(
        id,
        Array.from({ length: GAP_MAX_TARGETS / 100 }, (_, i) => claim(author(s + 1, i)))
      );
    }
    expect(g.status().authors).toBe(GAP_MAX_TARGETS);
    // A claim proven by a delivery (entries of that author stored) is never evicted, even once
    // the peer that delivered has left: s0's first claim, which eviction would pick first.
    const proven = author(1, 0);
    g.addPeer('p', {});
    g.learn('p', [{ author: proven, mine: 0, theirs: 3, fork: false }]);
    const rp = g.next().find((x) => x.author === proven && x.peer === 'p')!;
    heads.set(proven, 1);
    g.settle(rp.rid, { received: 1, added: 1, forks: 0, rejected: 0, bytes: 300 });
    g.removePeer('p');
    g.learn('s0', [{ author: proven, mine: 1, theirs: 3, fork: false }]);
    const targets = (g as unknown as { targets: Map<string, unknown> }).targets;
    // A newcomer that never served gets in only up to the Sybils' share (they level at ~990 each).
    g.addPeer('new', {});
    g.learn(
      'new',
      Array.from({ length: 3000 }, (_, i) => claim(author(900, i)))
    );
    expect(claimsOf('new')).toBeLessThanOrEqual(1000);
    expect(claimsOf('new')).toBeGreaterThanOrEqual(980);
    // An honest peer serves 4 feeds (their entries are stored), then claims 3,000 more: all
    // admitted (each entry delivered earns its claims one more share: 5 × ~970 here).
    g.addPeer('h', {});
    g.learn(
      'h',
      Array.from({ length: 4 }, (_, i) => claim(author(0, 10_000 + i)))
    );
    expect(claimsOf('h')).toBe(4);
    // (Over the total cap, with the Sybils' requests in flight: one request at a time.)
    for (let i = 0; i < 4; i++)
      for (const r of g.next().filter((x) => x.peer === 'h')) {
        heads.set(r.author, 1);
        g.settle(r.rid, { received: 1, added: 1, forks: 0, rejected: 0, bytes: 300 });
      }
    expect(claimsOf('h')).toBe(0);
    g.learn(
      'h',
      Array.from({ length: 3000 }, (_, i) => claim(author(0, i + 1)))
    );
    expect(claimsOf('h')).toBe(3000);
    expect(g.status().authors).toBe(GAP_MAX_TARGETS);
    // The never-serving peers paid for it evenly (the newcomer keeps its share, ~960).
    expect(claimsOf('new')).toBeGreaterThanOrEqual(950);
    for (const id of sybils) expect(claimsOf(id)).toBeLessThanOrEqual(claimsOf('new') + 1);
    expect(targets.has(proven)).toBe(true);
  });

  it('over the total cap a peer that serves keeps its per-peer cap; idle silent peers get one each', () => {
    const heads = new Map<string, number>();
    const g = new GapFill({
      now: () => 0,
      random: mulberry32(2),
      localHead: (a) => heads.get(a) ?? 0,
      maxRequestsTotal: 12
    });
    const author = (p: number, i: number): string => (p * 1000 + i + 1).toString(16).padStart(64, '0');
    const claim = (a: string) => ({ author: a, mine: 0, theirs: 1, fork: false });
    g.addPeer('h', {});
    g.learn(
      'h',
      Array.from({ length: GAP_MAX_REQUESTS_PER_PEER }, (_, i) => claim(author(0, i)))
    );
    const first = g.next();
    expect(first).toHaveLength(GAP_MAX_REQUESTS_PER_PEER);
    for (const r of first) {
      heads.set(r.author, 1);
      g.settle(r.rid, { received: 1, added: 1, forks: 0, rejected: 0, bytes: 300 });
    }
    // 30 silent peers take the total cap and one slot each over it.
    for (let s = 1; s <= 30; s++) {
      g.addPeer(`s${s}`, {});
      g.learn(`s${s}`, [claim(author(s, 0)), claim(author(s, 1))]);
    }
    const silent = g.next();
    expect(silent.length).toBeGreaterThanOrEqual(30);
    g.learn(
      'h',
      Array.from({ length: 16 }, (_, i) => claim(author(0, 100 + i)))
    );
    const reqs = g.next();
    expect(reqs.filter((r) => r.peer === 'h')).toHaveLength(GAP_MAX_REQUESTS_PER_PEER);
    expect(reqs.every((r) => r.peer === 'h')).toBe(true);
    expect(silent.length + reqs.length).toBeLessThanOrEqual(12 + 30 + GAP_MAX_REQUESTS_PER_PEER);
  });
});
