// Break-it review (2026-12-04): stores created before write tags existed (Dexie v1, SQLite without write_tags).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import Dexie from 'dexie';
import { afterAll, describe, expect, it } from 'vitest';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import { SqliteLedgerStore } from '../../relay/archive/sqlite-store.js';
import { openLedger, type Location } from '../helpers/ledger-nodes.js';

const V1 = {
  entries: '[author+seq]',
  heads: 'author',
  forks: 'id, author',
  compaction: 'id',
  meta: 'key',
  identity: 'id'
};
const TABLES = Object.keys(V1);

describe('s25b: a Dexie v1 database with data opened by the v2 store', () => {
  it('keeps its data, stores tags, answers retries', async () => {
    const indexedDB = new IDBFactory();
    // 1. A v2 store writes a feed (stand-in for data an older build wrote), rows copied out.
    const src: Location = {
      kind: 'dexie',
      open: async () => DexieLedgerStore.open({ name: 'src', indexedDB, IDBKeyRange })
    };
    const a = await openLedger(src, 1, { compactEvery: 0 });
    for (let i = 0; i < 20; i++) await a.ledger.put(`k${i}`, i);
    await a.ledger.delete('k3');
    const recordsBefore = JSON.stringify(a.ledger.records());
    const headsBefore = JSON.stringify(a.ledger.heads());
    await a.ledger.close();
    const raw = new Dexie('src', { indexedDB, IDBKeyRange });
    await raw.open();
    const rows: Record<string, unknown[]> = {};
    for (const t of TABLES) rows[t] = await raw.table(t).toArray();
    raw.close();
    // 2. The same rows in a database created at version 1 (as an older build left it).
    const v1 = new Dexie('old', { indexedDB, IDBKeyRange });
    v1.version(1).stores(V1);
    await v1.open();
    for (const t of TABLES) await v1.table(t).bulkPut(rows[t]);
    expect(v1.verno).toBe(1);
    v1.close();
    // 3. Opened by this build.
    const old: Location = {
      kind: 'dexie',
      open: async () => DexieLedgerStore.open({ name: 'old', indexedDB, IDBKeyRange })
    };
    const b = await openLedger(old, 1, { compactEvery: 0 });
    expect(JSON.stringify(b.ledger.records())).toBe(recordsBefore);
    expect(JSON.stringify(b.ledger.heads())).toBe(headsBefore);
    expect(await b.store.writeTag('nope')).toBeUndefined();
    const made = await b.ledger.put('k', 'v', { tag: 't:1' });
    await b.ledger.put('k', 'newer', { tag: 't:2' });
    await b.ledger.close();
    const c = await openLedger(old, 1, { compactEvery: 0 });
    const again = await c.ledger.put('k', 'v', { tag: 't:1', retry: true });
    expect(again.entry.seq).toBe(made.entry.seq);
    expect(c.ledger.get('k')).toBe('newer');
    await c.ledger.close();
  });
});

describe('s25b: a SQLite archive file from before write_tags', () => {
  const root = mkdtempSync(join(tmpdir(), 'redteam-s25-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('readonly: writeTag answers undefined; writable: the table is added and tags work; readonly again sees them', async () => {
    const path = join(root, 'old.sqlite');
    const loc: Location = { kind: 'memory', open: async () => SqliteLedgerStore.open({ path }) };
    const a = await openLedger(loc, 1, { compactEvery: 0 });
    for (let i = 0; i < 5; i++) await a.ledger.put(`k${i}`, i);
    await a.ledger.close();
    const db = new Database(path);
    db.exec('DROP INDEX IF EXISTS write_tags_by_seq; DROP TABLE write_tags;');
    db.close();
    // readonly before the table exists
    const ro = SqliteLedgerStore.open({ path, readonly: true });
    expect(await ro.writeTag('x')).toBeUndefined();
    // a writer adds the table while the reader stays open
    const w = await openLedger({ kind: 'memory', open: async () => SqliteLedgerStore.open({ path }) }, 1, {
      compactEvery: 0
    });
    const made = await w.ledger.put('k', 'v', { tag: 't:1' });
    expect((await ro.writeTag('t:1'))?.seq).toBe(made.entry.seq);
    await w.ledger.put('k', 'newer');
    const again = await w.ledger.put('k', 'v', { tag: 't:1', retry: true });
    expect(again.entry.seq).toBe(made.entry.seq);
    expect(w.ledger.get('k')).toBe('newer');
    await w.ledger.close();
    await ro.close();
  });

  it('a ledger opened on a readonly pre-write_tags file', async () => {
    const path = join(root, 'old2.sqlite');
    const loc: Location = { kind: 'memory', open: async () => SqliteLedgerStore.open({ path }) };
    const a = await openLedger(loc, 1, { compactEvery: 0 });
    for (let i = 0; i < 5; i++) await a.ledger.put(`k${i}`, i);
    await a.ledger.close();
    const db = new Database(path);
    db.exec('DROP INDEX IF EXISTS write_tags_by_seq; DROP TABLE write_tags;');
    db.close();
    const ro = await openLedger(
      { kind: 'memory', open: async () => SqliteLedgerStore.open({ path, readonly: true }) },
      1,
      { compactEvery: 0 }
    );
    expect(ro.ledger.get('k4')).toBe(4);
    const r = await ro.ledger.put('k', 1, { tag: 'z', retry: true }).then(
      () => 'resolved',
      (e: Error) => e.name + ': ' + e.message
    );
    console.log('readonly tagged retry put:', r);
    await ro.ledger.close();
  });
});
