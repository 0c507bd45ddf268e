// The archive's SQLite store: the shared LedgerStore compliance suite, plus what only a real
// file shows (a full disk, durability settings, corruption).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { SqliteLedgerStore, type SqliteFaults } from '../../relay/archive/sqlite-store.js';
import { runStoreCompliance, type StoreHarness } from '../helpers/store-compliance.js';
import { fakeFeed, randomBytes } from '../helpers/fake-feed.js';

const root = mkdtempSync(join(tmpdir(), 'tabula-sqlite-'));
let dbs = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

runStoreCompliance('sqlite (better-sqlite3)', async (): Promise<StoreHarness> => {
  const path = join(root, `compliance-${++dbs}.sqlite`);
  const faults: SqliteFaults = {};
  return {
    open: async () => SqliteLedgerStore.open({ path, faults }),
    failNextWriteTo: (table) => void (faults.failOnTable = table)
  };
});

describe('SqliteLedgerStore on a real file', () => {
  it('uses WAL with synchronous=FULL', async () => {
    const path = join(root, 'pragmas.sqlite');
    const store = SqliteLedgerStore.open({ path });
    await store.setMeta('k', 1);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    // synchronous is per connection: read it from a store connection.
    const again = SqliteLedgerStore.open({ path });
    expect((again as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true })).toBe(2);
    await again.close();
  });

  it('a genuinely full database (max_page_count) is a StorageQuotaError and rolls the batch back', async () => {
    const path = join(root, 'full.sqlite');
    const store = SqliteLedgerStore.open({ path });
    const db = (store as unknown as { db: Database.Database }).db;
    const author = randomBytes(32);
    const feed = fakeFeed(author, 400);
    await store.ingest(feed.slice(0, 10));
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 2}`);
    await expect(store.ingest(feed.slice(10))).rejects.toMatchObject({ name: 'StorageQuotaError' });
    expect(await store.count()).toBe(10);
    expect((await store.getHead(toHex(author)))?.seq).toBe(10);
    db.pragma('max_page_count = 1073741823');
    expect((await store.ingest(feed.slice(10))).added).toBe(390);
    await store.close();
  });

  it('a read-only store reads while another connection writes, and refuses writes', async () => {
    const path = join(root, 'ro.sqlite');
    const w = SqliteLedgerStore.open({ path });
    await w.ingest(fakeFeed(randomBytes(32), 3));
    const r = SqliteLedgerStore.open({ path, readonly: true });
    expect(await r.count()).toBe(3);
    await w.ingest(fakeFeed(randomBytes(32), 2));
    expect(await r.count()).toBe(5);
    await expect(r.setMeta('k', 1)).rejects.toMatchObject({ code: 'SQLITE_READONLY' });
    await r.close();
    await w.close();
  });

  it('reports bytes on disk and a quota from the file system', async () => {
    const store = SqliteLedgerStore.open({ path: join(root, 'estimate.sqlite') });
    await store.ingest(fakeFeed(randomBytes(32), 50));
    const est = await store.estimate();
    expect(est!.usage).toBeGreaterThan(0);
    expect(est!.quota).toBeGreaterThan(est!.usage);
    await store.close();
  });

  it('refuses a file that is not an archive with CorruptStoreError', () => {
    const path = join(root, 'junk.sqlite');
    writeFileSync(path, Buffer.alloc(8192, 7));
    expect(() => SqliteLedgerStore.open({ path })).toThrow(expect.objectContaining({ name: 'CorruptStoreError' }));
  });

  it('a damaged row reads as CorruptStoreError, not as a wrong value', async () => {
    const store = SqliteLedgerStore.open({ path: join(root, 'damaged.sqlite') });
    const author = randomBytes(32);
    await store.ingest(fakeFeed(author, 2));
    const db = (store as unknown as { db: Database.Database }).db;
    db.prepare('UPDATE entries SET body = ? WHERE seq = 2').run(Buffer.from([0xff, 0x0f, 0x6f, 0x7b]));
    expect(await store.getEntry(toHex(author), 1)).toBeDefined();
    await expect(store.getEntry(toHex(author), 2)).rejects.toMatchObject({ name: 'CorruptStoreError' });
    await store.close();
  });
});
