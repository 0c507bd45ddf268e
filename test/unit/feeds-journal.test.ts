// FeedSet's journal (beginJournal): heads, one head and counts as they were when it began, while
// an ingest moves the feeds (the Ledger shows them until the batch is applied). It notes a feed
// before its first change, so starting one costs nothing however many feeds there are.
import { describe, expect, it } from 'vitest';
import { FeedSet } from '../../src/lib/core/feeds.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { authoredEntries } from '../helpers/gossip-fake.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('FeedSet journal', () => {
  it('gives the heads and counts of when it began while appends, new feeds and pending entries move the set', async () => {
    const [a, b, c] = await Promise.all([authoredEntries(31, 4), authoredEntries(32, 2), authoredEntries(33, 3)]);
    const f = new FeedSet();
    for (const h of [a[0], a[1], b[0]]) expect(f.ingest(h).kind).toBe('appended');
    const before = {
      heads: f.heads(),
      counts: { entries: f.appliedCount(), pending: f.pendingCount(), forkedAuthors: 0 }
    };
    const aHex = toHex(a[0].entry.author);
    f.beginJournal();
    expect(f.ingest(a[2]).kind).toBe('appended'); // an existing feed moves
    expect(f.ingest(c[0]).kind).toBe('appended'); // a new feed
    expect(f.ingest(c[2]).kind).toBe('pending'); // held
    expect(f.ingest(b[1]).kind).toBe('appended');
    expect(f.heads()).not.toEqual(before.heads);
    expect(f.headsBefore()).toEqual(before.heads);
    expect(f.headBefore(aHex)).toEqual(before.heads.find((h) => h.author === aHex));
    expect(f.headBefore(toHex(c[0].entry.author))).toBeUndefined();
    expect(f.countsBefore()).toEqual(before.counts);
    f.endJournal();
    expect(f.headsBefore()).toEqual(f.heads());
    expect(f.countsBefore()).toEqual({ entries: 6, pending: 1, forkedAuthors: 0 });
  });

  it('a fork during the journal: the feed shows its head and no fork until the journal ends', async () => {
    const a = await authoredEntries(34, 2);
    const other = await openLedger(memoryLocation(), 34); // the same key signs another seq 1
    await other.ledger.put('elsewhere', 1);
    const f = new FeedSet();
    for (const h of a) expect(f.ingest(h).kind).toBe('appended');
    const heads = f.heads();
    f.beginJournal();
    expect(() => f.beginJournal()).toThrow(/running already/);
    expect(f.ingest(other.log[0]).kind).toBe('fork');
    const author = heads[0].author;
    expect(f.isForked(author)).toBe(true);
    expect(f.voidFrom(author)).toBe(1);
    expect(f.voidTop(author)).toEqual({ seq: 0, hash: undefined });
    expect(f.forks()).toHaveLength(1);
    expect(f.headsBefore()).toEqual(heads);
    expect(f.countsBefore()).toEqual({ entries: 2, pending: 0, forkedAuthors: 0 });
    // The fork reads as at the start too: not forked, not void, no evidence.
    expect(f.isForkedBefore(author)).toBe(false);
    expect(f.voidFromBefore(author)).toBeUndefined();
    expect(f.voidTopBefore(author)).toBeUndefined();
    expect(f.forksBefore()).toEqual([]);
    f.endJournal();
    expect(f.countsBefore().forkedAuthors).toBe(1);
    expect(f.isForkedBefore(author)).toBe(true);
    expect(f.voidFromBefore(author)).toBe(1);
    expect(f.forksBefore()).toHaveLength(1);
  });

  it('a void feed whose top moves and held bytes during the journal: both read as at the start', async () => {
    const [a, c] = await Promise.all([authoredEntries(35, 4), authoredEntries(36, 3)]);
    const other = await openLedger(memoryLocation(), 35);
    for (let i = 0; i < 3; i++) await other.ledger.put(`o${i}`, i); // seq 1..3, another chain
    const f = new FeedSet();
    const author = toHex(a[0].entry.author);
    expect(f.ingest(a[0]).kind).toBe('appended');
    expect(f.ingest(other.log[2]).kind).toBe('pending'); // seq 3 of the other chain
    expect(f.ingest(a[2]).kind).toBe('fork'); // seq 3 twice: void from 3, top 1
    expect(f.voidTop(author)).toEqual({ seq: 1, hash: toHex(a[0].hash) });
    const bytes = f.pendingByteCount();
    f.beginJournal();
    expect(f.ingest(a[1]).kind).toBe('appended'); // the canonical part grows: top 2
    expect(f.ingest(c[2]).kind).toBe('pending'); // held bytes grow
    expect(f.voidTop(author)).toEqual({ seq: 2, hash: toHex(a[1].hash) });
    expect(f.voidTopBefore(author)).toEqual({ seq: 1, hash: toHex(a[0].hash) });
    expect(f.voidFromBefore(author)).toBe(3);
    expect(f.pendingByteCount()).toBeGreaterThan(bytes);
    expect(f.pendingBytesBefore()).toBe(bytes);
    f.endJournal();
    expect(f.voidTopBefore(author)).toEqual({ seq: 2, hash: toHex(a[1].hash) });
    expect(f.pendingBytesBefore()).toBe(f.pendingByteCount());
  });
});
