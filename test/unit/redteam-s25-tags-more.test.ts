// Break-it review (2026-12-04): write-tag retention and retries racing the original in one node.
import { describe, expect, it } from 'vitest';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { WRITE_TAGS_KEPT, WRITE_TAGS_DROP_EVERY } from '../../src/lib/core/constants.js';

describe('s25b write tags', () => {
  it('a retry queued while the original is being committed (next group) is made once', async () => {
    const disk = new MemoryDisk();
    const store = new MemoryLedgerStore({ disk });
    const t = await openLedger(memoryLocation(disk), 1, { store, compactEvery: 0 });
    const orig = store.appendLocal.bind(store);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    store.appendLocal = async (h, tag) => {
      await gate;
      return orig(h, tag);
    };
    const a = t.ledger.put('k', 'v', { tag: 'x:1' });
    await new Promise((r) => setTimeout(r, 20)); // a's group is committing
    const b = t.ledger.put('k', 'v', { tag: 'x:1', retry: true });
    const c = t.ledger.put('k', 'w', { tag: 'x:2' });
    release();
    const [ha, hb] = await Promise.all([a, b, c]);
    expect(hb.entry.seq).toBe(ha.entry.seq);
    expect(t.ledger.heads()[0].seq).toBe(2);
    expect(t.ledger.get('k')).toBe('w');
    await t.ledger.close();
  });

  it('tags are dropped when tagged writes never land on a multiple of WRITE_TAGS_DROP_EVERY', async () => {
    const disk = new MemoryDisk();
    const t = await openLedger(memoryLocation(disk), 1, { compactEvery: 0 });
    // Every tagged put is followed by one untagged write (e.g. an editor binding's direct write,
    // or a transact): tagged seqs are all odd.
    const n = WRITE_TAGS_KEPT + 2 * WRITE_TAGS_DROP_EVERY;
    for (let i = 0; i < n; i++) {
      await t.ledger.put('k', i, { tag: `t:${i}` });
      await t.ledger.put('u', i);
    }
    console.log('tagged writes', n, 'tags kept', disk.writeTags.size, 'bound', WRITE_TAGS_KEPT + WRITE_TAGS_DROP_EVERY);
    expect(disk.writeTags.size).toBeLessThanOrEqual(WRITE_TAGS_KEPT + WRITE_TAGS_DROP_EVERY);
    await t.ledger.close();
  }, 120_000);
});

describe('s25b write tags: failures', () => {
  it('a failing tag lookup of one retried write fails only that write, not the fresh writes grouped with it', async () => {
    const disk = new MemoryDisk();
    const store = new MemoryLedgerStore({ disk });
    const t = await openLedger(memoryLocation(disk), 1, { store, compactEvery: 0 });
    store.writeTag = () => Promise.reject(new Error('read failed'));
    const settle = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: Error) => `err ${e.message}`
      );
    const fresh = settle(t.ledger.put('other-tab', 1));
    const retried = settle(t.ledger.put('k', 2, { tag: 'x:9', retry: true }));
    const r = { fresh: await fresh, retried: await retried };
    console.log('one tag lookup failing:', JSON.stringify(r));
    expect(r.fresh).toBe('ok');
    await t.ledger.close();
  });

  it('a tagged write refused for quota, retried: made once', async () => {
    const disk = new MemoryDisk();
    const store = new MemoryLedgerStore({ disk });
    const t = await openLedger(memoryLocation(disk), 1, { store, compactEvery: 0 });
    const orig = store.appendLocal.bind(store);
    let fail = true;
    store.appendLocal = async (h, tag) => {
      if (fail) {
        fail = false;
        const { StorageQuotaError } = await import('../../src/lib/core/errors.js');
        throw new StorageQuotaError('full');
      }
      return orig(h, tag);
    };
    await expect(t.ledger.put('k', 1, { tag: 'q:1' })).rejects.toMatchObject({ name: 'StorageQuotaError' });
    expect(await store.writeTag('q:1')).toBeUndefined();
    const a = await t.ledger.put('k', 1, { tag: 'q:1', retry: true });
    const b = await t.ledger.put('k', 1, { tag: 'q:1', retry: true });
    expect(b.entry.seq).toBe(a.entry.seq);
    expect(t.ledger.heads()[0].seq).toBe(1);
    await t.ledger.close();
  });
});
