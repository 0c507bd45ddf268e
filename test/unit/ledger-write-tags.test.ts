// Tagged writes (Ledger WriteOptions): a tab re-sends a write its old leader never answered
// (client/tab-broker.ts). When the old leader's node had made it, the node the call reaches next
// must answer with that entry, not write again: a second write of an old value lands over any
// newer write another tab made meanwhile (break-it review s25: a follower's stale put replayed
// over a newer acknowledged one, and a replayed delete removing it).
import { describe, expect, it } from 'vitest';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { MAX_WRITE_TAG_LENGTH } from '../../src/lib/core/constants.js';

/** A profile's store, opened by one node after another (the leader tab, then the next one). */
async function profile() {
  const disk = new MemoryDisk();
  return { disk, open: () => openLedger(memoryLocation(disk), 1) };
}

describe('tagged writes', () => {
  it('a retried put the old node made answers with its entry and does not overwrite a newer write', async () => {
    const p = await profile();
    const first = await p.open();
    await first.ledger.put('k', 'original');
    const made = await first.ledger.put('k', 'stale', { tag: 'f1:1' }); // made, never answered
    await first.ledger.close();
    const next = await p.open(); // the next leader's node
    await next.ledger.put('k', 'newer', { tag: 'f2:1' }); // another tab, after it saw 'stale'
    const again = await next.ledger.put('k', 'stale', { tag: 'f1:1', retry: true });
    expect(again.hash).toEqual(made.hash);
    expect(again.entry.seq).toBe(2);
    expect(next.ledger.get('k')).toBe('newer');
    expect(next.ledger.heads()[0].seq).toBe(3); // three writes made, not four
    await next.ledger.close();
  });

  it('a retried delete the old node made answers with its entry and leaves a newer value', async () => {
    const p = await profile();
    const first = await p.open();
    await first.ledger.put('k', 'original');
    const made = await first.ledger.delete('k', { tag: 'f1:2' });
    expect(made).not.toBeNull();
    await first.ledger.close();
    const next = await p.open();
    await next.ledger.put('k', 'newer');
    const again = await next.ledger.delete('k', { tag: 'f1:2', retry: true });
    expect(again?.hash).toEqual(made!.hash);
    expect(next.ledger.get('k')).toBe('newer');
    await next.ledger.close();
  });

  it('a retried write the old node never made is made once; a fresh write does not look its tag up', async () => {
    const p = await profile();
    const node = await p.open();
    const lookups: string[] = [];
    const orig = node.store.writeTag.bind(node.store);
    node.store.writeTag = (tag) => {
      lookups.push(tag);
      return orig(tag);
    };
    const h = await node.ledger.put('k', 1, { tag: 'f1:3', retry: true });
    expect(node.ledger.get('k')).toBe(1);
    expect(await node.ledger.put('k', 2, { tag: 'f1:4' })).toBeDefined();
    expect(lookups).toEqual(['f1:3']);
    // And a retry of it finds it now.
    expect((await node.ledger.put('k', 1, { tag: 'f1:3', retry: true })).hash).toEqual(h.hash);
    expect(node.ledger.get('k')).toBe(2);
    await node.ledger.close();
  });

  it('the same tag twice in one write group is made once', async () => {
    const p = await profile();
    const node = await p.open();
    const writes = [
      node.ledger.put('a', 1),
      node.ledger.put('k', 'x', { tag: 'f1:5' }),
      node.ledger.put('k', 'x', { tag: 'f1:5', retry: true }),
      node.ledger.put('b', 2)
    ];
    const [, one, two] = await Promise.all(writes);
    expect(two.hash).toEqual(one.hash);
    expect(node.ledger.heads()[0].seq).toBe(3);
    await node.ledger.close();
  });

  it('a tag that is not a string of 1 to 64 units is refused with a typed error, nothing written', async () => {
    const p = await profile();
    const node = await p.open();
    for (const tag of ['', 'x'.repeat(MAX_WRITE_TAG_LENGTH + 1), 7 as unknown as string]) {
      await expect(node.ledger.put('k', 1, { tag })).rejects.toMatchObject({ name: 'InvalidWriteTagError' });
    }
    expect(node.ledger.heads()).toEqual([]);
    await node.ledger.put('k', 1, { tag: 'x'.repeat(MAX_WRITE_TAG_LENGTH) });
    await node.ledger.close();
  });
});
