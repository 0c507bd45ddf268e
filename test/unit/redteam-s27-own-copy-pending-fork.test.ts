// input: node B (key 2) overwrites a record of node A (key 1), so B's own entry 1 has a dep on A:1.
//   Chromium discards B's store; B restarts on an empty store with its own copy (which holds B:1),
//   offline / no peer has connected yet, and makes a write.
// expected: the copy's B:1 is restored (or at least B does not sign another seq 1): B's next write
//   is seq 2, and B's own feed is never forked.
// observed: reconcile's ingest holds B:1 pending (A:1 missing in the new store): added 0, head 0;
//   fill() does nothing (copy lastSeq 1 > head 0), the own-feed check is 'not-needed' (ownSeq 0),
//   so B signs a NEW seq 1. Once A:1 arrives, B's own feed is forked (void on every node); the
//   copy is not updated any more (mirror -> fill no-op), and status says restored {identity, 0}.
//   Same with a copy that starts above seq 1 (restored entries held for the gap): 2nd case.
// severity: critical (the own copy makes the node fork its own feed, in the very case it exists for)
// Fixed: the ledger refuses local writes (OwnFeedBehindError) while its own head is below the copy's
//   last seq (Ledger ownSignedUpTo); the worker waits up to 15 s for sync first. restored says waiting.
import { describe, expect, it } from 'vitest';
import { copyOpts, startWithCopy, otherAuthor } from '../helpers/own-copy-node.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { OwnCopy } from '../../src/lib/core/own-copy.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { MemoryCopyFile } from '../helpers/memory-copy-file.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';

const start = (disk: MemoryDisk, file: MemoryCopyFile, keys?: IdentityKeys) => startWithCopy(disk, file, { keys });

describe('redteam s27: own copy restore with a missing dependency', () => {
  it('does not sign a seq the copy already holds', async () => {
    const bKeys = await keysFromByte(2);
    const { a1 } = await otherAuthor(1);

    const file = new MemoryCopyFile();
    const b = await start(new MemoryDisk(), file, bKeys);
    await b.ledger.ingest([a1]);
    const b1 = await b.ledger.put('k', 'from B'); // overwrites A's value: dep on A:1
    expect(b1.entry.deps.length).toBe(1);
    expect(b.keeper.status().lastSeq).toBe(1);
    await b.ledger.close();
    b.keeper.close();

    // The browser discarded B's store; B restarts on an empty one with its copy.
    const b2 = await start(new MemoryDisk(), file.reopen());
    expect(toHex(b2.keys.publicKey)).toBe(toHex(bKeys.publicKey));
    const status = b2.keeper.status();
    const head = b2.ledger.heads().find((h) => h.author === b2.ledger.author)?.seq ?? 0;

    expect(head).toBe(0);
    expect(status.restored).toEqual({ identity: true, entries: 0, waiting: 1 });
    await expect(b2.ledger.put('other', 'x')).rejects.toMatchObject({ name: 'OwnFeedBehindError' });
    await b2.ledger.ingest([a1]); // A:1 arrives by sync: B:1 applies
    const next = await b2.ledger.put('other', 'x');
    expect(next.entry.seq).toBe(2);
    expect(b2.keeper.status()).toMatchObject({ state: 'on', lastSeq: 2 });
    expect(b2.ledger.voidFrom(b2.ledger.author)).toBeUndefined();
    await b2.ledger.close();
  });

  it('does not sign a seq below a copy that starts above seq 1 (copy started over on a store without its older entries)', async () => {
    const bKeys = await keysFromByte(3);
    const disk = new MemoryDisk();
    const b = await start(disk, new MemoryCopyFile(), bKeys);
    const written: HashedEntry[] = [];
    for (let i = 0; i < 5; i++) written.push(await b.ledger.put(`k${i}`, i));
    await b.ledger.close();
    b.keeper.close();
    // A copy that holds seqs 3..5 only (what fill() makes after its reset path, or mirror() when
    // the copy was empty: it takes any first seq).
    const file = new MemoryCopyFile();
    const c = await OwnCopy.open(file, copyOpts);
    c.reset(bKeys);
    c.append(written.slice(2));
    const b2 = await start(new MemoryDisk(), file.reopen()); // store discarded
    await expect(b2.ledger.put('other', 'x')).rejects.toMatchObject({ name: 'OwnFeedBehindError' });
    await b2.ledger.ingest(written.slice(0, 2)); // seqs 1..2 arrive from a peer
    const next = await b2.ledger.put('other', 'x');
    expect(next.entry.seq).toBe(6);
    expect(b2.ledger.voidFrom(b2.ledger.author)).toBeUndefined();
    await b2.ledger.close();
  });
});
