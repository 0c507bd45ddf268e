// Abusing the fork-evidence answer shape (issue 7 red team, round 3). answer-shape.ts accepts, for
// any range request of author A, a two-entry "evidence" answer whose first entry is ANY entry by A
// (any seq) and whose second is ANY entry by another key (a clientID collision, §6.2). A liar that
// holds A's feed answers every request for A with [A's genuine seq 1, a fresh valid entry of a
// brand-new key it just minted]. The fresh entry is "added", so the answer counts as useful: the
// liar is never refused, never backs off and scores well, while it never serves A's range.
// A newcomer (meeting the liar 500 ms before the honest peer) must still catch up with A's 600 entries from the honest peer at near honest speed.
// SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { mulberry32, randomBytes } from '../helpers/fake-feed.js';
import { yUpdate } from '../helpers/ledger-fixtures.js';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { publicKeyFromSeed } from '../../src/lib/core/ed25519.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import type { TestLedger } from '../helpers/ledger-nodes.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };
const TIMEOUT_MS = 1500;
const WRITES = 600;

/** A fresh key's signed seq-1 entry (a new feed each call). */
async function freshFeed(tl: TestLedger, rand: () => number, i: number): Promise<Uint8Array> {
  const seed = randomBytes(32, rand);
  const keys = { seed, publicKey: await publicKeyFromSeed(seed) };
  const payload = yUpdate(`junk${i}`, i, clientIdOf(toHex(keys.publicKey)));
  const e = await createEntry(
    { keys, seq: 1, prev: new Uint8Array(32), lamport: 1, time: 1, clock: 1, payload },
    tl.ledger.networkId
  );
  return encodeEntry(e.entry);
}

async function catchUp(seed: number, liar: boolean) {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: TIMEOUT_MS });
  const a = await c.addNode('a', 1, { scoring: true });
  for (let i = 0; i < WRITES; i++) await a.tl.ledger.put(`k${i}`, i);
  const author = a.tl.ledger.author;
  const rand = mulberry32(seed);
  const stats = { minted: 0 };
  const b = await c.addNode('b', 2, { scoring: true });
  const l = await c.addNode('l', 4, {
    scoring: true,
    honest: !liar,
    wrapReplica: liar
      ? (base: SyncReplica, tl: TestLedger): SyncReplica => ({
          ...base,
          getRange: async (au, from, to, max) => {
            if (au === tl.ledger.author) return base.getRange(au, from, to, max);
            const [first] = await base.getRange(au, 1, 1, max);
            return first ? [first, await freshFeed(tl, rand, stats.minted++)] : [];
          }
        })
      : undefined
  });
  // b and l hold a's feed; a leaves; the newcomer n meets b and l.
  const src = ledgerReplica(a.tl.ledger);
  for (let f = 1; f <= WRITES; f += 64) {
    const batch = await src.getRange(author, f, f + 63, 1 << 22);
    await b.tl.ledger.ingest(batch);
    await l.tl.ledger.ingest(batch);
  }
  await c.closeNode('a');
  const n = await c.addNode('n', 3, { scoring: true });
  // n meets l first (as when its first link is to the liar), b 500 ms later.
  const t0 = c.net.time;
  c.net.offline.add('b');
  c.refreshLinks();
  await c.net.run(() => false, t0 + 500);
  c.net.offline.delete('b');
  c.refreshLinks();
  let sawZero = false;
  const done = await c.net.run(() => {
    const st = n.engine.status();
    const head = n.tl.ledger.heads().find((h) => h.author === author)?.seq ?? 0;
    if (head > 0 && head < WRITES && st.missing === 0) sawZero = true;
    return head === WRITES;
  }, t0 + 120_000);
  const ms = Math.round(c.net.time - t0);
  const head = n.tl.ledger.heads().find((h) => h.author === author)?.seq ?? 0;
  console.log(
    `SEED=${seed} liar=${liar}: ${WRITES} entries in ${ms} ms virtual, done=${done}, newcomer head ${head}, feeds ${n.tl.ledger.heads().length}, junk feeds minted ${stats.minted}, missing-0-while-behind ${sawZero}, l banned ${n.book!.isBanned('l')} rej ${JSON.stringify(n.rejections.slice(0, 3))}`
  );
  return { ms, done, minted: stats.minted, n };
}

describe('sync red team 3: evidence-shaped answers that add junk', () => {
  // Input: SEED=9300; a's 600 entries held by honest 'b' and by liar 'l'; 'a' gone; empty
  //   newcomer 'n' (scoring on) links to l, and to b 500 ms later. l answers every range request for a's feed with
  //   [a's seq 1, a freshly minted key's valid seq-1 entry].
  // Expected: n holds a's 600 entries within ~3x the honest time plus a few timeouts; a liar
  //   that never serves the requested range is refused/backed off, not rated useful.
  // Actual: 600 entries in 25,698 ms virtual instead of 501 ms (51x), and 986 junk feeds planted
  //   in n's ledger (n holds 987 feeds); l is never banned nor refused. (The liar's answers are 'evidence' with added = 1, so
  //   GapFill.settle() neither refuses the claim nor marks the range as fetched; the same lowest
  //   range is planned again, and pickPeer() prefers the peer with fewer requests for the author
  //   and the higher score: the liar. n's head stays stuck while b's later ranges wait in pending,
  //   and every answer plants one new junk feed in n's ledger).
  // Fixed (answer-shape.ts: evidence is the author's twin at one seq <= from, or a key sharing its clientID; it is useful only when it adds a fork).
  // Suggested fix was: check evidence semantically before ingest: evidence for A only when A is void
  //   (or the answer proves a fork/collision): the first entry must be at a seq in the request
  //   or at/below our head with a different hash, and the second by A at the same seq, or by a
  //   key whose clientID equals A's (§6.2). Otherwise treat it as a mismatch (sync-range-mismatch).
  //   And never count what an evidence answer adds beyond the pair's proof as "useful".
  it('a liar answering with junk evidence does not stall the catch-up', async () => {
    const seed = seeds(1, 9300)[0];
    const base = await catchUp(seed, false);
    const hostile = await catchUp(seed, true);
    expect(hostile.done, `SEED=${seed}`).toBe(true);
    expect(hostile.ms, `SEED=${seed}`).toBeLessThanOrEqual(3 * base.ms + 4 * TIMEOUT_MS);
    expect(hostile.minted, `SEED=${seed}: junk feeds planted`).toBeLessThanOrEqual(3);
  }, 60_000);
});
