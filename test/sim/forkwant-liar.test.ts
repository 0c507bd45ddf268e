// A liar's unanswered fork want kept "missing" up for as long as it stayed connected (issue 7,
// README "Still open"). A peer announcing another variant of an honest author's head (same seq,
// another hash) makes us want the fork evidence from it (gap-fill.ts learnFork). If it never
// serves it (silent, or "sync-busy" each time) while it serves its own feed (so it is "useful
// lately", and gap-fill.ts fail() never refuses its claim), the want counted 1 in
// status().missing for good: the honest user saw "missing 1" forever, and the node was never idle.
// Plain claims have the rule since red team 4 (silentclaim-break4): a claim of a peer that
// never delivered stops counting after GAP_DOUBT_TIMEOUTS rounds of timeouts or errors.
// Fixed (gap-fill.ts forkCounted): fork wants follow the same rule: a holder that timed out (or
// answered errors) GAP_DOUBT_TIMEOUTS rounds in a row no longer makes the want count as
// missing; the want stays queued and is still asked of it (and of any other holder).
// SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { claimFake, withholdAnswers } from './liars.js';
import { seeds } from './scenario.js';
import { decodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { FeedHead } from '../../src/lib/core/types.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };
const WRITES = 50;
const OWN = 10;

async function run(seed: number, mode: 'empty' | 'silent' | 'busy') {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: 1500 });
  const a = await c.addNode('a', 1, { scoring: true });
  for (let i = 0; i < WRITES; i++) await a.tl.ledger.put(`k${i}`, i);
  const author = a.tl.ledger.author;
  // The liar's variant of a's head: same seq, another hash (it holds none of a's feed).
  const fake: FeedHead = { author, seq: WRITES, hash: 'f'.repeat(64) };
  const l = await c.addNode('l', 4, {
    honest: false,
    wrapReplica: claimFake(author, () => fake),
    // Its own feed is served; what it does not hold (a's feed, the fork evidence) gets an empty
    // answer ('empty'), none ('silent') or a "sync-busy" error ('busy').
    wrapSend: withholdAnswers(mode, (m) => m.entries.length > 0)
  });
  for (let i = 0; i < OWN; i++) await l.tl.ledger.put(`own${i}`, i);
  const n = await c.addNode('n', 3, { scoring: true });
  c.refreshLinks();
  const head = (x: string): number => n.tl.ledger.heads().find((h) => h.author === x)?.seq ?? 0;
  const caught = await c.net.run(() => head(author) === WRITES && head(l.tl.ledger.author) === OWN, 30_000);
  const t0 = c.net.time;
  let overMs = 0;
  let last = t0;
  let maxMissing = 0;
  let asked = 0;
  const inner = l.engine.receive.bind(l.engine);
  l.engine.receive = async (peer, bytes) => {
    const m = decodeSyncMessage(bytes);
    if (m.t === 'get' && m.author === author && m.from === WRITES && m.to === WRITES) asked++;
    return inner(peer, bytes);
  };
  await c.net.run(() => {
    const m = n.engine.status().missing;
    if (m > 0) overMs += c.net.time - last;
    maxMissing = Math.max(maxMissing, m);
    last = c.net.time;
    return false;
  }, t0 + 60_000);
  const s = n.engine.status();
  console.log(
    `SEED=${seed} fork liar ${mode}: caught up ${caught}; over the next 60 s missing > 0 for ~${Math.round(overMs)} ms (max ${maxMissing}), fork evidence asked of l ${asked} times; now missing ${s.missing}, unconfirmed ${s.unconfirmed}, forks ${n.tl.ledger.forks().length}`
  );
  return { caught, overMs, asked, forks: n.tl.ledger.forks().length };
}

describe("a liar's unanswered fork want", () => {
  // Input: SEED=9910; honest 'a' writes 50 entries; liar 'l' writes 10 of its own (served) and
  //   announces a's head at seq 50 with another hash, holding none of a's feed; newcomer 'n'
  //   (scoring on) links to both and catches up.
  // Expected: over the next 60 s "missing" is above 0 for at most 10 s, as for a plain claim
  //   the liar cannot back up; n does not forget the want (it keeps asking l now and then).
  // Before the fix: answering "nothing": missing > 0 for ~0 s (the want is refused). Silent or
  //   "sync-busy": missing = 1 for the whole 60 s (l's useful answers for its own feed keep
  //   fail() from refusing the want, and status counted every fork want with a holder).
  for (const mode of ['empty', 'silent', 'busy'] as const) {
    it(`liar answering ${mode === 'empty' ? '"nothing"' : mode === 'busy' ? '"sync-busy"' : 'nothing at all'}: missing does not stay up`, async () => {
      const seed = seeds(1, 9910)[0];
      const r = await run(seed, mode);
      expect(r.caught, `SEED=${seed}`).toBe(true);
      expect(r.forks, `SEED=${seed}: no evidence exists`).toBe(0);
      expect(r.overMs, `SEED=${seed}`).toBeLessThanOrEqual(10_000);
      if (mode !== 'empty') expect(r.asked, `SEED=${seed}: the want is still asked`).toBeGreaterThan(1);
    }, 60_000);
  }
});
