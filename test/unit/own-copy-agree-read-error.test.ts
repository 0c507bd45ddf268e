// A store read failing while the copy is compared with the store at start (agreeWithStore) says
// nothing about the copy: it is kept as it is, not started over (before, a transient read error
// reset a good copy, and with the store still unreadable the refill failed: the copy was left
// empty, and a store discarded next had nothing to come back from).
import { describe, expect, it } from 'vitest';
import { copyOpts, writeAndStop } from '../helpers/own-copy-node.js';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import { OwnCopyKeeper } from '../../src/lib/worker/own-copy.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';
import { genesis, testClock } from '../helpers/ledger-nodes.js';

describe('own copy compared with the store at start', () => {
  it('is kept when the store cannot be read', async () => {
    const disk = new MemoryDisk();
    const file = new MemoryCopyFile();
    await writeAndStop(disk, file, 3);
    const reopened = file.reopen();
    const before = reopened.bytes.slice();

    // As startNode opens a node, with the store's reads failing once the ledger is open.
    const store = new MemoryLedgerStore({ disk });
    const keeper = await OwnCopyKeeper.open(async () => reopened, copyOpts);
    const keys = await keeper.settleIdentity(store);
    const ledger = await Ledger.open({
      store,
      genesis,
      keys,
      now: testClock(),
      afterLocalStored: (entries) => keeper.mirror(entries),
      ownSignedUpTo: () => keeper.signedUpTo()
    });
    const { getEntry, getRange } = store;
    let failed = 0;
    const unreadable = async (): Promise<never> => {
      failed++;
      throw new Error('UnknownError: the store could not be read');
    };
    store.getEntry = unreadable;
    store.getRange = unreadable;
    await keeper.reconcile(ledger);
    Object.assign(store, { getEntry, getRange });

    expect(failed).toBeGreaterThan(0);
    expect(reopened.bytes).toEqual(before); // not started over
    expect(keeper.status()).toMatchObject({ state: 'on', lastSeq: 3 });
    const w = await ledger.put('k3', 3);
    expect(keeper.status().lastSeq).toBe(w.entry.seq);
    await ledger.close();
    keeper.close();
  });
});
