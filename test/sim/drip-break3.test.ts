// A liar that drips (issue 7 red team, round 3). A range answer may be any prefix of the range
// (a server stops at a hole or its byte cap), so a liar holding an honest author's feed answers
// each request for it with only its first entry: a valid, useful answer (1 entry added when it
// is the lowest range), so it is never refused nor backed off, and it scores well. A newcomer
// (meeting the liar 500 ms before the honest peer) must still catch up with the 2,000 entries at
// near honest speed. SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { seeds } from './scenario.js';
import { DRIP_TIMEOUT_MS as TIMEOUT_MS, dripCatchUp, type DripLiar } from './drip-scenario.js';

/** l answers each request for another author's feed with only the first entry of the range. */
const drip: DripLiar = (base, tl, dripped) => ({
  ...base,
  getRange: async (au, from, to, max) => {
    const got = await base.getRange(au, from, to, max);
    if (au !== tl.ledger.author && got.length > 0) dripped();
    return au === tl.ledger.author ? got : got.slice(0, 1);
  }
});

const catchUp = (seed: number, liar: boolean) => dripCatchUp(seed, liar ? drip : undefined, String(liar));

describe('sync red team 3: a liar serving one entry per answer', () => {
  // Input: SEED=9300; a's 2,000 entries held by honest 'b' and by liar 'l'; 'a' gone; empty
  //   newcomer 'n' (scoring on) links to l, and to b 500 ms later. l answers each request for
  //   a's feed with only the first entry of the range.
  // Expected: catch-up within ~3x the honest time (501 ms from the first link, most of it waiting
  //   for b) plus a couple of timeouts.
  // Actual: 5,214 ms (10x; 225 one-entry answers); with 600 entries 3,099 ms (6x). l is never
  //   refused nor backed off: each drip that extends the chain counts 'useful', the range's rest
  //   is planned again at once, and pickPeer() hands the lowest range back to l (fewest requests
  //   for the author, good score). The head advances about one entry per round trip to l while
  //   b's later ranges wait in the pending buffer. It grows with the gap: the catch-up runs at
  //   the liar's pace, not the honest peer's.
  // Fixed (gap-fill.ts settle: a short answer under half the byte cap earns no credit and a 250 ms pause).
  // Suggested fix was (gap-fill.ts): score by entries (or bytes) per answer relative to what was
  //   asked, not "added > 0": an answer far below both the seq and byte caps, from a peer that
  //   claims the whole range, counts as slow (backoff, or 'empty' after a few); and do not give
  //   the lowest range (the one that gates the chain) to a peer whose last answers for the author
  //   were partial when another holder served full batches.
  it('the catch-up stays near honest speed', async () => {
    const seed = seeds(1, 9300)[0];
    const base = await catchUp(seed, false);
    const hostile = await catchUp(seed, true);
    expect(hostile.done, `SEED=${seed}`).toBe(true);
    expect(hostile.ms, `SEED=${seed}`).toBeLessThanOrEqual(3 * base.ms + 2 * TIMEOUT_MS);
  }, 60_000);
});
