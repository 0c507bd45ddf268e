// Red team 6c (void heads v2 + join, PROTOCOL.md §6.1.4, §13.6; issue 6 kinds "state and ledger
// never disagree", "the same verdict on every node"): a light replica that compacted an author's
// entries, pruned history and then learns that the author forked below its compaction cannot
// rebuild: it keeps the voided items and marks its state unverified (§6.1.4). Its void head is
// nevertheless the same as every full node's (v(s, k) binds only the canonical part held), while
// its state digest differs. It still serves join snapshots: the claim (heads root, digest) and
// body verify (join/verify.ts checks the body against the claim, not against other nodes), so it
// counts as a vote. Light replicas are the default role of browsers; all that compacted the
// forked entries hold the same stale state, so a joiner that reaches a 2/3 quorum of them installs
// that state as VERIFIED, and from then on its heads equal the full nodes' and its records
// differ, which sync never repairs (equal heads).
//
// Input: light replica P (budget 2 KiB, compact every 4) holds evil's E#1..3 and 60 honest
//   entries (pruned); full node Q holds the same. Evil's twin of E#2 reaches both.
// Expected: P serves no join snapshot while its state shows voided entries (join-unavailable), or
//   serves one whose digest is the full node's.
// Actual (measured): P serves {headsRoot = Q's, stateDigest ≠ Q's}, and the body verifies.
// Fixed: ledger-source.ts buildSnapshot answers join-unavailable while the ledger is unverified
//   (any unverified state: nobody vouches for it, so it casts no vote). Was the suggested fix:
//   buildSnapshot answers join-unavailable while the ledger is
//   unverified (at least while the mark comes from void feeds above a compaction of pruned
//   history: the state is known to differ from the full nodes'); a policy choice for nodes that
//   joined unverified (few peers), so not changed here: their votes let an unverified state become
//   "verified" on the next joiner too.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { ledgerJoinSource } from '../../src/lib/core/join/ledger-source.js';
import { verifyJoinSnapshot } from '../../src/lib/core/join/verify.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6c: a light replica whose state still shows voided entries', () => {
  it('serves no join snapshot of that state (or one with the full nodes digest)', async () => {
    const P = await openLedger(memoryLocation(), 111, { role: 'light', budgetBytes: 2048, compactEvery: 4 });
    const Q = await openLedger(memoryLocation(), 112, { compactEvery: 4 });
    const net = P.ledger.networkId;
    const [honest, evil] = await Promise.all([keysFromByte(113), keysFromByte(114)]);
    const e = await makeChain(evil, 3, net);
    const h = await makeChain(honest, 60, net);
    for (const x of [P, Q]) {
      await x.ledger.ingest(e);
      for (let i = 0; i < h.length; i += 4) await x.ledger.ingest(h.slice(i, i + 4));
      await x.ledger.compact();
    }
    expect(P.ledger.stats().storage.pruned).toBeGreaterThan(0);
    const twin = await createEntry({ ...e[1].entry, keys: evil, time: e[1].entry.time + 1 }, net);
    for (const x of [P, Q]) expect((await x.ledger.ingest([e[1], twin])).forks).toBe(1);
    expect(P.ledger.stats().unverified).toBe(true);
    expect(headsRoot(P.ledger.heads())).toBe(headsRoot(Q.ledger.heads()));

    const snap = await ledgerJoinSource(P.ledger, { rebuildMs: 0 }).snapshot();
    if (snap !== undefined) {
      // What a joiner checks: the body against the claim (it does).
      await verifyJoinSnapshot(snap.body, snap.claim, { networkId: networkId(genesis), genesis });
    }
    const full = Q.ledger.stats().stateDigest;
    await Promise.all([P.ledger.close(), Q.ledger.close()]);
    expect(snap === undefined || snap.claim.stateDigest === full).toBe(true);
  });
});
