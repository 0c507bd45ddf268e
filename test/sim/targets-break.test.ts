// Gap-fill target table flood (issue 7 red team): a sync peer announces GAP_MAX_TARGETS feeds
// that do not exist (one fake head each) and serves none of them. The honest node records one
// gap-fill target per claimed author, and such a target is only dropped once filled. Then a new
// honest author appears: its entries must still reach the node through sync. SEED=n replays.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { GAP_MAX_TARGETS } from '../../src/lib/core/sync/constants.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import type { FeedHead } from '../../src/lib/core/types.js';

const link = { loss: 0, dup: 0, latencyMin: 2, latencyMax: 20 };

function fakeHeads(n: number, seed: number): FeedHead[] {
  const r = mulberry32(seed);
  const hex = (bytes: number): string =>
    Array.from({ length: bytes }, () =>
      Math.floor(r() * 256)
        .toString(16)
        .padStart(2, '0')
    ).join('');
  return Array.from({ length: n }, () => ({ author: hex(32), seq: 1, hash: hex(32) }));
}

describe('sync red team: a flood of claimed feeds', () => {
  // Found by the issue-7 red team (was an expected failure): the gap-fill target table fills up with claims for good.
  // Input: SEED=8500; honest node 'a'; a liar connected to 'a' whose heads are its own plus
  //   GAP_MAX_TARGETS (100,000) fake feeds at seq 1 (random authors and hashes), serving nothing
  //   of them; after one exchange, an empty honest node 'n' writes 20 entries and connects to 'a'
  //   (no gossip, so sync alone must carry them).
  // Expected: 'a' fetches n's 20 entries (same heads root as 'n') within a few periods.
  // Actual: 'a' never does: GapFill.learn() skips new authors once targets.size >=
  //   GAP_MAX_TARGETS ("a later exchange finds them again once the queue drains"), but the fake
  //   targets are never filled, so the queue never drains; each pump also ranks all 100,000.
  // Suggested fix (gap-fill.ts): evict targets whose holders all answered empty (or that have no
  //   holder left) before refusing a new one; cap targets per claiming peer (e.g. a share of
  //   GAP_MAX_TARGETS per holder) so one peer cannot fill the table; prefer authors claimed by
  //   more than one peer.
  // Fixed (gap-fill.ts): a full table drops an unconfirmed target, else one held only by the
  //   peer claiming the most, to admit another peer's claim; holderless targets skip ranking.
  it('a new honest author still syncs after a liar claimed GAP_MAX_TARGETS fake feeds', async () => {
    const seed = seeds(1, 8500)[0];
    const c = new Cluster({ seed, link, gossip: false, periodMs: 3000 });
    const a = await c.addNode('a', 1);
    for (let i = 0; i < 5; i++) await a.tl.ledger.put(`a${i}`, i);
    const fakes = fakeHeads(GAP_MAX_TARGETS, seed);
    const fake = new Set(fakes.map((f) => f.author));
    await c.addNode('liar', 66, {
      honest: false,
      wrapReplica: (base) => ({
        ...base,
        heads: () => [...base.heads(), ...fakes],
        getRange: async (author, from, to, max) => (fake.has(author) ? [] : base.getRange(author, from, to, max))
      })
    });
    c.refreshLinks();
    await c.net.run(() => a.engine.status().missingAuthors >= GAP_MAX_TARGETS, 120_000);
    console.log(
      `SEED=${seed}: 'a' holds ${a.engine.status().missingAuthors} claimed gaps at ${Math.round(c.net.time)} ms`
    );
    const t1 = performance.now();
    for (let i = 0; i < 4; i++) a.engine.tick();
    const tickMs = (performance.now() - t1) / 4;
    console.log(
      `SEED=${seed}: one engine.tick() on 'a' takes ${tickMs.toFixed(1)} ms CPU (every 250 ms in the worker)`
    );
    const n = await c.addNode('n', 2);
    for (let i = 0; i < 20; i++) await n.tl.ledger.put(`n${i}`, i);
    c.refreshLinks();
    const t0 = performance.now();
    const root = (): string => headsRoot(n.tl.ledger.heads());
    await c.net.run(() => headsRoot(a.tl.ledger.heads()) === root(), c.net.time + 15_000);
    console.log(
      `SEED=${seed}: after 15 s virtual 'a' holds ${a.tl.ledger.get('n19') === undefined ? 'none' : 'all'} of n's entries (${Math.round(performance.now() - t0)} ms CPU)`
    );
    expect(a.tl.ledger.get('n19'), `SEED=${seed}`).toBe(19);
  }, 300_000);
});
