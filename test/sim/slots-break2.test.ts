// Starving a newcomer of request slots (issue 7 red team, round 2). Gap fill keeps at most
// GAP_MAX_REQUESTS_TOTAL (12) range requests in flight over all peers, GAP_MAX_REQUESTS_PER_PEER
// (4) per peer, and ranks targets "tail first, then smaller gaps". Three colluding peers each
// claim a few hundred fake feeds at seq 1 (gap 1: ranked before any real catch-up) and answer
// every request with nothing, just before the request would time out (an empty answer costs
// them no backoff). The newcomer must still catch up with an honest peer's 600 entries at close
// to the honest speed. SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { decodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };
const TIMEOUT_MS = 1500;
const WRITES = 600;
const FAKES = 300;

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

async function catchUp(seed: number, sybils: number): Promise<{ ms: number; done: boolean }> {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: TIMEOUT_MS });
  const a = await c.addNode('a', 1, { scoring: true });
  for (let i = 0; i < WRITES; i++) await a.tl.ledger.put(`k${i}`, i);
  const n = await c.addNode('n', 3, { scoring: true });
  for (let s = 0; s < sybils; s++) {
    const id = `s${s}`;
    const fakes = fakeHeads(FAKES, seed * 10 + s);
    const fake = new Set(fakes.map((f) => f.author));
    await c.addNode(id, 70 + s, {
      honest: false,
      wrapReplica: (base: SyncReplica): SyncReplica => ({
        ...base,
        heads: () => [...base.heads(), ...fakes],
        getRange: async (author, from, to, max) => (fake.has(author) ? [] : base.getRange(author, from, to, max))
      }),
      wrapSend: (to, bytes) => {
        if (decodeSyncMessage(bytes).t !== 'entries') return bytes;
        c.net.schedule(TIMEOUT_MS - 200, () => {
          const t = c.nodes.get(to)!;
          if (t.links.has(id)) return t.engine.receive(id, bytes);
        });
        return null;
      }
    });
  }
  // The colluders are met first (as when a newcomer's first links are to them); a comes 2 s later.
  if (sybils > 0) {
    c.net.offline.add('a');
    c.refreshLinks();
    await c.net.run(() => false, c.net.time + 2000);
    c.net.offline.delete('a');
  }
  c.refreshLinks();
  const t0 = c.net.time;
  const done = await c.net.run(() => n.tl.ledger.get(`k${WRITES - 1}`) === WRITES - 1, t0 + 300_000);
  const ms = Math.round(c.net.time - t0);
  console.log(
    `SEED=${seed} ${sybils} sybils × ${FAKES} fake feeds: ${WRITES} entries in ${ms} ms virtual, done=${done}, newcomer holds ${n.tl.ledger.heads().find((h) => h.author === a.tl.ledger.author)?.seq ?? 0}`
  );
  return { ms, done };
}

describe('sync red team 2: colluding peers hold every request slot', () => {
  it('one such peer: the newcomer still catches up near honest speed', async () => {
    const seed = seeds(1, 9200)[0];
    const base = await catchUp(seed, 0);
    const hostile = await catchUp(seed, 1);
    expect(hostile.done, `SEED=${seed}`).toBe(true);
    expect(hostile.ms, `SEED=${seed}`).toBeLessThanOrEqual(3 * base.ms + 4 * TIMEOUT_MS);
  }, 60_000);

  // Input: SEED=9200; honest 'a' with 600 entries; empty newcomer 'n'; three peers s0..s2, each
  //   announcing its own (empty) heads plus 300 fake feeds at seq 1, answering every range
  //   request with nothing 1.3 s after it arrives (sim timeout 1.5 s); n meets them first and
  //   'a' 2 s later.
  // Expected: n holds a's 600 entries within ~3x the honest time (a few hundred ms) plus a few
  //   timeouts: claims nobody backs up must not hold up a feed an honest peer serves.
  // Actual: (console line) n's catch-up waits until the fake claims are used up: every fake
  //   target has gap 1, so rankedTargets() puts all 900 before a's 600-entry history gap, and
  //   each colluder takes its 4 slots (12 = GAP_MAX_REQUESTS_TOTAL with three) for 1.3 s per
  //   fake claim, with no backoff (empty answers are not penalised since the answers fix).
  //   900 claims / 12 slots × 1.3 s ≈ 100 s; with production timeouts (5 s) and 10,000 fake
  //   feeds per colluder, hours.
  // Fixed (gap-fill.ts): over the total request cap, a peer with nothing in flight still gets one
  //   request, so slow claimants cannot take every slot.
  // Suggested fix was (gap-fill.ts): reserve slots per holder class (never let requests to peers
  //   that have only answered empty/slow take the last free slots while a target has a useful
  //   holder), rank targets by the holder's usefulness before gap size, or count a slow empty
  //   answer as a failure (backoff) when the peer has no useful answer recently; and keep the
  //   total cap per peer share (e.g. at most half of GAP_MAX_REQUESTS_TOTAL to peers with a
  //   score <= 0).
  it('three such peers: the newcomer still catches up near honest speed', async () => {
    const seed = seeds(1, 9200)[0];
    const base = await catchUp(seed, 0);
    const hostile = await catchUp(seed, 3);
    expect(hostile.done, `SEED=${seed}`).toBe(true);
    expect(hostile.ms, `SEED=${seed}`).toBeLessThanOrEqual(3 * base.ms + 4 * TIMEOUT_MS);
  }, 60_000);
});
