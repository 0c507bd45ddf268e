// GapFill's "fetched" memory is never released for authors that are done (issue 7 red team,
// round 4). settle() remembers each received range (markFetched) for one request timeout, so
// that later parts are not asked again while earlier ones arrive. Expired ranges are dropped only
// by covered(), which only planRange() calls, i.e. only for authors that still have a target.
// Once an author's gap is filled, its target is deleted and its `fetched` record stays for the
// life of the node. Every author ever fetched leaks one map entry (its 64-char key and a list):
// a peer announcing many small fresh feeds (one signed entry each) grows the node's heap for
// good. SEED=n replays a run.
// Fixed (gap-fill.ts deleteTarget): a target's fetched record goes with it.
import { describe, expect, it } from 'vitest';
import { GapFill } from '../../src/lib/core/sync/gap-fill.js';
import { GAP_REQUEST_TIMEOUT_MS } from '../../src/lib/core/sync/constants.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { seeds } from '../sim/scenario.js';

const AUTHORS = 20_000;

function run(seed: number): { left: number; targets: number } {
  let now = 0;
  const head = new Map<string, number>();
  const g = new GapFill({ now: () => now, random: mulberry32(seed), localHead: (a) => head.get(a) ?? 0 });
  g.addPeer('p', { rttMs: 50 });
  const hex = (i: number): string => (i * 7919 + seed).toString(16).padStart(64, '0');
  g.learn(
    'p',
    Array.from({ length: AUTHORS }, (_, i) => ({ author: hex(i), mine: 0, theirs: 1, fork: false }))
  );
  // The peer answers every request at once with its one entry; the node stores it.
  for (let round = 0; round < AUTHORS; round++) {
    const reqs = g.next();
    if (reqs.length === 0) break;
    for (const r of reqs) {
      head.set(r.author, 1);
      g.settle(r.rid, { received: 1, added: 1, forks: 0, rejected: 0, bytes: 300 });
    }
    now += 10;
  }
  // Long after every request timeout.
  now += 100 * GAP_REQUEST_TIMEOUT_MS;
  g.next();
  const internals = g as unknown as { fetched: Map<string, unknown>; targets: Map<string, unknown> };
  const left = internals.fetched.size;
  console.log(
    `SEED=${seed}: ${AUTHORS} one-entry feeds fetched and done; targets left ${internals.targets.size}, status missing ${g.status().missing}; "fetched" records left ${left}`
  );
  return { left, targets: internals.targets.size };
}

describe('sync red team 4: fetched ranges of finished authors', () => {
  // Input: SEED=9840; one peer claims 20,000 one-entry feeds; each request is answered at once
  //   with the entry, which the node stores; then 500 s of virtual time pass.
  // Expected: nothing about the finished authors is kept (targets 0, fetched 0).
  // Actual: targets 0, missing 0, but 20,000 "fetched" records are still held, for good.
  // Suggested fix (gap-fill.ts): drop the author's fetched list in deleteTarget() (and sweep
  //   expired lists in tick()).
  it('no per-author record survives once every gap is filled', () => {
    const seed = seeds(1, 9840)[0];
    const { left, targets } = run(seed);
    expect(targets, `SEED=${seed}`).toBe(0);
    expect(left, `SEED=${seed}`).toBe(0);
  }, 30_000);
});
