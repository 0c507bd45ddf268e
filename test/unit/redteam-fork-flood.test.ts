// Red team: fork evidence is unbounded. Every further variant of an already-forked seq (a
// fresh signature over, e.g., another `time`) passes verifyEntry, so the gossip validator
// Accepts and forwards it, and every node that ingests it records a NEW ForkEvidence holding
// both full entries: pushed to FeedSet.evidence (memory, also restored on every open),
// returned by forks(), and stored with putFork (disk). One key with N variants of seq 1 costs
// every node O(N × 2 × maxEntryBytes), with no limit.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam: unbounded fork evidence', () => {
  it('200 variants of one seq from one key: evidence stays bounded', async () => {
    const evil = await keysFromByte(71);
    const c = clientIdOf(toHex(evil.publicKey));
    const n = await openLedger(memoryLocation(), 33);
    const payload = yUpdateAt('k', 'x'.repeat(30_000), c, 0); // ~30 KB payload per variant
    const variants = [];
    for (let i = 0; i < 200; i++) {
      variants.push(
        await createEntry(
          {
            keys: evil,
            seq: 1,
            prev: new Uint8Array(32),
            lamport: 1,
            time: 1_700_000_000_000 + i,
            clock: 1,
            deps: [],
            payload
          },
          n.ledger.networkId
        )
      );
    }
    // Gossip delivers them one message at a time.
    for (const v of variants) await n.ledger.ingest([v]);
    const stored = await n.store.forks();
    const bytes = stored.reduce((s, ev) => s + ev.a.entry.payload.length + ev.b.entry.payload.length, 0);
    // A node needs one piece of evidence per forked author (or per seq), not one per variant.
    expect({ inMemory: n.ledger.forks().length, stored: stored.length, mb: Math.round(bytes / 1e6) }).toEqual({
      inMemory: 1,
      stored: 1,
      mb: 0
    });
  });
});
