// Red team: snapshot import is "all or nothing" only up to the causal checks. commitPlan checks
// `atomic` BEFORE storing; a payload that passes every check but throws inside
// LedgerState.applyRemote (here: a list item in the `records` map, see
// redteam-map-list-item.test.ts) is stored, half-applied and pushed to report.rejected after the
// atomic gate. importLedgerSnapshot then reports { rejected: 0 } and the file is NOT refused.
// Likewise a bare delete of a record whose victim entry is in the same file is admitted (see
// redteam-batch-bare-delete.test.ts), silently.
import { describe, expect, it } from 'vitest';
import { listItemInRecords } from '../helpers/yjs-list-item.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { exportSnapshot } from '../../src/lib/core/snapshot/export.js';
import { importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';

async function fileOf(entries: HashedEntry[], n: TestLedger): Promise<Uint8Array> {
  const src = await memoryLocation().open();
  await src.ingest(entries);
  const heads = await src.heads();
  return collectBytes(exportSnapshot({ genesis: n.ledger.genesis, store: src, exporter: n.ledger.author, heads }));
}

describe('redteam: snapshot import is not all-or-nothing', () => {
  it('a file whose X#2 throws inside Y.applyUpdate is refused whole (or reported)', async () => {
    const n = await openLedger(memoryLocation(), 39);
    const x = await keysFromByte(75);
    const c = clientIdOf(toHex(x.publicKey));
    const base = { keys: x, time: 1_700_000_000_000, deps: [] };
    const one = await createEntry(
      { ...base, seq: 1, prev: new Uint8Array(32), lamport: 1, clock: 1, payload: yUpdateAt('a', 1, c, 0) },
      n.ledger.networkId
    );
    const two = await createEntry(
      { ...base, seq: 2, prev: one.hash, lamport: 2, clock: 3, payload: listItemInRecords(c, 1) },
      n.ledger.networkId
    );
    const three = await createEntry(
      { ...base, seq: 3, prev: two.hash, lamport: 3, clock: 4, payload: yUpdateAt('c', 3, c, 3) },
      n.ledger.networkId
    );
    const file = await fileOf([one, two, three], n);
    let outcome: unknown;
    try {
      outcome = await importLedgerSnapshot(n.ledger, file);
    } catch (e) {
      outcome = (e as Error).name;
    }
    const stored = await n.store.count();
    // All or nothing: either refused with nothing stored, or a report that names the refusal.
    expect({ outcome, stored }).toEqual({ outcome: 'MalformedSnapshotError', stored: 0 });
  });
});
