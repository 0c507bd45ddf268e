// Red team 6e (rejudge.ts, landed today; issue 6 kind "acceptance is a pure, deterministic
// function of an entry's bytes and the entries it depends on: the same verdict on every node"):
// after a void, the remembered refusals whose verdict it can change are judged again, 32 in the
// fork's ingest and the rest by a budgeted timer. That backlog (RejudgeQueue) lived in memory
// only: the refused variants themselves are stored and loaded at open, but nothing marked them
// due again. A node restarted before its timer drained the backlog kept those entries refused for
// good, while a node given the same entries that did not restart accepted them: different heads
// and digest from the same entries (only a sync from a node that accepted them heals it).
//
// Input: nodes A and B each ingest X#1..12, then 40 junk keys J_i with J_i#1 and a causal refusal
//   J_i#2 (deps [X@12], lamport 5 too high; acceptable once X@12 is void, as in
//   redteam6d-refused-carry-cost), then X's second variant of seq 12. Both: 32 judged again, 8 due.
//   A closes and reopens; then both flushVoids().
// Expected: A and B show the same heads, records, digest (91 entries each).
// Was (measured): A 83 entries, rejudgeDue 0 after the reopen; B 91.
// Severity: low–medium (a verdict that depends on a restart; eventual only via sync, and only
//   where some node judged the backlog).
// Fixed: at open, every remembered refusal a held void can have changed (naming a void feed at
//   or above its fork, or an author holding GC items) is due again (Ledger.markDueAtOpen), judged
//   by the budgeted timer as after the void itself; at most REFUSED_VARIANTS_MAX_COUNT entries.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { LEDGER_REJUDGE_PER_STEP } from '../../src/lib/core/constants.js';
import { causalRefusals, keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const JUNK = LEDGER_REJUDGE_PER_STEP + 8;

describe('redteam6e: the re-judge backlog across a restart', () => {
  afterEach(() => void vi.useRealTimers());

  it('Fixed: a node restarted before its re-judge backlog drained reaches the same verdict', async () => {
    // The budgeted re-judge timer (50 ms) must not drain A's backlog while B ingests: on a busy
    // machine it did, and A then had nothing due at its reopen. Timers held; flushVoids judges.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const locA = memoryLocation();
    let A = await openLedger(locA, 121, { compactEvery: 0 });
    const B = await openLedger(memoryLocation(), 121, { compactEvery: 0 });
    const net = A.ledger.networkId;
    const X = await keysFromByte(122);
    const x = toHex(X.publicKey);
    const chain = await makeChain(X, 12, net);
    const junk = await causalRefusals(JUNK, { author: x, seq: 12 }, net);
    const alt = await createEntry({ ...chain[11].entry, keys: X, time: chain[11].entry.time + 99 }, net);
    for (const L of [A, B]) {
      await L.ledger.ingest(chain);
      await L.ledger.ingest(junk);
      await L.ledger.ingest([alt]);
      expect(L.ledger.stats().rejudgeDue).toBe(JUNK - LEDGER_REJUDGE_PER_STEP);
    }
    await A.ledger.close();
    A = await openLedger(locA, 121, { compactEvery: 0 });
    expect(A.ledger.stats().rejudgeDue).toBe(JUNK - LEDGER_REJUDGE_PER_STEP);
    await A.ledger.flushVoids();
    await B.ledger.flushVoids();
    expect(A.ledger.stats().entries).toBe(B.ledger.stats().entries);
    expect(ledgerView(A.ledger)).toEqual(ledgerView(B.ledger));
  });
});
