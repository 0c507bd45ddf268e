// Red team (s29): retryOpen treats any rejection of the adoption step as "the ledger closed"
// (`.catch(() => false)`), but adoptReopened can also throw after it has set `this.copy`: a read
// of the copy failing in branchFrom (an OPFS I/O error; OwnCopy.entriesAfter -> file.read). The
// half-adopted copy then stays in use without its branch check, agreeWithStore or fill: here it
// holds another branch of the own feed above the head, so signedUpTo() jumps to 3 and every
// later write is refused (OwnFeedBehindError) while status().ownCopy says 'on', error null, and
// no retry ever comes. Without the read error the same copy is turned off (s28 fix).
// Fixed: adoptReopened turns the copy off with the reason when settling it throws; only a closed
// ledger counts as closed.
import { describe, expect, it } from 'vitest';
import { startWithCopy, stopCopyNode, writeAndStop } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';
import { pollUntil } from '../helpers/poll.js';

/** A copy file whose next read throws once `failReads` is set (an I/O error). */
class FlakyFile extends MemoryCopyFile {
  static failReads = false;
  read(buffer: Uint8Array, opts: { at: number }): number {
    if (FlakyFile.failReads) {
      FlakyFile.failReads = false;
      throw new Error('NotReadableError: the copy could not be read');
    }
    return super.read(buffer, opts);
  }
}

describe('redteam s29: an error while adopting a reopened copy', () => {
  it('does not leave the copy half adopted with writes refused and status on', async () => {
    const file = new MemoryCopyFile();
    const keys = await writeAndStop(new MemoryDisk(), file, 3); // the copy: seqs 1..3 (branch A)
    let locked = true;
    const open = async () => {
      if (locked) throw new Error('NoModificationAllowedError: the file is locked by another tab');
      const f = new FlakyFile();
      f.bytes = file.bytes.slice();
      return f;
    };
    const n = await startWithCopy(new MemoryDisk(), open, { retryMs: 20, keys });
    // The ledger as retryOpen sees it; a read of the copy fails once the adoption step runs.
    const betweenWrites = n.ledger.betweenWrites.bind(n.ledger);
    n.ledger.betweenWrites = <T>(fn: () => Promise<T>) => {
      FlakyFile.failReads = true;
      return betweenWrites(fn);
    };
    n.keeper.retryOpen(n.ledger);
    await n.ledger.put('x', 1); // seq 1 of branch B, while the copy is locked
    locked = false;
    await pollUntil(
      () => !/unavailable/.test(n.keeper.status().error ?? '') || n.keeper.status().state !== 'off',
      'the copy opened',
      5_000,
      5
    );
    await new Promise((r) => setTimeout(r, 100));

    const status = n.keeper.status();
    const write = await n.ledger.put('y', 2).then(
      () => 'written',
      (e: Error) => e.name
    );
    // Either writes go on, or the status says why they do not.
    expect(
      write === 'written' || status.state !== 'on' || status.error !== null,
      `${write} ${JSON.stringify(status)}`
    ).toBe(true);
    await stopCopyNode(n);
  });
});
