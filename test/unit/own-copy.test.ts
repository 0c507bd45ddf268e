// The own copy's file (core/own-copy.ts): what it reads back after a restart, a torn or damaged
// tail, and what it refuses to write.
import { describe, expect, it } from 'vitest';
import { OwnCopy, OWN_COPY_HEADER_BYTES } from '../../src/lib/core/own-copy.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { genesis } from '../helpers/ledger-nodes.js';
import { networkId as networkIdOf } from '../../src/lib/core/genesis.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';

const networkId = networkIdOf(genesis);
const opts = { networkId, maxEntryBytes: genesis.maxEntryBytes };

async function filled(n: number) {
  const keys = await keysFromByte(61);
  const chain = await makeChain(keys, n, networkId);
  const file = new MemoryCopyFile();
  const copy = await OwnCopy.open(file, opts);
  copy.reset(keys);
  copy.append(chain.slice(0, 2));
  copy.append(chain.slice(2));
  return { keys, chain, file, copy };
}

const hashes = (hs: { hash: Uint8Array }[]) => hs.map((h) => toHex(h.hash));

describe('own copy', () => {
  it('reads back its identity and entries after a restart, each append flushed', async () => {
    const { keys, chain, file } = await filled(5);
    expect(file.flushes).toBe(3); // reset, two appends
    const again = await OwnCopy.open(file.reopen(), opts);
    expect(again.identity).toEqual(keys);
    expect(again.stats()).toMatchObject({ firstSeq: 1, lastSeq: 5, cutBytes: 0, bytes: file.getSize() });
    expect(hashes(again.entriesAfter(0).entries)).toEqual(hashes(chain));
    expect(hashes(again.entriesAfter(3).entries)).toEqual(hashes(chain.slice(3)));
    expect(again.entriesAfter(5).entries).toEqual([]);
  });

  it('cuts a torn last record and appends after what is whole', async () => {
    const { keys, chain, file } = await filled(4);
    const torn = file.reopen();
    torn.truncate(torn.getSize() - 7);
    const copy = await OwnCopy.open(torn, opts);
    expect(copy.stats()).toMatchObject({ lastSeq: 3 });
    expect(copy.stats().cutBytes).toBeGreaterThan(0);
    copy.append([chain[3]]);
    const again = await OwnCopy.open(torn.reopen(), opts);
    expect(again.identity).toEqual(keys);
    expect(hashes(again.entriesAfter(0).entries)).toEqual(hashes(chain));
  });

  it('keeps only the valid chain: garbage, a huge length, a record that does not link', async () => {
    const { file } = await filled(3);
    const other = await makeChain(await keysFromByte(62), 4, networkId);
    for (const tail of [
      new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]),
      new Uint8Array([0xff, 0xff, 0xff, 0x7f, 0, 0]) // a length of 2 GiB claimed
    ]) {
      const f = file.reopen();
      f.write(tail, { at: f.getSize() });
      const copy = await OwnCopy.open(f, opts);
      expect(copy.stats().lastSeq).toBe(3);
      expect(f.getSize()).toBe(file.getSize());
    }
    // A record of another author after the chain: cut.
    const f = file.reopen();
    const g = new MemoryCopyFile();
    const donor = await OwnCopy.open(g, opts);
    donor.reset(await keysFromByte(62));
    donor.append(other);
    const record = g.bytes.subarray(OWN_COPY_HEADER_BYTES);
    f.write(record, { at: f.getSize() });
    const copy = await OwnCopy.open(f, opts);
    expect(copy.stats().lastSeq).toBe(3);
    expect(copy.stats().cutBytes).toBe(record.length);
  });

  it('a header of another network or build gives its key read-only; a damaged key or a short header gives none', async () => {
    const { file } = await filled(2);
    // Another network (or build) in a header whose key checks out: the key, read-only, nothing else.
    const otherNet = await OwnCopy.open(file.reopen(), { ...opts, networkId: new Uint8Array(32).fill(9) });
    expect(otherNet.identity).toBeDefined();
    expect(otherNet.readOnly).toBe(true);
    expect(otherNet.stats().lastSeq).toBe(0);
    expect(() => otherNet.reset(otherNet.identity!)).toThrow(expect.objectContaining({ name: 'OwnCopyError' }));
    const badKey = file.reopen();
    badKey.bytes[OWN_COPY_HEADER_BYTES - 1] ^= 1; // public key no longer the seed's
    expect((await OwnCopy.open(badKey, opts)).identity).toBeUndefined();
    const short = file.reopen();
    short.truncate(OWN_COPY_HEADER_BYTES - 1);
    expect((await OwnCopy.open(short, opts)).identity).toBeUndefined();
  });

  it('refuses entries that do not continue it or are not its own, writing nothing', async () => {
    const { keys, chain, file, copy } = await filled(3);
    const size = file.getSize();
    const more = await makeChain(keys, 2, networkId, chain[2]);
    expect(() => copy.append([more[1]])).toThrow(expect.objectContaining({ name: 'OwnCopyError' }));
    const stranger = await makeChain(await keysFromByte(63), 4, networkId);
    expect(() => copy.append([stranger[3]])).toThrow(expect.objectContaining({ name: 'OwnCopyError' }));
    expect(() => copy.append([chain[1]])).toThrow(expect.objectContaining({ name: 'OwnCopyError' }));
    expect(file.getSize()).toBe(size);
    copy.append(more);
    expect(copy.stats().lastSeq).toBe(5);
  });

  it('cuts a short write (no space) back and says so', async () => {
    const keys = await keysFromByte(64);
    const chain = await makeChain(keys, 3, networkId);
    const file = new MemoryCopyFile(OWN_COPY_HEADER_BYTES + 200);
    const copy = await OwnCopy.open(file, opts);
    copy.reset(keys);
    copy.append([chain[0]]);
    const size = file.getSize();
    expect(() => copy.append(chain.slice(1))).toThrow(expect.objectContaining({ name: 'OwnCopyError' }));
    expect(file.getSize()).toBe(size);
    const again = await OwnCopy.open(file.reopen(), opts);
    expect(again.stats()).toMatchObject({ lastSeq: 1, cutBytes: 0 });
  });
  it('a long copy: lengths read through, its end decoded and linked, cut where that fails', async () => {
    const { chain, file } = await filled(150);
    const again = await OwnCopy.open(file.reopen(), opts);
    expect(again.stats()).toMatchObject({ firstSeq: 1, lastSeq: 150, cutBytes: 0 });
    expect(hashes(again.entriesAfter(140).entries)).toEqual(hashes(chain.slice(140)));
    // Record 120 (within the checked end) rewritten with another author's bytes of the same length: cut from it.
    const f = file.reopen();
    const starts: number[] = [];
    for (let at = OWN_COPY_HEADER_BYTES; at < f.getSize();) {
      starts.push(at);
      at += 4 + new DataView(f.bytes.buffer, at, 4).getUint32(0, true);
    }
    f.bytes[starts[119]! + 4 + 1 + 8] ^= 0xff; // a byte of the author key
    const cut = await OwnCopy.open(f, opts);
    expect(cut.stats().lastSeq).toBe(119);
    expect(cut.stats().cutBytes).toBe(file.getSize() - starts[119]!);
    // The record just before the checked end is damaged: every record is checked, cut from it.
    const g = file.reopen();
    g.bytes[starts[85]! + 4 + 1 + 8] ^= 0xff;
    expect((await OwnCopy.open(g, opts)).stats().lastSeq).toBe(85);
  });
});
