// A light replica whose store was discarded restarts with its own copy. When every restored own
// entry waits in the pending buffer for another author's entry, the ledger is empty; a verified
// join would then start, although every snapshot holds this node's own key and a light install
// refuses it (storeLightState). The join must not start: sync and gossip are not held back, so
// the missing entry arrives, the restored entries apply and writes go on at the next seq.
import { describe, expect, it } from 'vitest';
import { startWithCopy, stopCopyNode, otherAuthor } from '../helpers/own-copy-node.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';
import { JoinDriver, joinWanted } from '../../src/lib/worker/join-driver.js';

const driverFor = (ledger: Ledger, keys: Awaited<ReturnType<typeof keysFromByte>>, enabled: boolean) =>
  new JoinDriver({ ledger, keys, protocol: '/tabula/test/join/1.0.0', enabled, onChange: () => {}, waitMs: 60_000 });

describe('own copy and the verified join', () => {
  it('a light replica with restored own entries waiting does not join, and catches up by sync', async () => {
    const { a, a1 } = await otherAuthor(41);
    const bKeys = await keysFromByte(42);
    const file = new MemoryCopyFile();
    const b = await startWithCopy(new MemoryDisk(), file, { keys: bKeys, role: 'light' });
    await b.ledger.ingest([a1]);
    await b.ledger.put('k', 'from B'); // depends on A:1
    await stopCopyNode(b);

    // Store discarded: B restarts empty, its entry 1 restored but waiting for A:1.
    const b2 = await startWithCopy(new MemoryDisk(), file.reopen(), { role: 'light' });
    expect(b2.keeper.status().restored).toEqual({ identity: true, entries: 0, waiting: 1 });
    expect(b2.ledger.heads()).toEqual([]);
    const wanted = joinWanted({ role: b2.ledger.role, ownSignedUpTo: b2.keeper.signedUpTo() });
    expect(wanted).toBe(false);

    const driver = driverFor(b2.ledger, b2.keys, wanted);
    let released = false;
    void driver.gate.then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(true); // sync and gossip ingest are not held back
    expect(driver.status().state).toBe('off');

    await b2.ledger.ingest([a1]); // A:1 arrives by sync: B:1 applies
    expect((await b2.ledger.put('other', 'x')).entry.seq).toBe(2);
    await driver.stop();
    await stopCopyNode(b2);
    await a.close();
  });

  it('a fresh light replica (empty copy) still joins; a full one or an opt-out does not', async () => {
    const fresh = await startWithCopy(new MemoryDisk(), new MemoryCopyFile(), { role: 'light' });
    expect(fresh.keeper.signedUpTo()).toBe(0);
    const wanted = joinWanted({ role: fresh.ledger.role, ownSignedUpTo: fresh.keeper.signedUpTo() });
    expect(wanted).toBe(true);
    const driver = driverFor(fresh.ledger, fresh.keys, wanted);
    let released = false;
    void driver.gate.then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false); // waits for a join to install or give up
    expect(driver.status().state).not.toBe('off');
    await driver.stop();
    await stopCopyNode(fresh);

    expect(joinWanted({ role: 'full', ownSignedUpTo: 0 })).toBe(false);
    expect(joinWanted({ role: 'light', join: false, ownSignedUpTo: 0 })).toBe(false);
    expect(joinWanted({ role: 'light', ownSignedUpTo: 3 })).toBe(false);
  });
});
