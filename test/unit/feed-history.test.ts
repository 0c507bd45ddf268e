// Feed history on a light replica (issue 9: "fetches older history from full replicas on demand"):
// pages of a feed newest first, pruned entries fetched back from peers, verified against what the
// replica holds, never stored; lying peers are reported and skipped.
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { networkId } from '../../src/lib/core/genesis.js';
import {
  FeedHistory,
  HistoryUnavailableError,
  ledgerHistorySource,
  type RangeFetch
} from '../../src/lib/core/history/index.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import { isBanOffence } from '../../src/lib/core/peers/offences.js';
import type { LedgerError } from '../../src/lib/core/errors.js';
import { makeChain } from '../helpers/ledger-fixtures.js';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { genesis, memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { prunedHistory } from '../helpers/pruned-history.js';

const WRITES = 400;
let full: TestLedger;
let light: TestLedger;
let author: string;

beforeAll(async () => {
  ({ full, light } = await prunedHistory(WRITES));
  author = full.ledger.author;
}, 60_000);

/** A peer serving `ledger`'s entries as sync serves them. */
function peer(id: string, t: TestLedger, tamper?: (entries: Uint8Array[]) => Uint8Array[]) {
  const r = ledgerReplica(t.ledger);
  return {
    id,
    get: async (a: string, from: number, to: number) => (tamper ?? ((x) => x))(await r.getRange(a, from, to, 16 * 1024))
  };
}

function fetcher(peers: ReturnType<typeof peer>[], log: string[] = []): RangeFetch {
  return async (a, from, to, { exclude, only }) => {
    for (const p of peers) {
      if (exclude.has(p.id) || (only !== undefined && p.id !== only)) continue;
      const entries = await p.get(a, from, to);
      log.push(`${p.id}:${from}-${to}:${entries.length}`);
      if (entries.length > 0) return { peer: p.id, entries, maxBytes: 16 * 1024 };
    }
    throw new HistoryUnavailableError('no peer');
  };
}

function history(fetch: RangeFetch, invalid: [string, LedgerError][] = []) {
  return new FeedHistory({
    source: ledgerHistorySource(light.ledger),
    fetch,
    onInvalid: (p, e) => invalid.push([p, e])
  });
}

async function readAll(h: FeedHistory, limit: number) {
  const items = [];
  let fetched = 0;
  let before: number | undefined;
  do {
    const page = await h.page(author, { before, limit });
    items.push(...page.items);
    fetched += page.fetched;
    before = page.next;
  } while (before !== undefined);
  return { items, fetched };
}

describe('feed history on a light replica', () => {
  it('the light replica pruned most of the feed (the premise)', () => {
    const s = light.ledger.stats({ digest: false }).storage;
    expect(s.pruned).toBeGreaterThan(WRITES / 2);
    expect(s.bytesUsed).toBeLessThanOrEqual(8 * 1024);
  });

  it('pages the whole feed newest first; pruned entries come back verified and are not stored', async () => {
    const storedBefore = await light.store.count();
    const { items, fetched } = await readAll(history(fetcher([peer('f', full)])), 60);
    expect(items.map((i) => i.seq)).toEqual(Array.from({ length: WRITES }, (_, i) => WRITES - i));
    expect(items.map((i) => i.hash)).toEqual([...full.log].reverse().map((h) => toHex(h.hash)));
    expect(fetched).toBe(light.ledger.stats({ digest: false }).storage.pruned);
    expect(items.filter((i) => i.held).length).toBe(WRITES - fetched);
    // What each entry wrote, read from the light replica's own document.
    const byseq = new Map(items.map((i) => [i.seq, i]));
    expect(byseq.get(1)!.writes).toEqual([{ key: 'k1', deleted: false, value: { i: 1, note: 'x'.repeat(40) } }]);
    expect(byseq.get(40)!.writes).toEqual([{ key: 'k14', deleted: true }]);
    expect(byseq.get(41)!.writes[0].key).toBe('k16');
    expect(await light.store.count()).toBe(storedBefore);
  });

  it('a second read of the same pages is served from the cache', async () => {
    const log: string[] = [];
    const h = history(fetcher([peer('f', full)], log));
    await readAll(h, 100);
    const n = log.length;
    expect(n).toBeGreaterThan(0);
    const again = await readAll(h, 100);
    expect(again.fetched).toBe(0);
    expect(log.length).toBe(n);
  });

  it('a peer serving forged bytes is reported (a ban offence) and the next peer serves', async () => {
    const invalid: [string, LedgerError][] = [];
    const liar = peer('liar', full, (es) => es.map((e, i) => (i === 0 ? flipLast(e) : e)));
    const { items } = await readAll(history(fetcher([liar, peer('f', full)]), invalid), 80);
    expect(items.map((i) => i.hash)).toEqual([...full.log].reverse().map((h) => toHex(h.hash)));
    expect(invalid.length).toBeGreaterThan(0);
    expect(invalid.every(([p, e]) => p === 'liar' && isBanOffence(e.code))).toBe(true);
  });

  it('a peer serving another branch (validly signed by the author) is skipped, not banned', async () => {
    // The same key signs a different feed: its entries verify alone but do not link to ours.
    const fork = await makeChain(full.keys, 120, networkId(genesis), undefined, 'other');
    const brancher = {
      id: 'branch',
      get: async (_a: string, from: number, to: number) =>
        fork.slice(from - 1, Math.min(to, fork.length)).map((h) => encodeEntry(h.entry))
    };
    const invalid: [string, LedgerError][] = [];
    const { items } = await readAll(history(fetcher([brancher, peer('f', full)]), invalid), 50);
    expect(items.map((i) => i.hash)).toEqual([...full.log].reverse().map((h) => toHex(h.hash)));
    expect(invalid).toEqual([]);
  });

  it('with no peer holding the pruned part the read fails with a typed error, held pages still read', async () => {
    const h = history(fetcher([]));
    const top = await h.page(author, { limit: 5 });
    expect(top.items.map((i) => i.seq)).toEqual([400, 399, 398, 397, 396]);
    await expect(h.page(author, { before: 10, limit: 5 })).rejects.toMatchObject({ name: 'HistoryUnavailableError' });
  });

  it('a page far below everything held or cached is refused (page down instead)', async () => {
    const log: string[] = [];
    const h = new FeedHistory({
      source: ledgerHistorySource(light.ledger),
      fetch: fetcher([peer('f', full)], log),
      maxWalk: 100
    });
    await expect(h.page(author, { before: 5, limit: 2 })).rejects.toMatchObject({ name: 'HistoryTooFarError' });
    expect(log).toEqual([]);
    // Paging down gets there.
    let before: number | undefined = WRITES + 1;
    while (before !== undefined && before > 5) before = (await h.page(author, { before, limit: 99 })).next;
    expect((await h.page(author, { before: 5, limit: 2 })).items.map((i) => i.seq)).toEqual([4, 3]);
  });
});

/** The entry with its signature's last byte flipped. */
function flipLast(e: Uint8Array): Uint8Array {
  const b = e.slice();
  b[b.length - 1] ^= 1;
  return b;
}

describe('feed history arguments', () => {
  it('refuses a bad author or bounds with a typed error', async () => {
    const h = new FeedHistory({ source: ledgerHistorySource(light.ledger), fetch: fetcher([]) });
    await expect(h.page('zz')).rejects.toMatchObject({ name: 'InvalidKeyError' });
    await expect(h.page(author, { before: 0 })).rejects.toThrow(RangeError);
    await expect(h.page(author, { limit: 1.5 })).rejects.toThrow(RangeError);
    expect((await h.page('00'.repeat(32))).items).toEqual([]);
  });
});

describe('feed history on a replica that holds no entries of the feed', () => {
  it('anchors on the head hash: a replica bootstrapped from a light snapshot pages the whole feed', async () => {
    const bytes = await collectBytes(exportLedgerSnapshot(full.ledger, 'light'));
    const fresh = await openLedger(memoryLocation(), 15, { role: 'light' });
    await importLedgerSnapshot(fresh.ledger, bytes);
    expect(await fresh.store.getRange(author, 1, WRITES)).toEqual([]);
    const invalid: [string, LedgerError][] = [];
    const liar = peer('liar', full, (es) => es.map((e, i) => (i === es.length - 1 ? flipLast(e) : e)));
    const h = new FeedHistory({
      source: ledgerHistorySource(fresh.ledger),
      fetch: fetcher([liar, peer('f', full)]),
      onInvalid: (p, e) => invalid.push([p, e])
    });
    const items = [];
    let before: number | undefined;
    do {
      const page = await h.page(author, { before, limit: 150 });
      items.push(...page.items);
      before = page.next;
    } while (before !== undefined);
    expect(items.map((i) => i.hash)).toEqual([...full.log].reverse().map((x) => toHex(x.hash)));
    expect(items.every((i) => !i.held)).toBe(true);
    expect(items.at(-1)!.writes).toEqual([{ key: 'k1', deleted: false, value: { i: 1, note: 'x'.repeat(40) } }]);
    expect(invalid.map(([p]) => p)).toContain('liar');
    await fresh.ledger.close();
  });
});
