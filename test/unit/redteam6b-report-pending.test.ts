// Red team 6b (issue 6 kind "pending entries are visible", honestly): an ingest report's `pending`
// counts entries of the batch that went pending (ledger-ingest.ts planFeeds `held`), but a fork
// between two pending variants of one seq takes both out of the pending buffer (§6 "Two variants
// of one pending seq are fork evidence like any other (both leave the pending buffer)") without
// removing the first from `held`. Gossip's onPending hook and sync's gap planning read the report.
//
// Input: one ingest batch: hostile X's seq 1..3, then two variants of X's seq 10 (made-up prevs).
// Expected: report.pending === stats().pending === 0 (nothing waits: X is void from 10).
// Actual (measured): report.pending is 1 while stats().pending is 0.
// Suggested fix: in planFeeds, drop every entry a fork takes out of the pending buffer from
//   `held` (the fork result could list them), or compute report.pending from the FeedSet.
// Fixed (ledger-ingest.ts planFeeds): report.pending counts the batch's entries the FeedSet
// still holds after the whole batch (FeedSet.isPending), whatever took the others out.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6b: ingest report pending after a fork of pending variants', () => {
  it('report.pending matches what is actually pending', async () => {
    const X = await keysFromByte(231);
    const net = networkId(genesis);
    const chain = await makeChain(X, 3, net);
    const client = clientIdOf(toHex(X.publicKey));
    const fork = await Promise.all(
      [1, 2].map((t) =>
        createEntry(
          {
            keys: X,
            seq: 10,
            prev: new Uint8Array(32).fill(t),
            lamport: 10,
            time: 1_700_000_000_100,
            clock: 4,
            payload: yUpdateAt(`far${t}`, t, client, 3)
          },
          net
        )
      )
    );
    const a = await openLedger(memoryLocation(), 232, { compactEvery: 0 });
    const report = await a.ledger.ingest([...chain, ...fork]);
    const pending = a.ledger.stats({ digest: false }).pending;
    await a.ledger.close();
    expect(report.forks).toBe(1);
    expect({ report: report.pending, stats: pending }).toEqual({ report: 0, stats: 0 });
  });
});
