// The short-answer rule punishes an honest server of void feeds (issue 7 red team, round 4).
// gap-fill.ts settle(): a range answer with fewer entries than asked and under half the byte cap
// earns no credit and a GAP_BACKOFF_BASE_MS (250 ms) pause for the WHOLE peer. A void feed (an
// equivocating author, PROTOCOL.md §6.1) is announced with a void head seq (void.ts), so the
// request for it asks for a full batch (local+1 .. local+64), and an honest server stops at the
// seq before the fork (ledger-replica.ts getRange): a short answer, every time. An attacker who
// makes many small void feeds (each: 10 entries, then two signed variants of seq 11; 12
// signatures per feed, any number of fresh keys) pauses every honest server once per feed for
// every newcomer, serialising the whole catch-up behind 250 ms steps. SEED=n replays a run.
// Partly fixed (gap-fill.ts isShort): a holder claiming the void head is never short (33.4 s ->
// 5.9 s against 1.0 s unforked); still over 3x: each void feed costs its own evidence round.
// Fixed (sync protocol version 4, PROTOCOL.md §11.5): a server's answer that reaches its void
// fork carries the fork pair appended (ledger-replica.ts), and a void claim is asked up to its fork
// seq only (gap-fill.ts reachOf), so a void feed costs one request like a plain one; a short
// answer pauses only that author's ranges with that peer; feeds known only from void claims rank
// after the others (7.6 s -> 1.1 s against 1.0 s unforked; a's own feed 7.6 s -> 0.2 s).
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { publicKeyFromSeed } from '../../src/lib/core/ed25519.js';
import { makeChain } from '../helpers/ledger-fixtures.js';
import { isVoidSeq } from '../../src/lib/core/void.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };
const FEEDS = 100;
const LEN = 10;

/** `FEEDS` feeds of LEN entries each; `forked`: plus two variants of seq LEN+1 (void feeds). */
async function feeds(seed: number, net: Uint8Array, forked: boolean): Promise<Uint8Array[]> {
  const r = mulberry32(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < FEEDS; i++) {
    const s = new Uint8Array(32).map(() => Math.floor(r() * 256));
    const keys = { seed: s, publicKey: await publicKeyFromSeed(s) };
    const chain = await makeChain(keys, LEN, net);
    out.push(...chain.map((h) => encodeEntry(h.entry)));
    if (!forked) continue;
    const [x] = await makeChain(keys, 1, net, chain[LEN - 1], 'x');
    const [y] = await makeChain(keys, 1, net, chain[LEN - 1], 'y');
    out.push(encodeEntry(x.entry), encodeEntry(y.entry));
  }
  return out;
}

async function run(seed: number, forked: boolean) {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: 1500 });
  const a = await c.addNode('a', 1, { scoring: true });
  for (let i = 0; i < 200; i++) await a.tl.ledger.put(`k${i}`, i);
  const rep = await a.tl.ledger.ingest(await feeds(seed, a.tl.ledger.networkId, forked));
  const voids = a.tl.ledger.heads().filter((h) => isVoidSeq(h.seq)).length;
  if (voids !== (forked ? FEEDS : 0)) throw new Error(`setup: ${voids} void feeds, ${JSON.stringify(rep)}`);
  const n = await c.addNode('n', 3, { scoring: true });
  c.refreshLinks();
  const t0 = c.net.time;
  const own = a.tl.ledger.author;
  await c.net.run(() => (n.tl.ledger.heads().find((h) => h.author === own)?.seq ?? 0) >= 200, t0 + 300_000);
  const ownMs = Math.round(c.net.time - t0);
  const done = await c.settle(300_000);
  const ms = Math.round(c.net.time - t0);
  console.log(
    `SEED=${seed} ${FEEDS} spam feeds of ${LEN} entries, void=${forked}: a's own 200 entries in ${ownMs} ms, n converged with a in ${ms} ms (done ${done}); n holds ${n.tl.ledger.heads().length} feeds, ${n.tl.ledger.forks().length} forks`
  );
  return { ms, ownMs, done };
}

describe('sync red team 4: short answers for void feeds pause an honest server', () => {
  // Input: SEED=9820; honest 'a' holds its own 200 entries and 100 spam feeds of 10 entries;
  //   newcomer 'n' links to a. Control: the spam feeds are plain. Attack: each spam feed is
  //   void (two signed variants of seq 11).
  // Expected: the void feeds cost about one extra round trip each (the evidence), in parallel:
  //   within 3x the plain catch-up.
  // Actual: plain: everything (a's own 200 entries included) in 1,022 ms. Void: 33,386 ms (33x),
  //   and a's OWN honest feed also arrives only at 33,386 ms: void heads rank first (gapOf
  //   counts a void gap as 1, the smallest), and each void feed's first answer (seqs 1..10 of
  //   the 1..64 asked, ~3 KB) is "short", pausing a (all its requests) for 250 ms. 100 spam
  //   feeds (1,200 signatures, once) cost every newcomer ~32 s per honest server; 1,000 cost
  //   minutes.
  // Suggested fix (gap-fill.ts settle): do not count an answer as short when the claim it was
  //   asked for is a void head (the server stops before the fork by rule; the next request
  //   fetches the evidence), or ask a void claim's holder for the evidence directly; and make
  //   the short-answer pause apply to that author's ranges with that peer, not to the whole
  //   peer.
  // Now: void 1,099 ms against plain 1,022 ms; a's own feed at 199 ms (plain: 1,022 ms).
  it("void spam feeds: catch-up within 3x of the same feeds unforked, the honest author's feed not behind them", async () => {
    const seed = seeds(1, 9820)[0];
    const plain = await run(seed, false);
    const hostile = await run(seed, true);
    expect(plain.done && hostile.done, `SEED=${seed}`).toBe(true);
    expect(hostile.ms, `SEED=${seed}`).toBeLessThanOrEqual(3 * plain.ms);
    expect(hostile.ownMs, `SEED=${seed}`).toBeLessThanOrEqual(plain.ownMs);
  }, 60_000);
});
