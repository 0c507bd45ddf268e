// Red team 6b (issue 6 case 6, kind "what is stored is verified on open"): stored void heads
// (§6.1.2, §10) are accepted on open when the unsealed meta row `head-headers` lists them. That
// row is not covered by the compaction seal, nor is the heads table, so anything that can write
// the store (another tab, an extension, a hand edit; it does not hold the identity) can void an
// honest author's feed: replace its head row by the void head at s = 1 (a public hash) and add a
// matching `head-headers` row.
//
// Input: node N holds honest author A's entries 1..2 (full history, no compaction). Between two
//   opens, N's heads row of A is replaced by voidHead(A, 1) and meta `head-headers` gets
//   [{author: A, seq: voidHead.seq, lamport: 0, clock: 0}].
// Expected: the open fails with CorruptStoreError (a void head in a store that holds A's
//   entries, with no evidence and no light bootstrap, cannot be genuine), or A's records stay.
// Actual (measured): the store opens without error; A's feed is void on N (heads() reports the
//   void head, so N serves it to sync peers), A's records are gone from N's state, N is not
//   marked unverified.
// Suggested fix: accept a stored void head only where a light bootstrap put it: bind
//   `head-headers` (and the unverified marker) into the compaction seal, require a compaction
//   whose heads list that void head, and refuse a void head whose feed has stored entries above
//   s - 1.
// Fixed (ledger-replay.ts bootstrappedVoids, compaction seal v3): a stored void head must be
//   listed in light head headers that the compaction's v3 seal binds (a store with no compaction
//   has no sealed bootstrap: refused), and its feed holds no entry at or above its fork seq.
import { describe, expect, it } from 'vitest';
import { voidHead } from '../../src/lib/core/void.js';
import { HEAD_HEADERS_META } from '../../src/lib/core/ledger-replay.js';
import { NO_TOP_HASH } from '../../src/lib/core/snapshot/format.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6b: a void head forged into the store', () => {
  it('a forged void head row with a forged head-headers row is refused on open', async () => {
    const A = await openLedger(memoryLocation(), 231, { compactEvery: 0 });
    await A.ledger.put('a1', 1);
    await A.ledger.put('a2', 2);
    const loc = memoryLocation();
    const n = await openLedger(loc, 232, { compactEvery: 0 });
    await n.ledger.ingest(A.log);
    await n.ledger.put('mine', 1);
    expect(n.ledger.get('a2')).toBe(2);
    await n.ledger.close();
    await A.ledger.close();

    const vh = voidHead(A.ledger.author, 1);
    loc.disk.heads.set(A.ledger.author, vh);
    // (Void heads v2 bind a canonical top, void.ts: the forged row names none, k = 0.)
    const top = { top: 0, topHash: NO_TOP_HASH };
    loc.disk.meta.set(HEAD_HEADERS_META, [{ author: A.ledger.author, seq: vh.seq, lamport: 0, clock: 0, ...top }]);

    const outcome = await openLedger(loc, 232, { compactEvery: 0 }).then(
      async (again) => {
        const r = {
          error: undefined as string | undefined,
          a2: again.ledger.get('a2'),
          voidFrom: again.ledger.voidFrom(A.ledger.author)
        };
        await again.ledger.close();
        return r;
      },
      (e: unknown) => ({ error: (e as Error).name, a2: undefined, voidFrom: undefined })
    );
    // Right outcome: refused, or A untouched.
    expect(outcome.error === 'CorruptStoreError' || (outcome.a2 === 2 && outcome.voidFrom === undefined)).toBe(true);
  });
});
