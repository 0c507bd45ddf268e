// Sybil claimants (issue 7 red team, round 2): the fix for the target-table flood evicts a target
// "held only by the peer claiming the most". Two colluding peers claim the SAME GAP_MAX_TARGETS
// fake feeds (so every fake target has two holders) and never answer a request for them (silence:
// a timeout keeps the holder, only "nothing" refuses it). Then a new honest author appears: its
// entries must still reach the node through sync. SEED=n replays.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { GAP_MAX_TARGETS } from '../../src/lib/core/sync/constants.js';
import { decodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';

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

describe('sync red team 2: colluding claimants', () => {
  // Input: SEED=8600; honest node 'a'; two liars 'l1' and 'l2', each announcing its own heads
  //   plus the same GAP_MAX_TARGETS (100,000) fake feeds at seq 1, and dropping every (empty)
  //   answer to a request for them (silence); after both exchanged with 'a', an empty honest node
  //   'n' writes 20 entries and connects to 'a' (no gossip: sync alone must carry them).
  // Expected: 'a' fetches n's 20 entries within a few periods (as with one liar,
  //   targets-break.test.ts).
  // Actual: (see the console line) 'a' never tracks n's feed: the table is full, no target is
  //   unconfirmed (silent liars stay holders; only an empty answer refuses a holder), and
  //   evictTarget() only drops a target "held only by" the top claimant: every fake target has
  //   two holders, so nothing is evicted and n's claim is dropped at every exchange.
  // Fixed (gap-fill.ts): GAP_CLAIM_TIMEOUTS timeouts in a row refuse a claim, and a full table
  //   drops a target whose holders all claim more than the newcomer's claimant.
  // Suggested fix was (gap-fill.ts): count a request timeout against the claim too (after k timeouts
  //   for a claim, treat the holder as refused for it, like an empty answer), and evict by
  //   claimant share rather than sole holding: e.g. cap each peer's claims at a share of
  //   GAP_MAX_TARGETS and, when full, drop a target whose holders all claim more than the
  //   newcomer's claimant (or all are in backoff).
  it('a new honest author still syncs after two liars co-claimed GAP_MAX_TARGETS fake feeds', async () => {
    const seed = seeds(1, 8600)[0];
    const c = new Cluster({ seed, link, gossip: false, periodMs: 3000 });
    const a = await c.addNode('a', 1);
    for (let i = 0; i < 5; i++) await a.tl.ledger.put(`a${i}`, i);
    const fakes = fakeHeads(GAP_MAX_TARGETS, seed);
    const fake = new Set(fakes.map((f) => f.author));
    const liar = (base: SyncReplica): SyncReplica => ({
      ...base,
      heads: () => [...base.heads(), ...fakes],
      getRange: async (author, from, to, max) => (fake.has(author) ? [] : base.getRange(author, from, to, max))
    });
    const silent = (_to: string, bytes: Uint8Array): Uint8Array | null => {
      const m = decodeSyncMessage(bytes);
      return m.t === 'entries' && m.entries.length === 0 ? null : bytes;
    };
    await c.addNode('l1', 66, { honest: false, wrapReplica: liar, wrapSend: silent });
    await c.addNode('l2', 67, { honest: false, wrapReplica: liar, wrapSend: silent });
    c.refreshLinks();
    await c.net.run(() => a.engine.status().peers.every((p) => p.exchangesCompleted > 0), 120_000);
    console.log(
      `SEED=${seed}: 'a' holds ${a.engine.status().missingAuthors} claimed gaps at ${Math.round(c.net.time)} ms`
    );
    const n = await c.addNode('n', 2);
    for (let i = 0; i < 20; i++) await n.tl.ledger.put(`n${i}`, i);
    c.refreshLinks();
    const root = (): string => headsRoot(n.tl.ledger.heads());
    await c.net.run(() => headsRoot(a.tl.ledger.heads()) === root(), c.net.time + 15_000);
    const st = a.engine.status();
    console.log(
      `SEED=${seed}: after 15 s virtual 'a' holds ${a.tl.ledger.get('n19') === undefined ? 'none' : 'all'} of n's entries; missingAuthors ${st.missingAuthors}, unconfirmed ${st.unconfirmed}`
    );
    expect(a.tl.ledger.get('n19'), `SEED=${seed}`).toBe(19);
  }, 120_000);
});
