// input: (1) store intact at own head 3, copy 1..3 whose LAST record has one damaged signature byte
//   (decodes, is the identity's, links to seq 2: open() keeps it). Two starts, one write each.
//   (2) store discarded, copy 1..5 with seq 3's signature damaged (open cuts 4..5: they no longer
//   link); restore rejects seq 3; the node writes twice.
// expected: the copy notices it differs from the store at a seq both hold and starts over / refills
//   from the store, so local writes are copied again (it is the "second copy" of every write).
// observed: (1) every start: the first write throws OwnCopyError in append (prev does not link)
//   and the copy is off for the session (HEAD db37889; 'behind', retried every 10 s, with the
//   uncommitted working-tree change); the next start reopens the same file and fails the same
//   way: never copies again, no self-heal. (2) after the restore stops at seq 2, the write of seq 3
//   is silently not copied (mirror -> fill no-op, state 'on'), and the next write turns it off.
// severity: low-medium (needs bit damage; but the copy then never protects writes again)
// Fixed: at start the copy's last entry is compared with the store's at that seq (a mismatch starts
//   the copy over from the store); a restore cut at the entry that fails verification; a fill that
//   cannot reach the store's head marks the copy 'behind'.
import { describe, expect, it } from 'vitest';
import { startWithCopy, stopCopyNode } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { OWN_COPY_HEADER_BYTES } from '../../src/lib/core/own-copy.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';

const start = (disk: MemoryDisk, file: MemoryCopyFile) => startWithCopy(disk, file);
const stop = stopCopyNode;

/** Flips the last byte (a signature byte) of record `index`. */
function damageSignature(bytes: Uint8Array, index: number): void {
  let at = OWN_COPY_HEADER_BYTES;
  for (let i = 0; ; i++) {
    const len = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true);
    if (i === index) {
      bytes[at + 4 + len - 1] ^= 0x01;
      return;
    }
    at += 4 + len;
  }
}

describe('redteam s27: a copy that differs from the store at a seq both hold', () => {
  it('comes back on after a restart (store intact, last record damaged)', async () => {
    const disk = new MemoryDisk();
    const file = new MemoryCopyFile();
    const a = await start(disk, file);
    for (let i = 0; i < 3; i++) await a.ledger.put(`k${i}`, i);
    await stop(a);
    const damaged = file.reopen();
    damageSignature(damaged.bytes, 2);
    const states: string[] = [];
    let f = damaged;
    for (let run = 0; run < 2; run++) {
      const n = await start(disk, f);
      await n.ledger.put(`r${run}`, run);
      const s = n.keeper.status();
      states.push(`${s.state}:${s.lastSeq}:${s.error ?? ''}`);
      await stop(n);
      f = f.reopen();
    }
    expect(states[1].startsWith('on:5')).toBe(true);
  });

  it('copies the write that follows a partial restore', async () => {
    const file = new MemoryCopyFile();
    const a = await start(new MemoryDisk(), file);
    for (let i = 0; i < 5; i++) await a.ledger.put(`k${i}`, i);
    await stop(a);
    const damaged = file.reopen();
    damageSignature(damaged.bytes, 2);
    const b = await start(new MemoryDisk(), damaged); // store discarded
    const own = () => b.ledger.heads().find((h) => h.author === b.ledger.author)?.seq ?? 0;
    expect(own()).toBe(2);
    const w = await b.ledger.put('new', 1);
    const s = b.keeper.status();
    expect(w.entry.seq).toBe(3);
    expect(s).toMatchObject({ state: 'on', lastSeq: 3 });
    await b.ledger.put('new2', 2);
    expect(b.keeper.status()).toMatchObject({ state: 'on', lastSeq: 4 });
    await stop(b);
  });
});
