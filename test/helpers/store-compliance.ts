// One compliance suite every LedgerStore adapter must pass (memory, Dexie, SQLite in relay/archive).
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import type { LedgerStore } from '../../src/lib/core/storage.js';
import { WRITE_TAGS_DROP_EVERY, WRITE_TAGS_KEPT } from '../../src/lib/core/constants.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { authorHex, fakeEntry, fakeFeed, hashHex, randomBytes } from './fake-feed.js';

/** One persistent location (a fresh one per call of the factory) on which stores are opened. */
export interface StoreHarness {
  /** Opens a store on this location; opening again after close() sees the same data. */
  open(): Promise<LedgerStore>;
  /** The next write to `table` fails with the platform's quota error (once). */
  failNextWriteTo(table: 'entries' | 'heads' | 'compaction'): void;
}

const seqs = (hs: HashedEntry[]) => hs.map((h) => `${authorHex(h).slice(0, 6)}:${h.entry.seq}`);

export function runStoreCompliance(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`LedgerStore compliance: ${name}`, () => {
    const open: LedgerStore[] = [];
    let harness: StoreHarness;
    const start = async () => {
      harness = await makeHarness();
      return reopen();
    };
    const reopen = async () => {
      const s = await harness.open();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    it('persists the identity across reopen', async () => {
      const s = await start();
      expect(await s.loadIdentity()).toBeUndefined();
      const keys = { seed: randomBytes(32), publicKey: randomBytes(32) };
      await s.saveIdentity(keys);
      await s.close();
      const again = await reopen();
      expect(await again.loadIdentity()).toEqual(keys);
    });

    it('appendLocal stores the entry and its head, and they survive reopen', async () => {
      const s = await start();
      const author = randomBytes(32);
      const feed = fakeFeed(author, 3);
      for (const h of feed) await s.appendLocal(h);
      const a = toHex(author);
      expect(await s.getHead(a)).toEqual({ author: a, seq: 3, hash: hashHex(feed[2]) });
      await s.close();
      const again = await reopen();
      expect(await again.getEntry(a, 2)).toEqual(feed[1]);
      expect(await again.heads()).toEqual([{ author: a, seq: 3, hash: hashHex(feed[2]) }]);
      expect(await again.count()).toBe(3);
    });

    it('appendLocal refuses what does not extend the head, and retries of the head are no-ops', async () => {
      const s = await start();
      const author = randomBytes(32);
      const [e1, e2, e3] = fakeFeed(author, 3);
      await expect(s.appendLocal(e2)).rejects.toMatchObject({ name: 'FeedHeadMismatchError' });
      await s.appendLocal(e1);
      await s.appendLocal(e1);
      await expect(s.appendLocal(e3)).rejects.toMatchObject({ name: 'FeedHeadMismatchError' });
      const forged = fakeEntry(author, 2, randomBytes(32));
      await expect(s.appendLocal(forged)).rejects.toMatchObject({ name: 'FeedHeadMismatchError' });
      expect(await s.count()).toBe(1);
      expect((await s.getHead(toHex(author)))?.seq).toBe(1);
    });

    it('stores write tags with local appends only when the append is stored, keeps them across reopen, and drops old ones', async () => {
      const s = await start();
      const author = randomBytes(32);
      const a = toHex(author);
      const feed = fakeFeed(author, 3);
      await s.appendLocal(feed[0], 'tab-1:1');
      await s.appendLocal(feed[1]); // untagged
      // A refused append (not extending the head) stores its tag neither.
      await expect(s.appendLocal(feed[1], 'tab-1:2')).resolves.toBeUndefined(); // a retry of the head: no-op
      await expect(s.appendLocal(fakeEntry(author, 3, randomBytes(32)), 'tab-1:3')).rejects.toMatchObject({
        name: 'FeedHeadMismatchError'
      });
      await expect(
        s.appendLocalBatch([feed[2], fakeEntry(author, 5, randomBytes(32))], ['tab-1:4', 'tab-1:5'])
      ).rejects.toMatchObject({
        name: 'FeedHeadMismatchError'
      });
      expect(await s.writeTag('tab-1:1')).toEqual({ tag: 'tab-1:1', author: a, seq: 1 });
      for (const t of ['tab-1:2', 'tab-1:3', 'tab-1:4', 'tab-1:5', 'never'])
        expect(await s.writeTag(t)).toBeUndefined();
      await s.appendLocalBatch([feed[2]], ['tab-2:1']);
      await s.close();
      const again = await reopen();
      expect(await again.writeTag('tab-2:1')).toEqual({ tag: 'tab-2:1', author: a, seq: 3 });
      // A tagged append past WRITE_TAGS_KEPT drops the tags that many seqs below it; the next
      // drop comes WRITE_TAGS_DROP_EVERY seqs later, whatever seqs the tagged writes have.
      const top = 3 + WRITE_TAGS_KEPT + 10;
      const more = fakeFeed(author, top - 3, Math.random, feed[2]); // seqs 4 .. top
      const odd = (seq: number) => seq % 2 === 1; // only every other write is tagged
      await again.appendLocalBatch(
        more,
        more.map((h) => (odd(h.entry.seq) ? `t:${h.entry.seq}` : undefined))
      );
      expect(await again.writeTag('tab-1:1')).toBeUndefined();
      expect(await again.writeTag('tab-2:1')).toBeUndefined(); // seq 3 <= top - KEPT
      const first = top - WRITE_TAGS_KEPT + 1; // the lowest seq whose tag is kept
      const k = odd(first) ? first : first + 1;
      expect(await again.writeTag(`t:${k}`)).toMatchObject({ seq: k });
      expect(await again.writeTag('t:5')).toBeUndefined();
      // Within WRITE_TAGS_DROP_EVERY of that drop, none; then the next one.
      let tail = more.at(-1)!;
      for (let n = 1; n <= WRITE_TAGS_DROP_EVERY; n++) {
        tail = fakeFeed(author, 1, Math.random, tail)[0];
        await again.appendLocal(tail, `u:${tail.entry.seq}`);
        const kept = await again.writeTag(`t:${k}`);
        if (n < WRITE_TAGS_DROP_EVERY) expect(kept, `after ${n}`).toBeDefined();
        else expect(kept).toBeUndefined();
      }
      expect(await again.writeTag(`u:${tail.entry.seq}`)).toMatchObject({ seq: tail.entry.seq });
    });

    it('ingest stores a batch, moves heads forward only, and reports duplicates and conflicts', async () => {
      const s = await start();
      const [x, y] = [randomBytes(32), randomBytes(32)];
      const fx = fakeFeed(x, 5);
      const fy = fakeFeed(y, 2);
      expect(await s.ingest([])).toEqual({ added: 0, duplicates: 0, conflicts: [] });
      expect(await s.ingest([...fx.slice(2), fy[0], fy[1]])).toEqual({ added: 5, duplicates: 0, conflicts: [] });
      expect(await s.getHead(toHex(x))).toEqual({ author: toHex(x), seq: 5, hash: hashHex(fx[4]) });
      // Backfill below the head leaves the head alone.
      const rival = fakeEntry(y, 2, fy[0].hash);
      const r = await s.ingest([fx[0], fx[1], fx[4], rival, fx[0]]);
      expect(r.added).toBe(2);
      expect(r.duplicates).toBe(2);
      expect(r.conflicts).toEqual([rival]);
      expect(await s.getHead(toHex(x))).toMatchObject({ seq: 5, hash: hashHex(fx[4]) });
      expect(await s.getEntry(toHex(y), 2)).toEqual(fy[1]);
      expect(await s.count()).toBe(7);
    });

    it('reads ranges and entries after a seq vector', async () => {
      const s = await start();
      const [x, y, z] = [randomBytes(32), randomBytes(32), randomBytes(32)];
      const fx = fakeFeed(x, 6);
      const fy = fakeFeed(y, 3);
      const fz = fakeFeed(z, 2);
      await s.ingest([...fx, ...fy, ...fz]);
      const X = toHex(x);
      expect(await s.getRange(X, 2, 4)).toEqual(fx.slice(1, 4));
      expect(await s.getRange(X, 2, 100, 2)).toEqual(fx.slice(1, 3));
      expect(await s.getRange(X, 5, 4)).toEqual([]);
      expect(await s.getRange(X, 7, 9)).toEqual([]);
      expect(await s.getRange(toHex(randomBytes(32)), 1, 9)).toEqual([]);
      const vector = [
        { author: X, seq: 4 },
        { author: toHex(y), seq: 3 },
        { author: toHex(randomBytes(32)), seq: 9 }
      ];
      const got = await s.entriesAfter(vector);
      const want = [...fx.slice(4), ...fz].sort((a, b) =>
        authorHex(a) === authorHex(b) ? a.entry.seq - b.entry.seq : authorHex(a) < authorHex(b) ? -1 : 1
      );
      expect(seqs(got)).toEqual(seqs(want));
      expect(got).toEqual(want);
      expect((await s.entriesAfter([])).length).toBe(11);
    });

    it('keeps fork evidence once per pair, across reopen', async () => {
      const s = await start();
      const author = randomBytes(32);
      const a = fakeEntry(author, 4, randomBytes(32));
      const b = fakeEntry(author, 4, randomBytes(32));
      const ev = { author: toHex(author), seq: 4, a, b, detectedAt: 123 };
      await s.putFork(ev);
      await s.putFork({ ...ev, a: b, b: a, detectedAt: 456 });
      await s.close();
      const again = await reopen();
      expect(await again.forks()).toEqual([ev]);
    });

    it('round-trips the compaction and raises (never lowers) heads to it', async () => {
      const s = await start();
      expect(await s.loadCompaction()).toBeUndefined();
      const [x, y] = [randomBytes(32), randomBytes(32)];
      const fx = fakeFeed(x, 4);
      await s.ingest(fx);
      const yHead = { author: toHex(y), seq: 9, hash: toHex(randomBytes(32)) };
      const c = { state: randomBytes(300), heads: [{ author: toHex(x), seq: 2, hash: hashHex(fx[1]) }, yHead], at: 42 };
      await s.saveCompaction(c);
      await s.close();
      const again = await reopen();
      expect(await again.loadCompaction()).toEqual(c);
      expect(await again.getHead(toHex(x))).toMatchObject({ seq: 4 });
      expect(await again.getHead(toHex(y))).toEqual(yHead);
      const c2 = { ...c, state: randomBytes(10), at: 43 };
      await again.saveCompaction(c2);
      expect(await again.loadCompaction()).toEqual(c2);
    });

    it('prunes old entries but never the head entry', async () => {
      const s = await start();
      const x = randomBytes(32);
      const X = toHex(x);
      const fx = fakeFeed(x, 6);
      await s.ingest(fx);
      expect(await s.pruneBefore(X, 3)).toBe(2);
      expect(seqs(await s.getRange(X, 1, 10))).toEqual(seqs(fx.slice(2)));
      expect(await s.pruneBefore(X, 100)).toBe(3);
      expect(await s.getRange(X, 1, 10)).toEqual([fx[5]]);
      expect(await s.getHead(X)).toMatchObject({ seq: 6 });
      // Later entries still extend the kept head.
      await s.ingest(fakeFeed(x, 1, Math.random, fx[5]));
      expect(await s.getHead(X)).toMatchObject({ seq: 7 });
    });

    it('stores small meta values', async () => {
      const s = await start();
      expect(await s.getMeta('k')).toBeUndefined();
      await s.setMeta('k', { n: 1, b: new Uint8Array([1, 2]) });
      await s.setMeta('j', 'x');
      await s.deleteMeta('j');
      await s.close();
      const again = await reopen();
      expect(await again.getMeta('k')).toEqual({ n: 1, b: new Uint8Array([1, 2]) });
      expect(await again.getMeta('j')).toBeUndefined();
    });

    it('stores copies: later mutation of inputs or views of a larger buffer do not leak in', async () => {
      const s = await start();
      const author = randomBytes(32);
      const [e1] = fakeFeed(author, 1);
      const big = randomBytes(4096);
      big.set(e1.entry.payload, 100);
      const view = { ...e1, entry: { ...e1.entry, payload: big.subarray(100, 100 + e1.entry.payload.length) } };
      await s.appendLocal(view);
      big.fill(0);
      const got = await s.getEntry(toHex(author), 1);
      expect(got).toEqual(e1);
      expect(got!.entry.payload.buffer.byteLength).toBe(e1.entry.payload.length);
    });

    it('a quota failure in appendLocal is a StorageQuotaError and leaves nothing', async () => {
      const s = await start();
      const author = randomBytes(32);
      const [e1, e2] = fakeFeed(author, 2);
      await s.appendLocal(e1);
      harness.failNextWriteTo('heads');
      const err = await s.appendLocal(e2).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'StorageQuotaError' });
      expect(await s.getEntry(toHex(author), 2)).toBeUndefined();
      expect(await s.getHead(toHex(author))).toMatchObject({ seq: 1 });
      expect(await s.count()).toBe(1);
      await s.appendLocal(e2);
      expect(await s.getHead(toHex(author))).toMatchObject({ seq: 2 });
    });

    it('appendLocalBatch stores a chain of entries and its head in one go, continuing the stored head', async () => {
      const s = await start();
      const author = randomBytes(32);
      const feed = fakeFeed(author, 5);
      const a = toHex(author);
      await s.appendLocalBatch([]);
      await s.appendLocal(feed[0]);
      await s.appendLocalBatch(feed.slice(0, 4)); // starts with a retry of the head: a no-op
      expect(await s.getHead(a)).toEqual({ author: a, seq: 4, hash: hashHex(feed[3]) });
      await s.appendLocalBatch([feed[4]]);
      await s.close();
      const again = await reopen();
      expect(await again.getRange(a, 1, 5)).toEqual(feed);
      expect(await again.heads()).toEqual([{ author: a, seq: 5, hash: hashHex(feed[4]) }]);
    });

    it('appendLocalBatch stores nothing when one entry does not extend the one before it', async () => {
      const s = await start();
      const author = randomBytes(32);
      const [e1, e2, e3, e4] = fakeFeed(author, 4);
      await s.appendLocal(e1);
      await expect(s.appendLocalBatch([e2, e4])).rejects.toMatchObject({ name: 'FeedHeadMismatchError' });
      const forged = fakeEntry(author, 3, randomBytes(32));
      await expect(s.appendLocalBatch([e2, forged])).rejects.toMatchObject({ name: 'FeedHeadMismatchError' });
      expect(await s.count()).toBe(1);
      expect((await s.getHead(toHex(author)))?.seq).toBe(1);
      await s.appendLocalBatch([e2, e3]);
      expect((await s.getHead(toHex(author)))?.seq).toBe(3);
    });

    it('a quota failure in appendLocalBatch is a StorageQuotaError and leaves nothing', async () => {
      const s = await start();
      const author = randomBytes(32);
      const feed = fakeFeed(author, 4);
      await s.appendLocal(feed[0]);
      for (const table of ['heads', 'entries'] as const) {
        harness.failNextWriteTo(table);
        const err = await s.appendLocalBatch(feed.slice(1)).catch((e: unknown) => e);
        expect(err).toMatchObject({ name: 'StorageQuotaError' });
        expect(await s.count()).toBe(1);
        expect(await s.getHead(toHex(author))).toMatchObject({ seq: 1 });
      }
      await s.appendLocalBatch(feed.slice(1));
      expect(await s.getHead(toHex(author))).toMatchObject({ seq: 4 });
    });

    it('a quota failure in ingest or saveCompaction leaves nothing', async () => {
      const s = await start();
      const [x, y] = [randomBytes(32), randomBytes(32)];
      const batch = [...fakeFeed(x, 3), ...fakeFeed(y, 2)];
      harness.failNextWriteTo('heads');
      await expect(s.ingest(batch)).rejects.toMatchObject({ name: 'StorageQuotaError' });
      expect(await s.count()).toBe(0);
      expect(await s.heads()).toEqual([]);
      harness.failNextWriteTo('entries');
      await expect(s.ingest(batch)).rejects.toMatchObject({ name: 'StorageQuotaError' });
      expect(await s.count()).toBe(0);
      harness.failNextWriteTo('compaction');
      const c = { state: randomBytes(8), heads: [{ author: toHex(x), seq: 7, hash: toHex(randomBytes(32)) }], at: 1 };
      await expect(s.saveCompaction(c)).rejects.toMatchObject({ name: 'StorageQuotaError' });
      expect(await s.loadCompaction()).toBeUndefined();
      expect(await s.heads()).toEqual([]);
      expect((await s.ingest(batch)).added).toBe(5);
    });

    it('rejects use after close with StorageClosedError; destroy removes everything', async () => {
      const s = await start();
      await s.ingest(fakeFeed(randomBytes(32), 2));
      await s.close();
      await expect(s.count()).rejects.toMatchObject({ name: 'StorageClosedError' });
      await expect(s.ingest(fakeFeed(randomBytes(32), 1))).rejects.toMatchObject({ name: 'StorageClosedError' });
      const again = await reopen();
      expect(await again.count()).toBe(2);
      await again.destroy();
      const fresh = await reopen();
      expect(await fresh.count()).toBe(0);
      expect(await fresh.heads()).toEqual([]);
    });
  });
}
