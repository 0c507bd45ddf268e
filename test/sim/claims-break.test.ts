// Hostile head claims (issue 7 red team): a sync peer that announces heads it cannot back up.
// It claims void heads (PROTOCOL.md §6.1, seq > 2^52) for honest authors it never saw fork, a void
// head and a 2^52 - 1 head for authors that do not exist, and a fork (same seq, another hash) of
// an honest author; asked for any of them it answers nothing. The honest nodes must converge with
// each other, believe no fork, not hammer the liar with requests, and once it is gone report
// nothing missing. SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster, type SimNode } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { voidHead } from '../../src/lib/core/void.js';
import { MAX_ENTRY_SEQ } from '../../src/lib/core/constants.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';

const link = { loss: 0.02, dup: 0.02, latencyMin: 2, latencyMax: 40 };
const PERIOD_MS = 3000;
const GHOST_A = '7a'.repeat(32);
const GHOST_B = '7b'.repeat(32);

/** The liar: its real heads plus `fake` (which win over real ones); serves nothing of the faked authors. */
function liar(fake: () => FeedHead[], gets: { n: number }): (r: SyncReplica) => SyncReplica {
  return (base) => ({
    ...base,
    heads: () => {
      const f = fake();
      const faked = new Set(f.map((h) => h.author));
      return [...base.heads().filter((h) => !faked.has(h.author)), ...f];
    },
    async getRange(author, from, to, maxBytes) {
      gets.n++;
      if (fake().some((h) => h.author === author)) return [];
      return base.getRange(author, from, to, maxBytes);
    }
  });
}

async function world(seed: number): Promise<{ c: Cluster; honest: SimNode[]; gets: { n: number } }> {
  const c = new Cluster({ seed, link, gossip: true, periodMs: PERIOD_MS });
  const honest: SimNode[] = [];
  for (const [i, id] of ['a', 'b', 'c'].entries()) honest.push(await c.addNode(id, i + 1));
  // c writes 5 entries before the liar exists, so the liar can claim another hash at seq 5.
  for (let i = 0; i < 5; i++) await honest[2].tl.ledger.put(`c${i}`, i);
  const [a, b, cc] = honest.map((n) => n.tl.ledger.author);
  const cHead = honest[2].tl.ledger.heads().find((h) => h.author === cc)!;
  const fake = (): FeedHead[] => [
    voidHead(a, 1),
    voidHead(b, 3),
    voidHead(GHOST_A, 1),
    { author: GHOST_B, seq: MAX_ENTRY_SEQ, hash: 'ee'.repeat(32) },
    { author: cc, seq: cHead.seq, hash: 'dd'.repeat(32) }
  ];
  const gets = { n: 0 };
  await c.addNode('liar', 66, { honest: false, wrapReplica: liar(fake, gets) });
  c.refreshLinks();
  for (let i = 0; i < 60; i++) await c.write(i % 2 ? 'a' : 'b', `k${i % 7}`, i);
  return { c, honest, gets };
}

describe('sync red team: head claims without evidence', () => {
  it('honest nodes converge, believe no fork, and ask the liar at most about once per claim per period', async () => {
    for (const seed of seeds(2, 8100)) {
      const { c, honest, gets } = await world(seed);
      await c.net.run(() => compareHonest(c).length === 0, c.net.time + 60_000);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
      for (const n of honest) {
        const l = n.tl.ledger;
        expect(l.forks(), `SEED=${seed} ${n.id}`).toEqual([]);
        for (const h of l.heads()) expect(l.voidFrom(h.author), `SEED=${seed} ${n.id}`).toBe(undefined);
        expect(l.stats({ digest: false }).pending, `SEED=${seed} ${n.id}`).toBe(0);
      }
      // A minute more with the liar connected: requests to it stay around one per claim per period.
      const before = gets.n;
      await c.net.run(() => false, c.net.time + 60_000);
      const asked = gets.n - before;
      const bound = 3 * 5 * (60_000 / PERIOD_MS);
      console.log(
        `SEED=${seed} liar asked ${asked} times in 60 s (bound ${bound}); missing per node:`,
        honest.map((n) => n.engine.status().missing)
      );
      expect(asked, `SEED=${seed}`).toBeLessThanOrEqual(bound);
      // Honest writes still flow.
      await c.write('c', 'late', 1);
      await c.net.run(() => honest.every((n) => n.tl.ledger.get('late') === 1), c.net.time + 30_000);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
    }
  }, 120_000);

  // Found by the issue-7 red team (was an expected failure): claims nobody can back up stay "missing" for good.
  // Input: SEED=8100, the liar above (void heads for two honest authors and a ghost author, a
  //   2^52 - 1 head for another ghost, another hash at c's seq 5); after convergence the liar goes
  //   offline for good and the honest nodes run 2 minutes more.
  // Expected: status().missing === 0 on every honest node (no live peer claims anything we lack;
  //   the claimant answered every request for them with nothing); idle() true.
  // Actual: missing stays >= 4 on the nodes that met the liar (one per void claim, one per fake
  //   fork, and 2^52 - 1 - 0 for the ghost head: a status line of ~4.5e15 missing entries), and
  //   idle() is false forever: GapFill keeps targets and fork wants after their only holder said
  //   "nothing" (settle() drops the holder, removePeer() drops holders, neither drops the want).
  // Suggested fix (gap-fill.ts): when a target or fork want has no holder left and every peer
  //   that claimed it answered empty, drop it (a later exchange finds it again if it is real); or
  //   count only wants with a live holder in `missing` and report the rest as "unconfirmed".
  //   Also cap a target's gap (e.g. want - local <= MAX known from a verified entry) so one claim
  //   cannot show 2^52 missing entries.
  // Fixed (gap-fill.ts): a claim answered with nothing is refused for that peer, and a want with
  //   no holder left is "unconfirmed" (status().unconfirmed), not missing.
  it('once the liar is gone, nothing is reported missing', async () => {
    const seed = seeds(1, 8100)[0];
    const { c, honest } = await world(seed);
    await c.net.run(() => compareHonest(c).length === 0, c.net.time + 60_000);
    await c.net.run(() => false, c.net.time + 10_000);
    c.net.offline.add('liar');
    c.refreshLinks();
    // Idle too (an exchange may be open at any moment, so both are waited for together).
    await c.net.run(
      () => honest.every((n) => n.engine.status().missing === 0 && n.engine.idle()),
      c.net.time + 120_000
    );
    const missing = honest.map((n) => n.engine.status().missing);
    console.log(`SEED=${seed} missing after the liar left:`, missing);
    expect(missing, `SEED=${seed}`).toEqual([0, 0, 0]);
    expect(honest.every((n) => n.engine.idle())).toBe(true);
  }, 120_000);
});
