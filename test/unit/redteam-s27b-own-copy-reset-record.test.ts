// input: B's store is discarded and Chromium reports it (dataLoss 'total', "checksum mismatch"):
//   start 1 records it (noteStoreReset), restores B:1 from the copy, which waits for A:1 (dep), and
//   records the restore on the reported reset (recordRestore). Still offline, the user reloads:
//   start 2 opens the same (new) store, as startNode does: noteStoreReset, reconcile, recordRestore.
// expected: status().storeReset keeps saying what happened: the reset Chromium reported at start 1
//   (amount 'total', its message, its time); start 2 lost nothing.
// observed: restored entries waiting for sync are held in memory only, so start 2 restores them
//   again: restored = { identity: false, entries: 0, waiting: 1 } is non-null, and recordRestore
//   (reported = false at this open) REPLACES the meta row with a new amount 'unreported' reset at
//   start 2's time ("the store came back without this device's latest entries or its identity"):
//   Chromium's report and the key restore are gone from status and the alert, and the one-day
//   alert is re-armed at every reload while the entries wait (same for an own entry refused by the
//   causal rules: every start records a new "unreported" loss, forever).
// severity: low (status/alert says something false; no data lost)
// Fixed: recordRestore records only what the store lacked and got back (the key, or entries
//   applied); entries only waiting again after a reload do not make a new reset record.
import { describe, expect, it } from 'vitest';
import { startWithCopy, stopCopyNode, otherAuthor } from '../helpers/own-copy-node.js';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { noteStoreReset, recordRestore, STORE_RESET_META } from '../../src/lib/worker/store-reset.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';

describe('redteam s27b: the reset record across a reload while restored entries wait', () => {
  it("a reload keeps the browser's report of the reset", async () => {
    const { a, a1 } = await otherAuthor(51);
    const file = new MemoryCopyFile();
    const b = await startWithCopy(new MemoryDisk(), file, { keys: await keysFromByte(52) });
    await b.ledger.ingest([a1]);
    await b.ledger.put('k', 'from B'); // dep on A:1
    await stopCopyNode(b);

    // Start 1 on the discarded store: Chromium reported the loss at this open.
    const disk = new MemoryDisk();
    const reported = { at: 1_000, amount: 'total', message: 'checksum mismatch' };
    await new MemoryLedgerStore({ disk }).setMeta(STORE_RESET_META, reported); // noteStoreReset's row
    const s1 = await startWithCopy(disk, file.reopen());
    const first = await recordRestore(
      s1.store,
      { reset: reported, reported: true },
      s1.keeper.status().restored,
      1_000
    );
    expect(first).toEqual({ ...reported, restored: { identity: true, entries: 0, waiting: 1 } });
    await stopCopyNode(s1);

    // Start 2 (a reload, still offline): as startNode.
    const store2 = new MemoryLedgerStore({ disk });
    const noted = await noteStoreReset(store2, 5_000);
    const s2 = await startWithCopy(disk, file.reopen());
    const second = await recordRestore(s2.store, { reset: noted, reported: false }, s2.keeper.status().restored, 5_000);
    await stopCopyNode(s2);
    await a.close();
    // Observed: { at: 5000, amount: 'unreported', message: 'the store came back without ...',
    //   restored: { identity: false, entries: 0, waiting: 1 } }.
    expect(second).toMatchObject({ at: 1_000, amount: 'total', message: 'checksum mismatch' });
  });
});
