// An honest peer on a lossy link (issue 7 red team, round 3). Since round 2, GAP_CLAIM_TIMEOUTS
// (3) request timeouts in a row on one claim refuse that claim for GAP_REFUSED_MS (60 s): the
// target loses its holder, becomes "unconfirmed" (not counted in missing) and is not requested
// again, even when the next Merkle exchange with the same peer finds the same claim. Up to three
// requests for one author are in flight to a single holder at once, so one burst of loss can
// time all three out together. An honest sole holder on a lossy link should still be used: the
// newcomer must catch up within a few times the lossless time, and never report missing 0 while
// it is behind a connected honest peer. SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';

const TIMEOUT_MS = 1500;
const WRITES = 600;

async function catchUp(seed: number, loss: number) {
  const link = { loss, dup: 0, latencyMin: 5, latencyMax: 30 };
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: TIMEOUT_MS });
  const a = await c.addNode('a', 1, { scoring: true });
  for (let i = 0; i < WRITES; i++) await a.tl.ledger.put(`k${i}`, i);
  const n = await c.addNode('n', 3, { scoring: true });
  c.refreshLinks();
  const t0 = c.net.time;
  let zeroMs = 0;
  let last = t0;
  const author = a.tl.ledger.author;
  const done = await c.net.run(() => {
    const head = n.tl.ledger.heads().find((h) => h.author === author)?.seq ?? 0;
    const st = n.engine.status();
    // Behind a connected honest peer that has compared with us, yet "nothing missing".
    if (head > 0 && head < WRITES && st.missing === 0 && n.links.has('a')) zeroMs += c.net.time - last;
    last = c.net.time;
    return head === WRITES;
  }, t0 + 300_000);
  const ms = Math.round(c.net.time - t0);
  const head = n.tl.ledger.heads().find((h) => h.author === author)?.seq ?? 0;
  console.log(
    `SEED=${seed} loss=${loss}: ${WRITES} entries in ${ms} ms virtual, done=${done}, head ${head}, ~${Math.round(zeroMs)} ms with missing=0 while behind, a banned ${n.book!.isBanned('a')}`
  );
  return { ms, done, zeroMs };
}

describe('sync red team 3: an honest peer on a lossy link', () => {
  // Input: SEED=9401; honest 'a' with 600 entries, empty honest newcomer 'n' (scoring on), one
  //   link with 25% message loss (sim timeout 1.5 s, period 3 s). Over SEED=9400..9407 the
  //   lossless catch-up takes 0.2-3 s and the lossy one 4.5-216 s; five of eight seeds take 140-216 s.
  //   At 10% loss (the CI scenario draws up to 20%), SEED=9406 takes 67.5 s, 61.6 s of it with
  //   missing = 0 while behind.
  // Expected: catch-up within a few times the lossless time plus a few timeouts per loss (well
  //   under 60 s), and status().missing > 0 whenever n is behind a connected peer that claims
  //   more (a's claim is honest and a never stops serving).
  // Actual: 202,765 ms virtual (vs 221 ms lossless), of which ~126 s with missing = 0 while n is
  //   behind a connected honest peer: three timeouts on a's claim (often three requests of one
  //   window lost together) refuse it for GAP_REFUSED_MS; the target turns "unconfirmed" and each
  //   new exchange with a finds the very same claim and ignores it (learnTarget: claim <=
  //   refused.claim). Repeats after every 60 s window. With production timings (5 s, 30 s
  //   period) the same holds per refusal: a sole honest holder on a bad link is unused for
  //   minutes, and the UI says "up to date".
  // Fixed (gap-fill.ts fail: timeouts count once per round, only for a peer not useful lately, and refuse for 10 s; a connected claimant's refused claim still counts as missing).
  // Suggested fix was (gap-fill.ts): do not refuse a claim on timeouts when the peer answered other
  //   requests (any want) usefully since, or count timeouts per distinct round (not per request
  //   of one burst); let a refused target still count in missing when its claimant is connected
  //   and still claims it after a later exchange; and cap the refusal of a timed-out claim at a
  //   few backoff periods rather than 60 s, keeping the 60 s refusal for empty answers only.
  it('a sole honest holder on a 25% lossy link is used; missing never reads 0 while behind', async () => {
    const seed = seeds(1, 9401)[0];
    const base = await catchUp(seed, 0);
    const lossy = await catchUp(seed, 0.25);
    expect(lossy.done, `SEED=${seed}`).toBe(true);
    expect(lossy.zeroMs, `SEED=${seed}: ms with missing=0 while behind`).toBe(0);
    expect(lossy.ms, `SEED=${seed}`).toBeLessThanOrEqual(Math.max(20 * base.ms, 30_000));
  }, 60_000);
});
