// A silent liar's want bounces back into "missing" after every refusal (issue 7 red team,
// round 5). Since round 4 (silentclaim-break4) and today's fork-want rule (forkwant-liar), a
// claim or fork want whose holder timed out (or answered errors) GAP_DOUBT_TIMEOUTS (2) rounds in
// a row without delivering stops counting as missing, and after GAP_CLAIM_TIMEOUTS (3) rounds a
// peer that is not "useful lately" has it refused for GAP_REFUSED_MS (60 s). But the refusal
// cleared the peer's timeout count (gap-fill.ts fail), so when the refusal ran out and the next
// Merkle exchange found the same claim, it counted as missing again, for two more rounds, and so
// on forever. The earlier tests use a liar that serves its own feed ("useful": never refused) or
// watch 60 s only; a liar that serves NOTHING does more harm here. SEED=n replays a run.
// Fixed for fork wants (gap-fill.ts fail): the refused holder stays doubtful (its count is kept
// at GAP_DOUBT_TIMEOUTS): a want it claims again counts as missing only once it answers, and one
// more round of silence refuses it again. Fixed for plain claims too (gap-fill.ts fail, doubt,
// learnTarget): the filled target is still dropped when the refusal expires, but the doubt stays
// with the peer (a bounded per-peer set of authors, GAP_DOUBTFUL_PER_PEER, cleared when it
// delivers that author's entries), and a claim of such an author learned again starts at
// GAP_DOUBT_TIMEOUTS.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import type { FeedHead } from '../../src/lib/core/types.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };
const WRITES = 50;
const WATCH_MS = 300_000;

/** fork: the liar announces a's head seq with another hash; claim: a's feed at seq 10,000. */
async function run(seed: number, kind: 'fork' | 'claim', mode: 'silent' | 'busy') {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: 1500 });
  const a = await c.addNode('a', 1, { scoring: true });
  for (let i = 0; i < WRITES; i++) await a.tl.ledger.put(`k${i}`, i);
  const author = a.tl.ledger.author;
  const fake: FeedHead =
    kind === 'fork'
      ? { author, seq: WRITES, hash: 'f'.repeat(64) }
      : { author, seq: 10_000, hash: (10_000).toString(16).padStart(64, '0') };
  // The liar holds nothing of its own and none of a's feed; it answers no range request (its
  // answers are dropped), or answers each with "sync-busy".
  await c.addNode('l', 4, {
    honest: false,
    wrapReplica: (base: SyncReplica): SyncReplica => ({
      ...base,
      heads: () => [...base.heads().filter((h) => h.author !== author), fake],
      onHeadsChanged: (cb) =>
        base.onHeadsChanged((hs, complete) =>
          cb(
            hs.filter((h) => h.author !== author),
            complete
          )
        )
    }),
    wrapSend: (_to, b) => {
      const m = decodeSyncMessage(b);
      if (m.t !== 'entries') return b;
      return mode === 'busy'
        ? encodeSyncMessage({ t: 'error', rid: m.rid, xid: 0, code: 'sync-busy', message: 'busy' })
        : null;
    }
  });
  const n = await c.addNode('n', 3, { scoring: true });
  c.refreshLinks();
  const head = (): number => n.tl.ledger.heads().find((h) => h.author === author)?.seq ?? 0;
  const caught = await c.net.run(() => head() === WRITES, 30_000);
  const t0 = c.net.time;
  let overMs = 0;
  let lateOverMs = 0;
  let last = t0;
  let maxMissing = 0;
  await c.net.run(() => {
    const m = n.engine.status().missing;
    if (m > 0) overMs += c.net.time - last;
    if (m > 0 && c.net.time - t0 > 60_000) lateOverMs += c.net.time - last;
    maxMissing = Math.max(maxMissing, m);
    last = c.net.time;
    return false;
  }, t0 + WATCH_MS);
  console.log(
    `SEED=${seed} ${kind} liar ${mode}: caught up ${caught}; over the next ${WATCH_MS / 1000} s missing > 0 for ~${Math.round(overMs)} ms (after the first minute: ~${Math.round(lateOverMs)} ms), max ${maxMissing}; now missing ${n.engine.status().missing}, unconfirmed ${n.engine.status().unconfirmed}`
  );
  return { caught, overMs, lateOverMs };
}

describe('sync red team 5: a silent liar that serves nothing, watched for 5 minutes', () => {
  // Input: SEED=9960; honest 'a' writes 50 entries; liar 'l' (no entries of its own) announces
  //   a's head seq 50 with another hash (fork), or a's feed at seq 10,000 (claim), and drops its
  //   range answers (silent) or answers "sync-busy"; newcomer 'n' (scoring on) links to both.
  // Expected: after the first minute (doubt, then refusal), missing stays 0 (at most 10 s of
  //   the remaining 240 s), as with a liar that serves its own feed (forkwant-liar: ~3.7 s).
  // Actual (before the fix, measured): fork silent: missing = 1 for ~49.5 s of those 240 s; fork
  //   busy: ~38.3 s: about 1.5 rounds counted after every 60 s refusal, for as long as the liar
  //   stays connected, and the node is never idle meanwhile. After: 0 ms both.
  // Severity: low (status only: a "missing" signal that keeps coming back; the liar pays nothing).
  for (const mode of ['silent', 'busy'] as const)
    it(`fork want, liar ${mode}: missing does not come back after each refusal`, async () => {
      const seed = seeds(1, 9960)[0];
      const r = await run(seed, 'fork', mode);
      expect(r.caught, `SEED=${seed}`).toBe(true);
      expect(r.lateOverMs, `SEED=${seed}`).toBeLessThanOrEqual(10_000);
    }, 300_000);

  // Input: as above, kind 'claim', silent.
  // Expected: as above.
  // Actual (measured): 9,950 entries "missing" for ~32.1 s of the last 240 s before the fork fix,
  //   ~28.7 s after it: once the 60 s refusal expires, dropFilled() deletes the filled target
  //   (its only other holder is at our head), and with it the liar's doubt count; the next
  //   exchange learns the claim as new, counted for two rounds again. ("sync-busy" answers: 3
  //   errors in a row refuse at once, so the bounce is ~0.1 s there.) After the fix: 0 ms (4.8 s,
  //   all in the first minute).
  // Severity: low (status only), as above.
  // Suggested fix (gap-fill.ts): remember doubtful (peer, author) pairs outside the target, in a
  //   bounded per-peer set cleared when that peer delivers that author's entries, and start a
  //   re-learned claim of such a pair at GAP_DOUBT_TIMEOUTS.
  it('plain claim, liar silent: missing does not come back after each refusal', async () => {
    const seed = seeds(1, 9960)[0];
    const r = await run(seed, 'claim', 'silent');
    expect(r.caught, `SEED=${seed}`).toBe(true);
    expect(r.lateOverMs, `SEED=${seed}`).toBeLessThanOrEqual(10_000);
  }, 300_000);
});
