// Gap-fill request and Merkle exchange timeouts count the peer's time, not this node's
// (peer-wait.ts, gap-fill.ts, reconcile.ts): time spent handling the peer's earlier messages is
// not counted (up to GAP_REQUEST_MAX_PAUSE_MS), an
// answer in hand never times out, and a received range waiting for an earlier one is not asked
// again while that earlier one is on its way.
import { describe, expect, it } from 'vitest';
import { GapFill } from '../../src/lib/core/sync/gap-fill.js';
import { HeadsTree } from '../../src/lib/core/sync/merkle.js';
import { Exchange } from '../../src/lib/core/sync/reconcile.js';
import { mulberry32, randomBytes } from '../helpers/fake-feed.js';
import {
  GAP_BATCH_SEQS,
  GAP_REQUEST_MAX_PAUSE_MS,
  GAP_REQUEST_TIMEOUT_MS,
  SYNC_EXCHANGE_TIMEOUT_MS
} from '../../src/lib/core/sync/constants.js';

const A = 'aa'.repeat(32);
const B = 'bb'.repeat(32);
const T = GAP_REQUEST_TIMEOUT_MS;

function setup() {
  const heads = new Map<string, number>();
  const busy = new Map<string, number>();
  let t = 0;
  const g = new GapFill({
    now: () => t,
    random: mulberry32(1),
    localHead: (a) => heads.get(a) ?? 0,
    busyMs: (p) => busy.get(p) ?? 0,
    maxRequestsTotal: 100
  });
  /** `ms` pass; this node spends `handling[p]` of them handling p's messages. */
  const advance = (ms: number, handling: Record<string, number> = {}): void => {
    t += ms;
    for (const [p, h] of Object.entries(handling)) busy.set(p, (busy.get(p) ?? 0) + h);
  };
  return { g, heads, advance };
}

describe('gap-fill timeouts', () => {
  it("this node's time handling a peer's messages does not count against that peer's requests; a silent peer still times out", () => {
    const { g, advance } = setup();
    g.addPeer('p', {});
    g.addPeer('q', {});
    g.learn('p', [{ author: A, mine: 0, theirs: 10, fork: false }]);
    g.learn('q', [{ author: B, mine: 0, theirs: 10, fork: false }]);
    const reqs = g.next();
    const byPeer = (peer: string) => reqs.find((r) => r.peer === peer)!;
    expect(reqs).toHaveLength(2);
    // 3 timeouts pass, nearly all of them handling p's messages (ingesting its earlier answers).
    advance(3 * T, { p: 3 * T - 10 });
    expect(g.tick().map((r) => r.rid)).toEqual([byPeer('q').rid]);
    // p's own share (10 ms) grows past the timeout once this node stops handling its messages.
    advance(T - 20);
    expect(g.tick()).toEqual([]);
    advance(20);
    expect(g.tick().map((r) => r.rid)).toEqual([byPeer('p').rid]);
  });

  it('the pause is capped: a request times out after GAP_REQUEST_MAX_PAUSE_MS plus the timeout whatever this node does', () => {
    const { g, advance } = setup();
    g.addPeer('p', {});
    g.learn('p', [{ author: A, mine: 0, theirs: 10, fork: false }]);
    const [r] = g.next();
    advance(GAP_REQUEST_MAX_PAUSE_MS + T, { p: GAP_REQUEST_MAX_PAUSE_MS + T });
    expect(g.tick()).toEqual([]);
    advance(1, { p: 1 });
    expect(g.tick().map((x) => x.rid)).toEqual([r.rid]);
  });

  it('an answer in hand does not time out while it is ingested; settle() ends it', () => {
    const { g, heads, advance } = setup();
    g.addPeer('p', {});
    g.learn('p', [{ author: A, mine: 0, theirs: 10, fork: false }]);
    const [r] = g.next();
    g.answered(r.rid);
    advance(10 * T);
    expect(g.tick()).toEqual([]);
    expect(g.next()).toEqual([]); // not asked again meanwhile
    heads.set(A, 10);
    g.settle(r.rid, { received: 10, added: 10, forks: 0, rejected: 0 });
    expect(g.status({ fresh: true })).toMatchObject({ missing: 0, inFlight: [] });
  });

  it('a received range waiting for an earlier one is not asked again while the earlier one is in flight', () => {
    const { g, heads, advance } = setup();
    g.addPeer('p', {});
    g.addPeer('q', {});
    g.learn('p', [{ author: A, mine: 0, theirs: 2 * GAP_BATCH_SEQS, fork: false }]);
    g.learn('q', [{ author: A, mine: 0, theirs: 2 * GAP_BATCH_SEQS, fork: false }]);
    const reqs = g.next();
    const low = reqs.find((r) => r.from === 1)!;
    const high = reqs.find((r) => r.from === GAP_BATCH_SEQS + 1)!;
    expect(low.peer).not.toBe(high.peer);
    // The higher range arrives first; the ledger holds it until the lower one chains it.
    g.settle(high.rid, { received: GAP_BATCH_SEQS, added: GAP_BATCH_SEQS, forks: 0, rejected: 0 });
    // The lower one takes long (its answer waits behind this node's ingest of the peer's others).
    for (let i = 0; i < 8; i++) {
      advance(T / 2, { [low.peer]: T / 2 });
      expect(g.tick()).toEqual([]);
      expect(g.next(), `after ${(i + 1) / 2} timeouts`).toEqual([]);
    }
    heads.set(A, 2 * GAP_BATCH_SEQS);
    g.settle(low.rid, { received: GAP_BATCH_SEQS, added: GAP_BATCH_SEQS, forks: 0, rejected: 0 });
    expect(g.status({ fresh: true }).missing).toBe(0);
  });
});

describe('Merkle exchange timeouts', () => {
  const X = SYNC_EXCHANGE_TIMEOUT_MS;

  function exchange() {
    let t = 0;
    let busy = 0;
    const tree = HeadsTree.from([{ author: A, seq: 3, hash: 'ab'.repeat(32) }]);
    const rand = mulberry32(2);
    const opts = { random: (n: number) => randomBytes(n, rand), now: () => t, busyMs: () => busy };
    const { exchange: x } = Exchange.initiate(tree, 1, new Uint8Array(16), opts);
    /** `ms` pass; this node spends `handling` of them handling the peer's messages. */
    const advance = (ms: number, handling = 0): void => {
      t += ms;
      busy += handling;
    };
    return { x, advance, now: () => t };
  }

  it("this node's time handling the peer's messages does not count against the wait for its next step", () => {
    const { x, advance, now } = exchange();
    // 3 timeouts pass, nearly all of them ingesting the peer's earlier answers (its step waits behind them).
    advance(3 * X, 3 * X - 10);
    expect(x.expired(now())).toBe(false);
    advance(X - 20);
    expect(x.expired(now())).toBe(false);
    advance(20);
    expect(x.expired(now())).toBe(true);
  });

  it('the pause is capped: a silent peer times out after GAP_REQUEST_MAX_PAUSE_MS plus the timeout whatever this node does', () => {
    const { x, advance, now } = exchange();
    advance(GAP_REQUEST_MAX_PAUSE_MS + X, GAP_REQUEST_MAX_PAUSE_MS + X);
    expect(x.expired(now())).toBe(false);
    advance(1, 1);
    expect(x.expired(now())).toBe(true);
  });
});
