// input: an own copy of 100 entries whose 10th record (inside the file, neither the first nor among
//   the last OWN_COPY_TAIL_CHECK = 64) has one damaged byte (its format byte), length intact; the
//   store is then discarded (empty) and the node starts: OwnCopyKeeper.settleIdentity + reconcile.
// expected: PROTOCOL.md §10 "A reader keeps the longest prefix of records that decode ... and cuts
//   the rest": entries 1..9 come back, the rest is cut; startup succeeds (the copy is "best effort",
//   a copy that cannot be used is off, the node runs without it).
// observed: open() only decodes the first record and the last 64 (+ anchor), so the damage is not
//   seen; reconcile -> entriesAfter() does readRecord(...)!.h on the undecodable record and throws
//   TypeError out of reconcile, i.e. out of startNode's opened(): the node does not start, on every
//   reload, until the OPFS file is removed by hand. (Also: the docs' "longest prefix" is false.)
// severity: high (one flipped byte in the copy bricks startup exactly when the store was lost)
// Fixed: entriesAfter stops at a record that no longer decodes and reports it; reconcile restores
//   what is before it and cuts the copy there (as for an entry that fails verification).
import { describe, expect, it } from 'vitest';
import { copyOpts, startWithCopy } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { OwnCopy, OWN_COPY_HEADER_BYTES } from '../../src/lib/core/own-copy.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';

const start = (disk: MemoryDisk, file: MemoryCopyFile) => startWithCopy(disk, file);

/** Offset of record `index` (0-based) in the copy file. */
function recordAt(bytes: Uint8Array, index: number): number {
  let at = OWN_COPY_HEADER_BYTES;
  for (let i = 0; i < index; i++) at += 4 + new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true);
  return at;
}

describe('redteam s27: own copy damaged in the middle', () => {
  it('a restore stops at the damaged record, cuts the copy there, and the node writes on', async () => {
    const file = new MemoryCopyFile();
    const a = await start(new MemoryDisk(), file);
    for (let i = 0; i < 100; i++) await a.ledger.put(`k${i}`, i);
    expect(a.keeper.status().lastSeq).toBe(100);
    await a.ledger.close();
    a.keeper.close();

    const damaged = file.reopen();
    damaged.bytes[recordAt(damaged.bytes, 9) + 4] ^= 0xff; // format byte of seq 10

    const copy = await OwnCopy.open(damaged.reopen(), copyOpts);
    expect(copy.stats().lastSeq).toBe(100); // the check at open sees the first and the last 64 only
    expect(copy.entriesAfter(0)).toMatchObject({ next: 10, damaged: 10 });
    expect(copy.entriesAfter(0).entries).toHaveLength(9);

    const b = await start(new MemoryDisk(), damaged); // store discarded: restore from the copy
    expect(b.ledger.heads().find((h) => h.author === b.ledger.author)?.seq).toBe(9);
    expect(b.keeper.status()).toMatchObject({ state: 'on', lastSeq: 9, restored: { identity: true, entries: 9 } });
    expect(b.keeper.status().error).toContain('seq 10 of the own copy is damaged');
    expect((await b.ledger.put('next', 1)).entry.seq).toBe(10);
    expect(b.keeper.status().lastSeq).toBe(10);
    await b.ledger.close();
  });
});
