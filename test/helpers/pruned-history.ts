// A full node with a long history and a light node that pruned most of it: the fixture of the
// feed history tests (fetching pruned entries back from peers).
import { memoryLocation, openLedger, type Location, type TestLedger } from './ledger-nodes.js';

/** The light node's options: a budget of 8 KiB, so most of the history is pruned. */
export const LIGHT = { role: 'light', budgetBytes: 8 * 1024 } as const;

/**
 * `full` (key byte 11, no compaction) writes `writes` times over 25 keys (every 40th write a
 * delete); `light` (key byte 12, LIGHT, on `lightLoc`) ingests its entries 50 at a time,
 * compacting after each batch.
 */
export async function prunedHistory(
  writes: number,
  lightLoc: Location = memoryLocation()
): Promise<{ full: TestLedger; light: TestLedger }> {
  const full = await openLedger(memoryLocation(), 11, { compactEvery: 0 });
  for (let i = 1; i <= writes; i++) {
    if (i % 40 === 0) await full.ledger.delete(`k${(i - 1) % 25}`);
    else await full.ledger.put(`k${i % 25}`, { i, note: 'x'.repeat(40) });
  }
  const light = await openLedger(lightLoc, 12, LIGHT);
  for (let i = 0; i < full.log.length; i += 50) {
    await light.ledger.ingest(full.log.slice(i, i + 50));
    await light.ledger.compact();
  }
  return { full, light };
}
