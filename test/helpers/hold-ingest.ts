// Holds a ledger busy: every Ledger.ingest waits until the returned function is called (then runs
// as usual). For gossip tests that need messages to pile up in the validation queue.
import { vi } from 'vitest';
import type { IngestReport, Ledger } from '../../src/lib/core/ledger.js';

export function holdIngest(ledger: Ledger): () => void {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const realIngest = ledger.ingest.bind(ledger);
  vi.spyOn(ledger, 'ingest').mockImplementation(async (batch, opts): Promise<IngestReport> => {
    await gate;
    return realIngest(batch, opts);
  });
  return release;
}
