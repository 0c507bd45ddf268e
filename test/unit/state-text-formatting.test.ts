// Yjs cleans up Y.Text formatting after every non-local transaction (state/yjs-doc.ts): it
// deletes format items it finds redundant, unsigned and depending on how updates were batched.
// Authors format one text concurrently; ledgers given their entries one by one, shuffled in
// batches, the store reopened, and a node joining from a snapshot must hold one state with one
// digest, and no node may write an entry of its own for it. SEED=n picks the random rounds' seed.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Ledger } from '../../src/lib/core/ledger.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { collectBytes } from '../../src/lib/core/snapshot/export.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { Authors, type Feed } from '../helpers/yjs-authors.js';
import { genesis, memoryLocation, mulberry, openLedger, shuffle, testClock } from '../helpers/ledger-nodes.js';
import { observe } from '../fuzz/kit.js';

const SEED = Number(process.env.SEED ?? 20261203);

const text = (f: Feed): Y.Text => f.doc.getMap('records').get('k') as Y.Text;

/** A writes a text; A and B format it concurrently. */
async function concurrentFormats(networkId: Uint8Array): Promise<HashedEntry[]> {
  const w = await Authors.create(networkId, [21, 22]);
  const [a, b] = w.feeds;
  await w.write(a, () => a.doc.getMap('records').set('k', new Y.Text('abcdef')));
  w.sync(a, b);
  await w.write(a, () => text(a).format(0, 4, { bold: true }));
  await w.write(b, () => {
    text(b).format(0, 4, { bold: true });
    text(b).format(1, 2, { bold: null });
  });
  await w.write(a, () => text(a).format(3, 2, { italic: true }));
  return w.entries;
}

/** Three authors inserting, deleting and formatting one text, syncing now and then. */
async function randomEdits(networkId: Uint8Array, r: () => number, writes: number): Promise<HashedEntry[]> {
  const w = await Authors.create(networkId, [31, 32, 33]);
  const pick = (n: number) => Math.floor(r() * n);
  await w.write(w.feeds[0], () => w.feeds[0].doc.getMap('records').set('k', new Y.Text('0123456789')));
  for (const f of w.feeds.slice(1)) w.sync(w.feeds[0], f);
  const attrs = [{ bold: true }, { bold: null }, { italic: true }, { color: 'r' }, { color: 'g' }, { color: null }];
  for (let i = 0; i < writes; i++) {
    const f = w.feeds[pick(3)];
    const t = text(f);
    const at = pick(t.length + 1);
    const len = Math.min(1 + pick(5), t.length - at);
    const op = r();
    await w.write(f, () => {
      if (op < 0.3 || len <= 0) t.insert(at, 'xyz'.slice(pick(3)), r() < 0.3 ? attrs[pick(attrs.length)] : undefined);
      else if (op < 0.45) t.delete(at, len);
      else t.format(at, len, attrs[pick(attrs.length)]);
    });
    if (r() < 0.35) w.sync(w.feeds[pick(3)], w.feeds[pick(3)]);
  }
  return w.entries;
}

/** Ledgers given `entries` one by one in order, and shuffled in batches of 1-4, agree. */
async function expectOneState(entries: HashedEntry[], r: () => number): Promise<void> {
  const loc = memoryLocation();
  const one = await openLedger(loc, 1);
  for (const e of entries) expect((await one.ledger.ingest([e])).rejected).toEqual([]);
  const shown = await observe(one.ledger, one.store);
  expect(shown.count, 'the node wrote an entry of its own').toBe(entries.length);
  const mixed = await openLedger(memoryLocation(), 2);
  const order = shuffle([...entries], r);
  for (let i = 0; i < order.length;) {
    const n = 1 + Math.floor(r() * 4);
    expect((await mixed.ledger.ingest(order.slice(i, i + n))).rejected).toEqual([]);
    i += n;
  }
  expect(await observe(mixed.ledger, mixed.store)).toEqual(shown);
  const again = await Ledger.open({ genesis, keys: one.keys, store: await loc.open(), now: testClock() });
  expect(await observe(again, again.store)).toEqual(shown);
  await again.close();
  const joined = await openLedger(memoryLocation(), 3);
  await importLedgerSnapshot(joined.ledger, await collectBytes(exportLedgerSnapshot(one.ledger, 'light')));
  expect(joined.ledger.stats().stateDigest).toBe(shown.digest);
  for (const l of [one, mixed, joined]) await l.ledger.close();
}

describe('Y.Text formatting from entries', () => {
  it('concurrent formats: one state one by one, batched, reopened and joined; no entry of its own', async () => {
    const networkId = (await openLedger(memoryLocation(), 9)).ledger.networkId;
    await expectOneState(await concurrentFormats(networkId), mulberry(SEED));
  });

  it(`random edits of three authors: one state whatever the delivery (SEED=${SEED})`, async () => {
    console.log(`text formatting SEED=${SEED}`);
    const networkId = (await openLedger(memoryLocation(), 9)).ledger.networkId;
    const r = mulberry(SEED);
    for (let round = 0; round < 12; round++) {
      await expectOneState(await randomEdits(networkId, r, 25), r);
    }
  }, 120_000);
});
