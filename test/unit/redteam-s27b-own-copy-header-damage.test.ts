// input: an own copy of 3 entries whose header has ONE damaged byte in the magic ("TBOC"; the same
//   with the version byte, e.g. a file written by a newer version read by an older build); seed
//   and public key intact (they still check: the key is the seed's). Chromium then discards the
//   store; the node starts.
// expected: the copy's key is never lost ("The copy never costs a key", README; PROTOCOL.md §10:
//   a store without a key makes a new one only when there is no copy): the start keeps the old
//   key, or at least the file is left untouched (as for a copy of another key) so it can be
//   recovered.
// observed: readHeader() treats the file as holding no identity; settleIdentity makes a NEW key and
//   reset() truncates the file: the intact seed and all own entries are overwritten for good.
// severity: low (needs header damage together with a store loss; but the one key and every
//   acknowledged write are destroyed by the node itself, and a version bump makes it routine on
//   a rollback)
// Fixed: a header whose key checks out gives its key even when its magic, version or network
//   differ; that copy is then read-only (kept untouched, not used: ownCopy 'off', with the reason).
import { describe, expect, it } from 'vitest';
import { startWithCopy, stopCopyNode } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';

describe('redteam s27b: own copy with a damaged header byte outside the key', () => {
  it('keeps the key (or the file) when the store is gone', async () => {
    const file = new MemoryCopyFile();
    const a = await startWithCopy(new MemoryDisk(), file);
    for (let i = 0; i < 3; i++) await a.ledger.put(`k${i}`, i);
    await stopCopyNode(a);
    const damaged = file.reopen();
    damaged.bytes[0] ^= 0x01; // magic "TBOC" -> "UBOC"
    const seedBefore = toHex(damaged.bytes.slice(5 + 32, 5 + 64));
    expect(seedBefore).toBe(toHex(a.keys.seed));

    const b = await startWithCopy(new MemoryDisk(), damaged); // store discarded
    const key = toHex(b.keys.publicKey);
    await stopCopyNode(b);
    const seedAfter = toHex(damaged.bytes.slice(5 + 32, 5 + 64));
    // Observed: a new key, and the file's seed is the new key's (the old one overwritten).
    expect({ sameKey: key === toHex(a.keys.publicKey), seedKept: seedAfter === seedBefore }).not.toEqual({
      sameKey: false,
      seedKept: false
    });
  });
});
