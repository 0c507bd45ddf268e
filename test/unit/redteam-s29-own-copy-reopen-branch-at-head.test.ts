// Red team (s29): a copy reopened later (retryOpen) on another branch of the own feed whose last
// seq is AT or BELOW the store's own head. The store (an older copy of the profile, same key)
// signed seqs 1..n again while the copy was locked. branchFrom only looks when the copy holds
// more than the store (lastSeq > head); otherwise agreeWithStore finds the copy's last entry is
// not the store's and resets the copy: the other branch (the only record of those signed
// entries) is wiped and refilled from the store, and status says 'on' with no error. README
// ("one whose entry at the own head is not the store's (another branch of the feed) is turned
// off and kept untouched") and the s28 fix (kept untouched when lastSeq > head) say otherwise.
// Fixed: branchFrom compares the copy's entry at the last seq both hold (min of its last seq and the
// own head); a validly signed other entry there turns the copy off, kept untouched (also at start).
import { describe, expect, it } from 'vitest';
import { startWithCopy, stopCopyNode, writeAndStop } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { lockableOpen, MemoryCopyFile } from '../helpers/memory-copy-file.js';
import { pollUntil } from '../helpers/poll.js';

const until = (cond: () => boolean, what: string) => pollUntil(cond, what, 5_000, 5);

async function reopenAfter(storeWrites: number) {
  const file = new MemoryCopyFile();
  const keys = await writeAndStop(new MemoryDisk(), file, 3); // the copy: branch A, seqs 1..3
  const branchA = file.bytes.slice();
  const { s: lock, open } = lockableOpen(() => file.reopen());
  const n = await startWithCopy(new MemoryDisk(), open, { retryMs: 20, keys });
  n.keeper.retryOpen(n.ledger);
  for (let i = 0; i < storeWrites; i++) await n.ledger.put(`other${i}`, i); // branch B, seqs 1..storeWrites
  lock.locked = false;
  await until(() => lock.opened !== undefined, 'the copy reopened');
  await until(() => !/unavailable/.test(n.keeper.status().error ?? ''), 'the copy settled');
  await new Promise((r) => setTimeout(r, 50)); // the fill
  const status = n.keeper.status();
  const kept = Buffer.from(lock.opened!.bytes).equals(Buffer.from(branchA));
  await stopCopyNode(n);
  return { status, kept };
}

describe('redteam s29: reopened copy on another branch, not longer than the store', () => {
  it("copy last seq == own head (entry at the own head is not the store's): kept untouched, turned off", async () => {
    const { status, kept } = await reopenAfter(3);
    expect(status.state).toBe('off');
    expect(status.error).toMatch(/another branch/);
    expect(kept).toBe(true);
  });

  it('copy last seq < own head: its branch is not wiped silently', async () => {
    const { status, kept } = await reopenAfter(5);
    expect(status.state).toBe('off');
    expect(status.error).toMatch(/another branch/);
    expect(kept).toBe(true);
  });
});
