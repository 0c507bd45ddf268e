// Compaction seal v3 (v4 since pruned-headers rows are sealed too; same fields) (PROTOCOL.md §10): the seal binds the unverified mark and the light head
// headers; entry rows are counted on open against what the heads cover less what the store
// records as not held (light bootstrap, pruned). Companion to the redteam6b store tests.
import { describe, expect, it } from 'vitest';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { HEAD_HEADERS_META, UNVERIFIED_META } from '../../src/lib/core/ledger-replay.js';
import { checkSeal, headersHash } from '../../src/lib/core/compaction-seal.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { sha256 } from '../../src/lib/core/hash.js';
import { concatBytes, toHex } from '../../src/lib/core/bytes.js';
import type { Compaction } from '../../src/lib/core/storage.js';
import type { HeadHeader } from '../../src/lib/core/snapshot/format.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const B = 252;

/** A fresh node (key byte B) bootstrapped from a light snapshot of another node's 3 writes. */
async function lightNode() {
  const A = await openLedger(memoryLocation(), 251, { compactEvery: 0 });
  for (let i = 1; i <= 3; i++) await A.ledger.put(`a${i}`, i);
  const file = await collectBytes(exportLedgerSnapshot(A.ledger, 'light'));
  await A.ledger.close();
  const loc = memoryLocation();
  const b = await openLedger(loc, B, { compactEvery: 0 });
  await importLedgerSnapshot(b.ledger, file);
  return { loc, b };
}

const reopen = (loc: ReturnType<typeof memoryLocation>, opts = {}) =>
  openLedger(loc, B, { compactEvery: 0, ...opts }).then(
    async (again) => {
      const s = again.ledger.stats({ digest: false });
      await again.ledger.close();
      return s.unverified ? 'unverified' : 'verified';
    },
    (e: Error) => e.name
  );

/** The v2 seal (digest, heads root, time), as stores sealed before v3 carry it. */
function sealV2(c: Compaction, seed: Uint8Array): string {
  const key = sha256(concatBytes(new TextEncoder().encode('tabula/compaction-seal/v1\u0000'), seed));
  const msg = JSON.stringify(['v2', c.digest, headsRoot(c.heads), c.at]);
  return toHex(hmac(nobleSha256, key, new TextEncoder().encode(msg)));
}

describe('compaction seal v3: the unverified mark and the light head headers', () => {
  it('a light bootstrap is sealed v3 (now v4) with the mark; markVerified reseals without it, durably', async () => {
    const { loc, b } = await lightNode();
    const headers = loc.disk.meta.get(HEAD_HEADERS_META) as HeadHeader[];
    expect(checkSeal(loc.disk.compaction!, b.keys.seed, headers)).toEqual({ version: 4, unverified: true });
    await b.ledger.markVerified();
    expect(loc.disk.meta.has(UNVERIFIED_META)).toBe(false);
    expect(checkSeal(loc.disk.compaction!, b.keys.seed, headers)).toEqual({ version: 4, unverified: false });
    await b.ledger.close();
    expect(await reopen(loc)).toBe('verified');
    // A row that comes back (a crash between reseal and delete) keeps the state unverified: the safe side.
    loc.disk.meta.set(UNVERIFIED_META, { headsRoot: '', exporter: 'x', at: 0 });
    expect(await reopen(loc)).toBe('unverified');
  });

  it('a state vouched for at install (a verified join) is sealed without the mark, and no row is written', async () => {
    const aLoc = memoryLocation();
    const A = await openLedger(aLoc, 253, { compactEvery: 0 });
    for (let i = 1; i <= 3; i++) await A.ledger.put(`a${i}`, i);
    await A.ledger.compact();
    const heads = A.ledger.heads();
    const snapshot = {
      state: aLoc.disk.compaction!.state,
      heads,
      headers: await A.ledger.headHeaders(heads),
      headsRoot: headsRoot(heads),
      exporter: 'test'
    };
    await A.ledger.close();
    for (const verified of [true, false]) {
      const loc = memoryLocation();
      const b = await openLedger(loc, B, { compactEvery: 0 });
      expect(await b.ledger.mergeLightSnapshot({ ...snapshot, verified })).toBe(3);
      expect(b.ledger.get('a3')).toBe(3);
      expect(b.ledger.stats({ digest: false }).unverified).toBe(!verified);
      expect(loc.disk.meta.has(UNVERIFIED_META)).toBe(!verified);
      const headers = loc.disk.meta.get(HEAD_HEADERS_META) as HeadHeader[];
      expect(checkSeal(loc.disk.compaction!, b.keys.seed, headers)).toEqual({ version: 4, unverified: !verified });
      await b.ledger.close();
      expect(await reopen(loc)).toBe(verified ? 'verified' : 'unverified');
    }
  });

  it('a later compaction keeps the mark sealed', async () => {
    const { loc, b } = await lightNode();
    await b.ledger.put('mine', 1);
    await b.ledger.compact();
    await b.ledger.close();
    expect(loc.disk.meta.delete(UNVERIFIED_META)).toBe(true);
    expect(await reopen(loc)).toBe('unverified');
  });

  it('a changed or deleted light head header is refused (seal mismatch)', async () => {
    const { loc, b } = await lightNode();
    await b.ledger.close();
    const headers = loc.disk.meta.get(HEAD_HEADERS_META) as HeadHeader[];
    loc.disk.meta.set(
      HEAD_HEADERS_META,
      headers.map((h) => ({ ...h, lamport: h.lamport + 1 }))
    );
    expect(await reopen(loc)).toBe('CorruptStoreError');
    loc.disk.meta.delete(HEAD_HEADERS_META);
    expect(await reopen(loc)).toBe('CorruptStoreError');
    loc.disk.meta.set(HEAD_HEADERS_META, headers);
    expect(await reopen(loc)).toBe('unverified');
  });

  it('headersHash does not depend on the stored order', () => {
    const x = { author: 'aa'.repeat(32), seq: 2, lamport: 3, clock: 4 };
    const y = { author: 'bb'.repeat(32), seq: 1, lamport: 1, clock: 1 };
    expect(headersHash([x, y])).toBe(headersHash([y, x]));
    expect(headersHash([x])).not.toBe(headersHash([y]));
    expect(headersHash(undefined)).toBeNull();
  });

  it('a v2-sealed store still opens: its mark is the row alone, as before v3', async () => {
    const { loc, b } = await lightNode();
    await b.ledger.close();
    const c = loc.disk.compaction!;
    loc.disk.compaction = { ...c, mac: sealV2(c, b.keys.seed) };
    expect(await reopen(loc)).toBe('unverified');
    loc.disk.meta.delete(UNVERIFIED_META);
    expect(await reopen(loc)).toBe('verified'); // the v2 limit (PROTOCOL.md §10)
  });
});

describe('entry rows counted on open', () => {
  it('a light store that pruned opens; one more held row deleted is refused', async () => {
    const loc = memoryLocation();
    const opts = { role: 'light' as const, budgetBytes: 8 * 1024, compactEvery: 64 };
    const node = await openLedger(loc, 61, opts);
    const writer = await openLedger(memoryLocation(), 60, { compactEvery: 0 });
    for (let i = 0; i < 200; i++) await writer.ledger.put(`k${i}`, 'y'.repeat(60));
    await node.ledger.ingest(writer.log);
    await node.ledger.compact();
    const pruned = node.ledger.stats({ digest: false }).storage.pruned;
    expect(pruned).toBeGreaterThan(0);
    await Promise.all([node.ledger.close(), writer.ledger.close()]);
    const open = () =>
      openLedger(loc, 61, opts).then(
        (x) => x.ledger.close().then(() => 'ok'),
        (e: Error) => e.name
      );
    expect(await open()).toBe('ok');
    const rows = loc.disk.entries.get(writer.ledger.author)!;
    const held = [...rows.keys()].sort((p, q) => p - q);
    expect(rows.delete(held[Math.floor(held.length / 2)])).toBe(true);
    expect(await open()).toBe('CorruptStoreError');
  });

  it('a light bootstrap (entries never held) opens; a held entry deleted after it is refused', async () => {
    const { loc, b } = await lightNode();
    await b.ledger.put('mine', 1);
    await b.ledger.put('mine', 2);
    await b.ledger.compact(); // entry 1 is below the compaction: only the count finds it gone
    await b.ledger.close();
    expect(await reopen(loc)).toBe('unverified');
    expect(loc.disk.entries.get(b.ledger.author)!.delete(1)).toBe(true);
    expect(await reopen(loc)).toBe('CorruptStoreError');
  });
});
