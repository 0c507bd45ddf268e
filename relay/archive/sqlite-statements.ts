// The archive store's prepared statements (compiled once per connection).
import type Database from 'better-sqlite3';

export function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    insertEntry: p('INSERT INTO entries (author, seq, hash, size, body) VALUES (?, ?, ?, ?, ?)'),
    getEntry: p('SELECT body FROM entries WHERE author = ? AND seq = ?'),
    range: p('SELECT body FROM entries WHERE author = ? AND seq BETWEEN ? AND ? ORDER BY seq LIMIT ?'),
    after: p('SELECT body FROM entries WHERE author = ? AND seq > ? ORDER BY seq'),
    count: p('SELECT count(*) AS n FROM entries'),
    prune: p('DELETE FROM entries WHERE author = ? AND seq < ?'),
    getHead: p('SELECT author, seq, hash FROM heads WHERE author = ?'),
    allHeads: p('SELECT author, seq, hash FROM heads ORDER BY author'),
    upsertHead: p(
      'INSERT INTO heads (author, seq, hash) VALUES (?, ?, ?) ON CONFLICT(author) DO UPDATE SET seq = excluded.seq, hash = excluded.hash'
    ),
    insertFork: p('INSERT OR IGNORE INTO forks (id, body) VALUES (?, ?)'),
    allForks: p('SELECT body FROM forks ORDER BY id'),
    putCompaction: p('INSERT OR REPLACE INTO compaction (id, body) VALUES (?, ?)'),
    getCompaction: p('SELECT body FROM compaction WHERE id = ?'),
    getMeta: p('SELECT body FROM meta WHERE key = ?'),
    putMeta: p('INSERT OR REPLACE INTO meta (key, body) VALUES (?, ?)'),
    deleteMeta: p('DELETE FROM meta WHERE key = ?'),
    getIdentity: p('SELECT seed, public_key FROM identity WHERE id = ?'),
    putIdentity: p('INSERT OR REPLACE INTO identity (id, seed, public_key) VALUES (?, ?, ?)')
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
