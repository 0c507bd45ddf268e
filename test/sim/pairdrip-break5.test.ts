// A drip dressed up as a void feed's answer (issue 7 red team, round 5). Since hello version 4 a
// server whose answer reaches its void fork appends the fork pair (§11.5 "chain-evidence"), and
// gap-fill.ts isShort() then never counted the answer as short (its prefix ends at the fork for a
// reason). answer-shape.ts only checks that the last two entries are the author's at the seq
// after the prefix; nothing checks that they are two DIFFERENT entries. A liar holding an honest
// feed answers each request with its first entry plus the next entry twice: valid, "useful", and
// never short, so drip-break3's fix (a short answer pauses that author's ranges with that peer)
// no longer applies. SEED=n replays a run.
// The same with no pair at all: a holder claiming a void head was never "short" (round 4), and the
// void head may be made up (voidclaim-break4).
// Fixed (gap-fill.ts isShort): an appended pair excuses a short prefix only when it added a fork or
// sits at the seq the feed is void from here; a void claim only when the answer reached its fork.
import { describe, expect, it } from 'vitest';
import { seeds } from './scenario.js';
import type { TestLedger } from '../helpers/ledger-nodes.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import { voidHead } from '../../src/lib/core/void.js';
import { DRIP_WRITES as WRITES, dripCatchUp, type DripLiar } from './drip-scenario.js';

/** The liar announces a made-up void head of every feed but its own (fork "after" the last entry). */
const fakeVoid =
  (tl: TestLedger) =>
  (h: FeedHead): FeedHead =>
    h.author === tl.ledger.author ? h : voidHead(h.author, WRITES + 1);

/** 'pair': one entry + a copy of the next twice; 'void': a made-up void head, one entry per answer. */
const liarOf =
  (mode: 'pair' | 'void'): DripLiar =>
  (base, tl, dripped) => ({
    ...base,
    ...(mode === 'void'
      ? {
          heads: () => base.heads().map(fakeVoid(tl)),
          onHeadsChanged: (cb) => base.onHeadsChanged((hs, complete) => cb(hs.map(fakeVoid(tl)), complete))
        }
      : {}),
    getRange: async (au, from, to, max) => {
      const got = await base.getRange(au, from, to, max);
      if (au !== tl.ledger.author && got.length > 0) dripped();
      if (au === tl.ledger.author) return got;
      return mode === 'pair' && got.length >= 2 ? [got[0], got[1], got[1]] : got.slice(0, 1);
    }
  });

/** liar: none (honest l), 'pair' or 'void' (see liarOf). */
const catchUp = (seed: number, mode: 'none' | 'pair' | 'void') =>
  dripCatchUp(seed, mode === 'none' ? undefined : liarOf(mode), mode);

describe('sync red team 5: a drip dressed up with an appended fork pair', () => {
  // Input: SEED=9300; as drip-break3: a's 2,000 entries held by honest 'b' and by liar 'l'; 'a'
  //   gone; empty newcomer 'n' (scoring on) links to l, and to b 500 ms later. l answers each
  //   request for a's feed with its first entry followed by the SECOND entry twice, a
  //   "chain-evidence" answer (§11.5: a prefix, then two entries at the next seq).
  // Expected: treated like the plain one-entry drip (drip-break3: 7 answers from l, 973 ms):
  //   the copied "pair" adds no fork, so the answer is short and pauses l for that author.
  // Actual (before the fix, measured): 107 two-entry answers from l, 1,506 ms (3.0x honest 501
  //   ms; with 6,000 entries 209 answers, 3,833 ms against 1,179 ms: it grows with the gap):
  //   gap-fill.ts isShort() exempted any answer with an appended pair, so l kept the lowest
  //   range. After: 9 answers, 1,069 ms (6,000 entries: 12, 1,921 ms).
  // Severity: low-medium (a catch-up at the liar's pace, no ban, bounded by the honest peer).
  it('the copied pair does not exempt a short answer', async () => {
    const seed = seeds(1, 9300)[0];
    const base = await catchUp(seed, 'none');
    const hostile = await catchUp(seed, 'pair');
    expect(hostile.done, `SEED=${seed}`).toBe(true);
    expect(hostile.drips, `SEED=${seed}`).toBeLessThanOrEqual(30);
    expect(hostile.ms, `SEED=${seed}`).toBeLessThanOrEqual(2.5 * base.ms);
  }, 60_000);

  // Input: as above, but l announces a made-up void head of a's feed (voidHead(a, 2,001): "void
  //   from 2,001", no evidence) and answers each request with the first entry only.
  // Expected: as above (a plain drip).
  // Actual (before the fix, measured): 155 one-entry answers from l, 2,707 ms (5.4x honest):
  //   isShort() excused every answer of a holder claiming a void head (round 4: its prefix may
  //   end at the fork), so a fake void claim turned drip-break3's fix off. After: 7, 956 ms.
  // Severity: low-medium, as above.
  it('a made-up void head does not exempt a short answer', async () => {
    const seed = seeds(1, 9300)[0];
    const base = await catchUp(seed, 'none');
    const hostile = await catchUp(seed, 'void');
    expect(hostile.done, `SEED=${seed}`).toBe(true);
    expect(hostile.drips, `SEED=${seed}`).toBeLessThanOrEqual(30);
    expect(hostile.ms, `SEED=${seed}`).toBeLessThanOrEqual(2.5 * base.ms);
  }, 60_000);
});
