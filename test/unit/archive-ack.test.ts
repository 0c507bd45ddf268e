// What the archive acknowledges is committed. /api/archive, /metrics and the SIGKILL test count
// `ledger.stats().entries`, which the FeedSet moves before the SQLite transaction runs
// (ledger-ingest.ts planFeeds, then commitPlan); it is never seen ahead of the database only because
// nothing between the two yields to the event loop (better-sqlite3 is synchronous). This checks that
// from the event loop (where an HTTP request is served): while batches are ingested, every
// macrotask finds the count at most what a second, read-only connection sees committed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openArchiveLedger } from '../../relay/archive/open-ledger.js';
import { SqliteLedgerStore } from '../../relay/archive/sqlite-store.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { tempDir } from '../helpers/relay-fixture.js';

const WRITERS = 3;
const PER_WRITER = 40;
const BATCH = 8;

describe('archive acknowledgement', () => {
  it('the entry count seen from the event loop never runs ahead of the committed rows', async () => {
    const logs: HashedEntry[][] = [];
    for (let w = 0; w < WRITERS; w++) {
      const t = await openLedger(memoryLocation(), 20 + w);
      for (let i = 0; i < PER_WRITER; i++) await t.ledger.put(`w${w}-${i}`, i);
      logs.push(t.log);
    }
    // Interleaved batches, as gossip hands them over.
    const batches: HashedEntry[][] = [];
    for (let i = 0; i < PER_WRITER; i += BATCH) for (const log of logs) batches.push(log.slice(i, i + BATCH));

    const dir = await tempDir('tabula-archive-ack-');
    const { ledger } = await openArchiveLedger(dir, genesis);
    const reader = SqliteLedgerStore.open({ path: join(dir, 'archive.sqlite'), readonly: true });
    let polls = 0;
    let ahead = 0;
    let done = false;
    const poll = async (): Promise<void> => {
      while (!done) {
        await new Promise((r) => setImmediate(r));
        polls++;
        if (ledger.stats().entries > (await reader.count())) ahead++;
      }
    };
    const polling = poll();
    try {
      const ingests = batches.map((b) => ledger.ingest(b));
      const added = (await Promise.all(ingests)).reduce((n, r) => n + r.added, 0);
      expect(added).toBe(WRITERS * PER_WRITER);
    } finally {
      done = true;
      await polling;
    }
    expect(polls).toBeGreaterThan(batches.length); // the event loop did run during the ingest
    expect(ahead).toBe(0);
    expect(await reader.count()).toBe(WRITERS * PER_WRITER);
    await reader.close();
    await ledger.close();
  }, 60_000);
});
