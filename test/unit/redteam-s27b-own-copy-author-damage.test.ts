// input: an own copy of 150 entries; record 31 (inside the file: neither the first nor among the
//   last OWN_COPY_TAIL_CHECK = 64, so open() does not decode it) has ONE flipped bit in its author
//   key (the record still decodes: the author is 32 raw bytes). The store is then discarded and
//   the node starts (settleIdentity + reconcile), offline, as after a Chromium discard.
// expected: as for any other damage inside the copy (PROTOCOL.md §10, test
//   redteam-s27-own-copy-middle-damage): seqs 1..30 come back, the copy is cut at seq 31 with an
//   error saying so, and the node writes on (seq 31); or at the very least it says why it cannot.
// observed: ingest refuses the damaged record with bad-signature under the FLIPPED author, so
//   reconcile (which keeps only rejections whose author is its own) does not see it; seqs 32..150
//   are held pending for a gap no peer can fill (seq 31 never left this device), status says
//   restored { entries: 30, waiting: 120 } with error null, and every local write is refused
//   (OwnFeedBehindError, after the worker's 15 s hold) — on every restart, forever.
//   Same root cause with a flipped seq byte: the refusal carries the DAMAGED seq, so cutFrom()
//   cuts at the wrong place (or nowhere, when that seq is above the copy's last) while the error
//   says "the copy is cut there".
// severity: medium-high (one flipped bit in the copy makes the device unable to write forever,
//   exactly after the store was lost; the status gives no hint)
// Fixed: entriesAfter checks each record's author, seq (by position) and link, and reports the
//   first that does not fit as damaged at its position; the restore cuts the copy there.
import { describe, expect, it } from 'vitest';
import { startWithCopy, stopCopyNode, ownHead } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { OWN_COPY_HEADER_BYTES } from '../../src/lib/core/own-copy.js';
import { NETWORK_TAG_BYTES } from '../../src/lib/core/constants.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';

/** Offset of record `index` (0-based) in the copy file. */
function recordAt(bytes: Uint8Array, index: number): number {
  let at = OWN_COPY_HEADER_BYTES;
  for (let i = 0; i < index; i++) at += 4 + new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true);
  return at;
}

describe('redteam s27b: own copy with a damaged author byte inside', () => {
  it('a restore cuts the copy at the damaged record and the node writes on', async () => {
    const file = new MemoryCopyFile();
    const a = await startWithCopy(new MemoryDisk(), file);
    for (let i = 0; i < 150; i++) await a.ledger.put(`k${i}`, i);
    expect(a.keeper.status().lastSeq).toBe(150);
    await stopCopyNode(a);

    const damaged = file.reopen();
    // Record of seq 31: u32 length, format byte, network tag, then the author key.
    damaged.bytes[recordAt(damaged.bytes, 30) + 4 + 1 + NETWORK_TAG_BYTES + 5] ^= 0x01;

    const b = await startWithCopy(new MemoryDisk(), damaged); // store discarded: restore from the copy
    const s = b.keeper.status();
    const report = { head: ownHead(b.ledger), lastSeq: s.lastSeq, restored: s.restored, error: s.error };
    let wrote: string;
    try {
      wrote = `seq ${(await b.ledger.put('next', 1)).entry.seq}`;
    } catch (e) {
      wrote = (e as Error).name;
    }
    await stopCopyNode(b);
    // Observed: { head: 30, lastSeq: 150, restored: { identity: true, entries: 30, waiting: 120 },
    //   error: null } and OwnFeedBehindError.
    expect({ ...report, wrote }).toMatchObject({
      head: 30,
      lastSeq: 30,
      error: expect.stringContaining('seq 31'),
      wrote: 'seq 31'
    });
  });
});
