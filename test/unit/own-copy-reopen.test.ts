// A copy that could not be opened at start (the last leader's sync access handle not yet released
// at a tab takeover, an I/O error) is opened again later (OwnCopyKeeper.retryOpen), settled as at
// start and filled in from the store, so the device does not run without its copy until a reload.
import { describe, expect, it } from 'vitest';
import { copyOpts, ownHead, startWithCopy, stopCopyNode, writeAndStop } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { OwnCopy } from '../../src/lib/core/own-copy.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { lockableOpen, MemoryCopyFile } from '../helpers/memory-copy-file.js';
import { pollUntil } from '../helpers/poll.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';

const RETRY_MS = 20;

const until = (cond: () => boolean, what: string) => pollUntil(cond, what, 5_000, 5);

describe('own copy reopened after a failed open', () => {
  it('a copy locked at start is opened later and filled in with the writes made meanwhile', async () => {
    const disk = new MemoryDisk();
    const file = new MemoryCopyFile();
    await writeAndStop(disk, file, 3);

    // A takeover: the other tab still holds the file.
    const { s, open } = lockableOpen(() => file.reopen());
    const n = await startWithCopy(disk, open, { retryMs: RETRY_MS });
    n.keeper.retryOpen(n.ledger);
    expect(n.keeper.status()).toMatchObject({ state: 'off' });
    expect(n.keeper.status().error).toMatch(/locked by another tab/);
    for (let i = 3; i < 6; i++) await n.ledger.put(`k${i}`, i); // writes go on without the copy
    await until(() => s.attempts >= 3, 'a few failed attempts');
    expect(n.keeper.status()).toMatchObject({ state: 'off' });
    expect(n.keeper.status().error).toMatch(/retrying/);

    s.locked = false;
    await until(() => n.keeper.status().state === 'on' && n.keeper.status().lastSeq === 6, 'the copy filled in');
    expect(n.keeper.status()).toMatchObject({ firstSeq: 1, lastSeq: 6, error: null });
    await n.ledger.put('k6', 6);
    expect(n.keeper.status().lastSeq).toBe(7);
    const attempts = s.attempts;
    await stopCopyNode(n);

    // What the copy holds is the own feed: a discarded store gets all 7 back from it.
    const back = await startWithCopy(new MemoryDisk(), s.opened!.reopen());
    expect(back.keeper.status().restored).toEqual({ identity: true, entries: 7 });
    expect(ownHead(back.ledger)).toBe(7);
    await stopCopyNode(back);
    await new Promise((r) => setTimeout(r, RETRY_MS * 3));
    expect(s.attempts).toBe(attempts); // no attempt once open
  });

  it('a copy opened later that holds another key is kept untouched and not retried', async () => {
    const disk = new MemoryDisk();
    const other = await keysFromByte(77);
    const file = new MemoryCopyFile();
    const foreign = await OwnCopy.open(file, copyOpts);
    foreign.reset(other);
    const bytes = file.bytes.slice();
    const { s, open } = lockableOpen(() => file.reopen());
    const n = await startWithCopy(disk, open, { retryMs: RETRY_MS, keys: await keysFromByte(78) });
    n.keeper.retryOpen(n.ledger);
    await n.ledger.put('a', 1);
    s.locked = false;
    await until(() => /another key/.test(n.keeper.status().error ?? ''), 'the copy turned off');
    expect(n.keeper.status().state).toBe('off');
    expect(n.keeper.status().error).toContain(toHex(other.publicKey).slice(0, 16));
    const attempts = s.attempts;
    await n.ledger.put('b', 2);
    await new Promise((r) => setTimeout(r, RETRY_MS * 3));
    expect(s.attempts).toBe(attempts);
    expect(s.opened!.bytes).toEqual(bytes);
    await stopCopyNode(n);
  });

  it('close() stops the retries; a copy that OPFS cannot give is not retried', async () => {
    const { s, open } = lockableOpen(() => new MemoryCopyFile());
    const n = await startWithCopy(new MemoryDisk(), open, { retryMs: RETRY_MS, keys: await keysFromByte(79) });
    n.keeper.retryOpen(n.ledger);
    await until(() => s.attempts >= 2, 'a retry');
    await stopCopyNode(n);
    const attempts = s.attempts;
    s.locked = false;
    await new Promise((r) => setTimeout(r, RETRY_MS * 3));
    expect(s.attempts).toBe(attempts);
  });
});
