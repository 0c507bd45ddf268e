// Red team 6d (bootstrapped void feeds that catch up, src/lib/core/ledger-replay.ts
// bootstrappedVoids/entriesAboveTop, PROTOCOL.md §6.1.2, §10; issue 6 kinds "every field ... has a
// bound" and "what is stored is verified on open"): the void head row, `head-headers` and the
// seal keep the bootstrapped top k0 for good, and every open reads ALL stored entries k0 + 1 .. k
// of the feed in one getRange (no batch, no limit), checks each hash and link and verifies each
// signature, whatever was compacted since. A plain feed only replays what follows the last
// compaction. So a light replica or joined node that caught up a long canonical part pays for it
// at every start, in time and in memory (all rows at once), and the cost never shrinks.
//
// Input: forker E signs a 2,000-entry chain E#1..2000 and two variants of E#2001. Full node F
//   holds E#1 and the fork pair (void from 2001, k0 = 1: E sent its fork before its chain) and
//   exports a light snapshot; L imports it, takes E#2..2000 (as sync would fetch them), compacts
//   and closes.
// Expected: reopening L after the compaction reads no more of E's rows than a plain feed keeps in
//   its recent window (RECENT_ENTRIES_PER_AUTHOR) and verifies none that the compaction covers.
// Actual (measured, loaded machine): the reopen reads all 1,999 rows of E in one getRange and
//   verifies each: 642 ms, against 0 rows and 38 ms for a plain full node holding the same 2,000
//   entries compacted. A hostile author can make this grow without bound (each entry is one
//   signature of its own, as for any write, but every later open of every such replica pays for
//   all of it again).
// Suggested fix: once a compaction binds a top k > k0 (compactedTops already finds it), rewrite the
//   void head's stored header to k (seal v3 covers the headers, so in the same compaction write),
//   and verify only the rows above the compacted top; read them in batches.
// Fixed (src/lib/core/bootstrapped-voids.ts, ledger-replay.ts): open reads a bootstrapped void feed
//   from the top j the compaction's void head v(s, j) binds (sealed: it binds entry j's hash), named
//   by the meta hint `void-compacted-tops` that each compaction writes after it; one stored entry
//   (j) is read and checked against the sealed head, then only the entries above it, in pages of
//   LEDGER_REPLAY_PAGE, each verified. A hint that does not hold costs a walk from k0 (and is
//   rewritten), never trust. The header and the void head row keep k0 (no multi-write order): the
//   red team's rewrite would need the meta row and the compaction in one transaction, which the
//   store API does not offer. Rows read now count getEntry too. Measured: 1 row of E (entry 2000)
//   read on reopen, ~20 ms (was 1,999 rows, 384-642 ms). Tamper tests: void-compacted-top.test.ts.
import { describe, expect, it } from 'vitest';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { RECENT_ENTRIES_PER_AUTHOR } from '../../src/lib/core/constants.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const N = 2000;

describe('redteam6d: open cost of a caught-up bootstrapped void feed', () => {
  it('reopening after a compaction does not re-read and re-verify the whole caught-up part', async () => {
    const F = await openLedger(memoryLocation(), 101, { compactEvery: 0 });
    const net = F.ledger.networkId;
    const E = await keysFromByte(103);
    const e = toHex(E.publicKey);
    const chain = await makeChain(E, N + 1, net);
    const alt = await createEntry({ ...chain[N].entry, keys: E, time: chain[N].entry.time + 7 }, net);
    await F.ledger.ingest([chain[0], chain[N], alt]);
    expect(F.ledger.voidTop(e)?.seq).toBe(1);
    const loc = memoryLocation();
    let L = await openLedger(loc, 104, { compactEvery: 0 });
    await importLedgerSnapshot(L.ledger, await collectBytes(exportLedgerSnapshot(F.ledger, 'light')));
    for (let i = 1; i < N; i += 500) await L.ledger.ingest(chain.slice(i, Math.min(i + 500, N)));
    expect(L.ledger.voidTop(e)?.seq).toBe(N);
    await L.ledger.compact();
    await L.ledger.close();

    const store = await loc.open();
    let rowsOfE = 0;
    const getRange = store.getRange.bind(store);
    const getEntry = store.getEntry.bind(store);
    store.getRange = async (author, from, to, limit) => {
      const rows = await getRange(author, from, to, limit);
      if (author === e) rowsOfE += rows.length;
      return rows;
    };
    store.getEntry = async (author, seq) => {
      const row = await getEntry(author, seq);
      if (author === e && row !== undefined) rowsOfE++;
      return row;
    };
    const t0 = performance.now();
    L = await openLedger(loc, 104, { compactEvery: 0, store });
    const ms = Math.round(performance.now() - t0);
    console.log(`reopen: ${rowsOfE} rows of E read, ${ms} ms`);
    expect(L.ledger.voidTop(e)?.seq).toBe(N);
    expect(rowsOfE).toBeLessThanOrEqual(RECENT_ENTRIES_PER_AUTHOR);
  });
});
