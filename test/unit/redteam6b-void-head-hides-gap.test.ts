// Red team 6b (issue 6: "two nodes given the same entries reach the same records, heads and
// digest", from the other side: equal heads must mean equal state, since sync compares heads
// only, PROTOCOL.md §11.2, and gap-fill counts a gap up to a void head as the evidence alone,
// sync/gap-fill.ts gapOf). A void head stands for "void from s" but not for holding the
// canonical part 1 .. s - 1: a node that got X's fork evidence without X's earlier entries
// reports exactly the same void head as a node that holds them all.
//
// Input: hostile X publishes seq 1..3, then two entries at seq 4 (a fork). Node A gets all five;
//   node B was offline for 1..3 and gets only the two seq-4 entries (gossip), plus an honest
//   author's entry both hold.
// Expected: either B's heads differ from A's (so sync finds the gap and fetches X's 1..3), or
//   B holds the same records and digest as A.
// Actual (measured): heads() of A and B are equal (both report X's void head at s = 4; B's
//   stats().pending is 0), while A shows X's records k1..k3 and B does not: digests differ. A
//   Merkle comparison finds no difference, so B never fetches X's 1..3: the two nodes disagree
//   for good. (Any author can do this to itself at will, and every node that missed some of its
//   entries before the fork keeps a different state than the rest.)
// Fixed: the void head binds the canonical top each node holds (void.ts, PROTOCOL.md §6.1.2), so
//   A's and B's heads differ and sync fetches X's 1..3 for B. (The check below states the rule:
//   equal heads imply equal state; here the heads differ.)
// Suggested fix: a void head must cover what it claims: report the void head only once the
//   canonical part below s is held (until then report the contiguous head, so sync fetches the
//   rest, and serve/request the evidence separately), or make sync's comparison include the
//   covered seq of a void feed.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { genesis, ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6b: a void head hides a missing canonical part from sync', () => {
  it('nodes reporting equal heads hold equal records and digest', async () => {
    const X = await keysFromByte(206);
    const net = networkId(genesis);
    const chain = await makeChain(X, 3, net);
    const client = clientIdOf(toHex(X.publicKey));
    const fork = await Promise.all(
      ['p', 'q'].map((t) =>
        createEntry(
          {
            keys: X,
            seq: 4,
            prev: chain[2].hash,
            lamport: 4,
            time: 1_700_000_000_100,
            clock: 4,
            payload: yUpdateAt(`fork${t}`, t, client, 3)
          },
          net
        )
      )
    );
    const H = await openLedger(memoryLocation(), 207, { compactEvery: 0 });
    await H.ledger.put('h1', 1);
    const a = await openLedger(memoryLocation(), 208, { compactEvery: 0 });
    const b = await openLedger(memoryLocation(), 209, { compactEvery: 0 });
    await a.ledger.ingest([...chain, ...H.log, ...fork]);
    await b.ledger.ingest([...H.log, ...fork]);
    const va = ledgerView(a.ledger);
    const vb = ledgerView(b.ledger);
    await Promise.all([H.ledger.close(), a.ledger.close(), b.ledger.close()]);
    // What sync compares: equal heads must mean equal records and digest. The void head binds
    // the canonical part each holds (void.ts), so here they differ, and sync brings B's up to A's
    // (test/unit/void-top.test.ts).
    const same = JSON.stringify(va.heads) === JSON.stringify(vb.heads);
    expect(vb.pending).toBe(0);
    if (same) expect({ records: vb.records, digest: vb.digest }).toEqual({ records: va.records, digest: va.digest });
    else expect(vb.digest).not.toBe(va.digest);
    expect(same).toBe(false);
  });
});
