// Red team 10 (startGossipIngest, relay/archive/gossip-ingest.ts; issue 10 "--archive mode"): the
// archive queues gossip entries (and gap entries from relay/entry-links.ts) for its ledger, and
// bounds the queue by count only: ARCHIVE_MAX_QUEUED = 4,096 entries. An entry may be as large as
// the genesis allows (64 KiB by default, more for a created network), so the queue alone may hold
// 4,096 × 64 KiB = 256 MiB. Any peer can fill it: the ledger verifies ~1,000 entries/s while the
// relay accepts 300 messages/s per peer and 32 peers per IP (relay/limits.ts), and seq-1 entries of
// fresh keys all link. On a small host that is an out-of-memory kill of the archive relay.
//
// Input: a pubsub delivering 1,024 entries of 60 KiB on the entries topic while the ledger's
//   ingest is still busy with its first batch.
// Expected: the bytes held by the ingest (queued plus the batch in the ledger) stay bounded well
//   below that (≤ ARCHIVE_MAX_QUEUED_BYTES plus one batch, i.e. ≤ 20 MiB); the rest is counted in
//   `dropped` (sync fetches dropped entries later, as for the count bound).
// Actual (before the fix): all 1,024 queued (60 MiB held, 0 dropped); up to 256 MiB at 4,096.
// Severity: medium (memory exhaustion of the always-on replica by one remote peer).
// Fixed: the queue is also bounded by bytes (ARCHIVE_MAX_QUEUED_BYTES = 16 MiB,
//   relay/archive/constants.ts); an entry that would pass it is dropped and counted.
import { describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { startGossipIngest } from '../../relay/archive/gossip-ingest.js';

const TOPIC = 'tabula/test/entries';
const KiB = 1024;
const MiB = 1024 * KiB;

function fakePubsub() {
  const target = new EventTarget();
  return {
    addEventListener: target.addEventListener.bind(target),
    removeEventListener: target.removeEventListener.bind(target),
    deliver(data: Uint8Array) {
      target.dispatchEvent(new CustomEvent('message', { detail: { topic: TOPIC, data } }));
    }
  };
}

describe('redteam10: archive gossip ingest queue', () => {
  it('holds a bounded number of bytes when large entries arrive faster than the ledger stores them', async () => {
    const pubsub = fakePubsub();
    let release: () => void = () => undefined;
    const busy = new Promise<void>((r) => (release = r));
    let inLedger = 0;
    const ledger = {
      ingest: async (batch: Uint8Array[]) => {
        inLedger += batch.length;
        await busy;
        return { added: batch.length, duplicates: 0, rejected: [], pending: 0 };
      }
    } as unknown as Ledger;
    const ingest = startGossipIngest(pubsub as never, TOPIC, ledger);
    const n = 1024;
    const size = 60 * KiB;
    // Entry-shaped (first byte the entry format 0x02, not a batch's 0xb1); the ledger is a fake.
    for (let i = 0; i < n; i++) pubsub.deliver(new Uint8Array(size).fill(i & 0xff).fill(2, 0, 1));
    const held = (n - ingest.stats.dropped) * size;
    expect(ingest.stats.received).toBe(n);
    expect(inLedger).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(20 * MiB);
    release();
    await ingest.settled();
    expect(ingest.stats.stored).toBe(n - ingest.stats.dropped);
    ingest.stop();
  });
});
