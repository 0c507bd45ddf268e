// worker/own-copy.ts over a real Ledger on memory stores: the browser discards the store (a new,
// empty one), the copy is lost, the copy is behind, the copy is another identity's.
import { describe, expect, it } from 'vitest';
import { copyOpts, startWithCopy, stopCopyNode } from '../helpers/own-copy-node.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { OwnCopy } from '../../src/lib/core/own-copy.js';
import { OWN_COPY_RETRY_MS } from '../../src/lib/core/constants.js';
import { OwnCopyKeeper } from '../../src/lib/worker/own-copy.js';
import { OwnCopyUnsupportedError } from '../../src/lib/platform/opfs-file.js';
import { recordRestore, STORE_RESET_META } from '../../src/lib/worker/store-reset.js';
import { genesis } from '../helpers/ledger-nodes.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';
import { causalRefusals, keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';

/** A node as startNode opens it: store, copy, identity, ledger mirrored into the copy. */
const start = (disk: MemoryDisk, file: MemoryCopyFile, now: () => number = Date.now) =>
  startWithCopy(disk, file, { now });

const stop = stopCopyNode;

const own = (l: Ledger) => l.heads().find((h) => h.author === l.author)?.seq ?? 0;

describe('own copy keeper', () => {
  it('copies every local write before it resolves', async () => {
    const file = new MemoryCopyFile();
    const a = await start(new MemoryDisk(), file);
    for (let i = 0; i < 5; i++) {
      await a.ledger.put(`k${i}`, i);
      expect(a.keeper.status().lastSeq).toBe(i + 1);
    }
    expect(a.keeper.status()).toMatchObject({ state: 'on', firstSeq: 1, lastSeq: 5, error: null, restored: null });
    await stop(a);
  });

  it('a discarded store gets back its identity and own entries; the next write continues the feed', async () => {
    const file = new MemoryCopyFile();
    const a = await start(new MemoryDisk(), file);
    for (let i = 0; i < 5; i++) await a.ledger.put(`k${i}`, i);
    await stop(a);
    const b = await start(new MemoryDisk(), file.reopen()); // the browser deleted the store
    expect(toHex(b.keys.publicKey)).toBe(toHex(a.keys.publicKey));
    expect(b.keeper.status().restored).toEqual({ identity: true, entries: 5 });
    expect(own(b.ledger)).toBe(5);
    expect(b.ledger.get('k4')).toBe(4);
    const h = await b.ledger.put('k5', 5);
    expect(h.entry.seq).toBe(6);
    expect(b.keeper.status().lastSeq).toBe(6);
    // Recorded for the user, reported by the browser or not.
    const reset = await recordRestore(b.store, { reset: null, reported: false }, b.keeper.status().restored, 123);
    expect(reset).toMatchObject({ at: 123, amount: 'unreported', restored: { identity: true, entries: 5 } });
    expect(await b.store.getMeta(STORE_RESET_META)).toEqual(reset);
    const reported = { at: 99, amount: 'total', message: 'checksum mismatch' };
    expect(
      await recordRestore(b.store, { reset: reported, reported: true }, { identity: true, entries: 5 }, 123)
    ).toEqual({
      ...reported,
      restored: { identity: true, entries: 5 }
    });
    await stop(b);
  });

  it('a lost copy is filled in from the store; a copy behind the store is brought up to date', async () => {
    const disk = new MemoryDisk();
    const a = await start(disk, new MemoryCopyFile());
    for (let i = 0; i < 4; i++) await a.ledger.put(`k${i}`, i);
    await stop(a);
    const fresh = new MemoryCopyFile();
    const b = await start(disk, fresh);
    expect(b.keeper.status()).toMatchObject({ lastSeq: 4, restored: null });
    await stop(b);
    // Behind: the copy kept 2 of 4 (a crash between the store's commit and the copy's append).
    const behind = new MemoryCopyFile();
    const c0 = await OwnCopy.open(behind, copyOpts);
    c0.reset(a.keys);
    c0.append(await new MemoryLedgerStore({ disk }).getRange(a.ledger.author, 1, 2));
    const c = await start(disk, behind);
    expect(c.keeper.status()).toMatchObject({ firstSeq: 1, lastSeq: 4, restored: null });
    await c.ledger.put('k4', 4);
    expect(c.keeper.status().lastSeq).toBe(5);
    await stop(c);
  });

  it('a copy this browser cannot have is off, with the reason; writes go on', async () => {
    const store = new MemoryLedgerStore({ disk: new MemoryDisk() });
    const keeper = await OwnCopyKeeper.open(async () => {
      throw new OwnCopyUnsupportedError('no OPFS here');
    }, copyOpts);
    expect(keeper.status()).toMatchObject({ state: 'off', error: 'own copy unavailable: no OPFS here' });
    const keys = await keeper.settleIdentity(store);
    const ledger = await Ledger.open({ store, genesis, keys, afterLocalStored: (e) => keeper.mirror(e) });
    await keeper.reconcile(ledger);
    expect((await ledger.put('a', 1)).entry.seq).toBe(1);
    await ledger.close();
  });

  it('a copy whose write fails (no space) is behind, then filled in from the store once there is room', async () => {
    // Full: the write that does not fit leaves the copy behind; the store has the entry all the same.
    let t = 1_000;
    const small = new MemoryCopyFile(700);
    const n = await start(new MemoryDisk(), small, () => t);
    await n.ledger.put('a', 'x'.repeat(50));
    await n.ledger.put('b', 'y'.repeat(400));
    expect(n.keeper.status()).toMatchObject({ state: 'behind', lastSeq: 1 });
    expect(n.keeper.status().error).toMatch(/own copy behind: wrote/);
    expect(own(n.ledger)).toBe(2);
    // Room again: not retried before OWN_COPY_RETRY_MS, then filled in from the store at the next write.
    small.space = Infinity;
    await n.ledger.put('c', 3);
    expect(n.keeper.status()).toMatchObject({ state: 'behind', lastSeq: 1 });
    t += OWN_COPY_RETRY_MS;
    await n.ledger.put('d', 4);
    expect(n.keeper.status()).toMatchObject({ state: 'on', lastSeq: 4, error: null });
    await stop(n);
    const back = await OwnCopy.open(small.reopen(), copyOpts);
    expect(back.stats()).toMatchObject({ firstSeq: 1, lastSeq: 4, cutBytes: 0 });
  });
  it('a restored own entry refused by the causal rules is kept: no seq signed again, writes refused', async () => {
    const net = copyOpts.networkId;
    const X = await keysFromByte(91);
    const chain = await makeChain(X, 12, net);
    const [j1, j2] = await causalRefusals(1, { author: toHex(X.publicKey), seq: 12 }, net, 92);
    const file = new MemoryCopyFile();
    const c0 = await OwnCopy.open(file, copyOpts);
    c0.reset(await keysFromByte(92));
    c0.append([j1, j2]);
    const disk = new MemoryDisk();
    await new MemoryLedgerStore({ disk }).ingest(chain); // the store kept others' entries, not the key
    const n = await start(disk, file.reopen());
    expect(own(n.ledger)).toBe(1);
    expect(n.keeper.status()).toMatchObject({ lastSeq: 2, restored: { identity: true, entries: 1, waiting: 1 } });
    expect(n.keeper.status().error).toContain('seq 2 was refused');
    await expect(n.ledger.put('x', 1)).rejects.toMatchObject({ name: 'OwnFeedBehindError' });
    await stop(n);
  });
  it('a restore the store fails leaves the node running, the copy behind with the reason', async () => {
    const file = new MemoryCopyFile();
    const a = await start(new MemoryDisk(), file);
    for (let i = 0; i < 3; i++) await a.ledger.put(`k${i}`, i);
    await stop(a);
    const n = await startWithCopy(new MemoryDisk(), file.reopen(), { faults: { failOnTable: 'entries' } });
    expect(n.keeper.status()).toMatchObject({ state: 'behind', lastSeq: 3 });
    expect(n.keeper.status().error).toMatch(/^restoring from the own copy: /);
    expect(own(n.ledger)).toBe(0);
    await stop(n);
  });
});
