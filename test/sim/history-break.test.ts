// Breaking feed history on demand (issue 9 red team): a light replica reading history it pruned
// through the sync engine's on-demand range requests (engine.requestRange), in the seeded
// simulation. SEED=n replays a run.
//
// Finding 1: an honest full replica that knows a feed is void gets banned by a history read.
// Input: a light replica pruned most of author f's 1,500-entry feed. An honest full replica 'g'
//   holds the whole feed; then f equivocates at seq 300 (deep in what the light replica pruned)
//   and 'g' gets the other variant, so 'g' knows the feed is void from 300. Before anti-entropy
//   tells the light replica, its user opens history below seq 350.
// Expected: 'g' is an honest peer: it serves the feed up to 299 and answers a request at or above
//   the fork with the fork evidence (ledger-replica.ts getRange), exactly what PROTOCOL §11.5
//   allows. The read may fail or end below the fork, but 'g' must not be reported or banned.
// Actual (measured): engine.requestRange treats any non-'chain' answer as a range mismatch and
//   calls onPeerRejected(SyncRangeMismatchError) — a ban offence — so 'g' is banned ('sync-range-
//   mismatch') and the light replica hangs up on the only honest full replica it has.
// Suggested fix: in requestRange, an answer of shape 'evidence' is not an offence: hand the pair to
//   the replica's ingest (it voids the feed there too, as gap fill does) and fail the request with
//   a typed "feed void from s" error so FeedHistory ends the page below the fork.
// Severity: high (an honest relay/full replica is banned by ordinary reading; repeat offences
//   escalate its ban).
import { describe, expect, it } from 'vitest';
import { Cluster, type SimNode } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { FeedHistory, ledgerHistorySource } from '../../src/lib/core/history/index.js';
import { makeChain } from '../helpers/ledger-fixtures.js';
import { encodeEntry } from '../../src/lib/core/entry.js';

const WRITES = 1500;
const BUDGET = 32 * 1024;
const FORK = 300;

/** Awaits `p`, moving virtual time on only while a range request of `light` is in flight. */
async function drive<T>(c: Cluster, light: SimNode, p: Promise<T>): Promise<T | Error> {
  let done = false;
  const settled = p.then(
    (v) => ((done = true), v),
    (e: Error) => ((done = true), e)
  );
  const limit = c.net.time + 120_000;
  while (!done && c.net.time < limit) {
    if (light.engine.onDemandInFlight > 0) await c.net.run(() => true, limit);
    else await new Promise((r) => setImmediate(r));
  }
  return settled;
}

function history(light: SimNode): FeedHistory {
  return new FeedHistory({
    source: ledgerHistorySource(light.tl.ledger),
    fetch: (a, from, to, o) => light.engine.requestRange(a, from, to, o),
    onInvalid: (peer, e) => light.engine.reportInvalid(peer, e)
  });
}

describe('history red team: honest peers', () => {
  it.fails(
    'an honest full replica that serves fork evidence to a history read is not banned',
    async () => {
      for (const seed of seeds(2, 9900)) {
        const c = new Cluster({ seed, link: { loss: 0, dup: 0, latencyMin: 2, latencyMax: 40 }, gossip: false });
        const f = await c.addNode('f', 1);
        for (let i = 0; i < WRITES; i++) await f.tl.ledger.put(`k${i % 100}`, { i });
        const light = await c.addNode('l', 3, { scoring: true, ledger: { role: 'light', budgetBytes: BUDGET } });
        c.refreshLinks();
        await c.net.run(() => compareHonest(c).length === 0, c.net.time + 120_000);
        await light.tl.ledger.compact();
        await c.closeNode('f');
        const g = await c.addNode('g', 4);
        await g.tl.ledger.ingest(f.tl.log.map((h) => encodeEntry(h.entry)));
        c.refreshLinks();
        const ready = () => light.engine.status().peers.some((p) => p.peer === 'g' && p.role === 'full');
        await c.net.run(() => ready() && light.engine.idle(), c.net.time + 60_000);
        // f signs another entry at FORK; g learns it (the feed is void there), l not yet.
        const [other] = await makeChain(f.tl.keys, 1, f.tl.ledger.networkId, f.tl.log[FORK - 2], 'fork');
        await g.tl.ledger.ingest([encodeEntry(other.entry)]);
        const author = f.tl.ledger.author;
        const voidAtG = g.tl.ledger.voidFrom(author);
        const read = await drive(c, light, history(light).page(author, { before: FORK + 50, limit: 100 })).then((p) =>
          p instanceof Error ? `${p.name}: ${p.message}` : `${p.items.length} items`
        );
        const byG = light.rejections.filter((r) => r.peer === 'g').map((r) => r.code);
        console.log(
          `SEED=${seed} void at g ${voidAtG}, void at l ${light.tl.ledger.voidFrom(author)}; read: ${read}; g reported: ${byG.join(', ') || 'no'}; g banned ${light.book!.isBanned('g')}`
        );
        expect(voidAtG, `SEED=${seed}`).toBe(FORK);
        expect(byG, `SEED=${seed}`).toEqual([]);
        expect(light.book!.isBanned('g'), `SEED=${seed}`).toBe(false);
      }
    },
    300_000
  );
});
