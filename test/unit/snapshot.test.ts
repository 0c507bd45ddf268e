import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { sha256 } from '../../src/lib/core/hash.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import type { FeedHead, HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import type { IngestResult } from '../../src/lib/core/storage.js';
import {
  collectBlob,
  collectBytes,
  exportSnapshot,
  importSnapshot,
  snapshotFileName,
  snapshotLines,
  type ExportOptions,
  type ImportOptions,
  type SnapshotSource
} from '../../src/lib/core/snapshot/index.js';
import { fromBase64, toBase64 } from '../../src/lib/core/snapshot/base64.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { missingTools, ZCAT_JQ_HINT } from '../helpers/cli-tools.js';

const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31);
console.log('snapshot.test seed', seed);

const genesis = defaultGenesis();
const id = networkId(genesis);
const REJECTIONS = ['CorruptSnapshotError', 'MalformedSnapshotError', 'SnapshotTooLargeError'];
const utf8 = new TextEncoder();

/** Counts ingest calls, to prove a rejected import wrote nothing. */
class SpyStore extends MemoryLedgerStore {
  ingestCalls = 0;
  override async ingest(batch: readonly HashedEntry[]): Promise<IngestResult> {
    this.ingestCalls++;
    return super.ingest(batch);
  }
}

let ka: IdentityKeys, kb: IdentityKeys, kc: IdentityKeys;
let chainA: HashedEntry[], chainB: HashedEntry[], chainC: HashedEntry[];
const N = 9;

beforeAll(async () => {
  [ka, kb, kc] = await Promise.all([1, 2, 3].map(keysFromByte));
  chainA = await makeChain(ka, 5, id);
  chainB = await makeChain(kb, 3, id);
  chainC = await makeChain(kc, 1, id);
});

async function filledStore(): Promise<SpyStore> {
  const s = new SpyStore();
  await s.ingest([...chainA, ...chainB, ...chainC]);
  s.ingestCalls = 0;
  return s;
}

function source(store: MemoryLedgerStore, extra: Partial<SnapshotSource> = {}): SnapshotSource {
  return { genesis, store, exporter: toHex(ka.publicKey), ...extra };
}

async function exportBytes(store: MemoryLedgerStore, opts: ExportOptions = {}, extra: Partial<SnapshotSource> = {}) {
  return collectBytes(exportSnapshot(source(store, extra), { created: new Date(Date.UTC(2025, 5, 1)), ...opts }));
}

const target = (store: MemoryLedgerStore) => ({ genesis, networkId: id, store });

async function allEntries(store: MemoryLedgerStore): Promise<string[]> {
  return (await store.entriesAfter([])).map((h) => toHex(encodeEntry(h.entry)));
}

/** Imports into a fresh store and checks it was rejected with one of `names` and nothing written. */
async function expectRejected(bytes: Uint8Array, names: string[], opts: ImportOptions = {}): Promise<Error> {
  const store = new SpyStore();
  let err: Error | undefined;
  try {
    await importSnapshot(bytes, target(store), opts);
  } catch (e) {
    err = e as Error;
  }
  expect(err, 'import should have been rejected').toBeDefined();
  expect(names).toContain(err!.name);
  expect(store.ingestCalls).toBe(0);
  expect(await store.count()).toBe(0);
  return err!;
}

function lines(gz: Uint8Array): string[] {
  return new TextDecoder()
    .decode(gunzipSync(gz))
    .split('\n')
    .filter((l) => l !== '');
}

/** Re-gzips edited lines with a freshly computed trailer: a structurally intact file. */
function reseal(body: string[]): Uint8Array {
  const text = body.map((l) => l + '\n').join('');
  const entries = body.filter((l) => JSON.parse(l).t === 'entry').length;
  const trailer = JSON.stringify({ t: 'end', entries, sha256: toHex(sha256(utf8.encode(text))) });
  return gzipSync(text + trailer + '\n');
}

describe('full snapshot', () => {
  it('round-trips into a fresh store: same heads, same entries', async () => {
    const a = await filledStore();
    const gz = await exportBytes(a);
    const b = new SpyStore();
    const res = await importSnapshot(gz, target(b));
    expect(res).toMatchObject({ kind: 'full', added: N, skipped: 0, rejected: 0 });
    expect(b.ingestCalls).toBe(1);
    expect(await b.heads()).toEqual(await a.heads());
    expect(res.heads).toEqual(await a.heads());
    expect(res.header.headsRoot).toBe(headsRoot(await a.heads()));
    expect(await allEntries(b)).toEqual(await allEntries(a));
  });

  it('imports idempotently: the second time adds 0 and skips all', async () => {
    const gz = await exportBytes(await filledStore());
    const b = new SpyStore();
    expect((await importSnapshot(gz, target(b))).added).toBe(N);
    const again = await importSnapshot(gz, target(b));
    expect(again).toMatchObject({ added: 0, skipped: N, rejected: 0 });
    expect(await b.count()).toBe(N);
  });

  it('imports from a Blob and from a stream as well as from bytes', async () => {
    const a = await filledStore();
    const blob = await collectBlob(exportSnapshot(source(a)));
    expect(blob.type).toBe('application/gzip');
    expect((await importSnapshot(blob, target(new SpyStore()))).added).toBe(N);
    expect((await importSnapshot(exportSnapshot(source(a)), target(new SpyStore()))).added).toBe(N);
  });

  it('header and lines have the documented shape', async () => {
    const ls = lines(await exportBytes(await filledStore(), {}, { state: { digest: 'd1' } })).map((l) => JSON.parse(l));
    const [h] = ls;
    expect(h).toMatchObject({ t: 'header', format: 'tabula-snapshot', version: 2, kind: 'full', stateDigest: 'd1' });
    expect(h.networkId).toBe(toHex(id));
    expect(toHex(sha256(fromBase64(h.genesisBytes)))).toBe(h.networkId);
    expect(h.genesis).toEqual(genesis);
    expect(h.created).toBe('2025-06-01T00:00:00.000Z');
    const entries = ls.filter((l) => l.t === 'entry');
    expect(entries.map((e) => `${e.author.slice(0, 4)}/${e.seq}`)).toHaveLength(N);
    for (const e of entries) expect(toHex(sha256(fromBase64(e.bytes)))).toBe(e.hash);
    expect(ls.at(-1)).toMatchObject({ t: 'end', entries: N });
  });

  it('reports forks, broken and unanchored chains as rejected entries, and stores the rest', async () => {
    const forked = await makeChain(ka, 2, id, chainA[0], 'w'); // seq 2-3, different from chainA
    const b = new SpyStore();
    await b.ingest([chainA[0], ...forked]);
    const res = await importSnapshot(await exportBytes(await filledStore()), target(b), { now: () => 7 });
    expect(res.skipped).toBe(1); // chainA seq 1
    expect(res.added).toBe(4); // chainB + chainC
    expect(res.rejectedEntries.map((r) => `${r.seq}:${r.reason}`)).toEqual([
      '2:fork',
      '3:after-rejected',
      '4:after-rejected',
      '5:after-rejected'
    ]);
    expect(res.rejected).toBe(4);
    expect(res.forks).toHaveLength(1);
    expect(res.forks[0]).toMatchObject({ author: toHex(ka.publicKey), seq: 2, detectedAt: 7 });
    expect(toHex(res.forks[0].a.hash)).toBe(toHex(forked[0].hash));
    expect(toHex(res.forks[0].b.hash)).toBe(toHex(chainA[1].hash));
    expect((await b.getHead(toHex(ka.publicKey)))!.seq).toBe(3);
  });
});

describe('incremental snapshot', () => {
  it('holds exactly the entries after the given heads and applies on top of a store at those heads', async () => {
    const a = await filledStore();
    const at: FeedHead[] = await a.heads();
    const base = await exportBytes(a);
    const moreA = await makeChain(ka, 2, id, chainA[4]);
    const moreB = await makeChain(kb, 1, id, chainB[2]);
    const kd = await keysFromByte(4);
    const chainD = await makeChain(kd, 2, id);
    await a.ingest([...moreA, ...moreB, ...chainD]);

    const inc = await exportBytes(a, { kind: 'incremental', after: at });
    const ls = lines(inc).map((l) => JSON.parse(l));
    expect(ls[0].after).toEqual([...at].sort((x, y) => (x.author < y.author ? -1 : 1)));
    const hashes = ls.filter((l) => l.t === 'entry').map((l) => l.hash);
    expect(hashes.sort()).toEqual([...moreA, ...moreB, ...chainD].map((h) => toHex(h.hash)).sort());

    const b = new SpyStore();
    await importSnapshot(base, target(b));
    const res = await importSnapshot(inc, target(b));
    expect(res).toMatchObject({ kind: 'incremental', added: 5, skipped: 0, rejected: 0 });
    expect(await b.heads()).toEqual(await a.heads());
    expect(await allEntries(b)).toEqual(await allEntries(a));

    // Into an empty store only the new author's feed (from seq 1) is anchored.
    const empty = new SpyStore();
    const lone = await importSnapshot(inc, target(empty));
    expect(lone.added).toBe(2);
    const reasons = lone.rejectedEntries.map(
      (r) => `${r.author === toHex(ka.publicKey) ? 'a' : 'b'}${r.seq}:${r.reason}`
    );
    expect(reasons.sort()).toEqual(['a6:unanchored', 'a7:after-rejected', 'b4:unanchored']);
  });

  it('rejects an entry whose prev does not match the stored head (broken chain)', async () => {
    const forked = await makeChain(ka, 2, id, chainA[0], 'w'); // seq 2-3 on another branch
    const x = new SpyStore();
    await x.ingest([chainA[0], ...forked, ...chainB]);
    const inc = await exportBytes(x, { kind: 'incremental', after: [{ author: toHex(ka.publicKey), seq: 2 }] });
    const b = new SpyStore();
    await b.ingest([chainA[0], chainA[1]]);
    const res = await importSnapshot(inc, target(b));
    expect(res.rejectedEntries).toEqual([
      { author: toHex(ka.publicKey), seq: 3, hash: toHex(forked[1].hash), reason: 'broken-chain' }
    ]);
    expect(res).toMatchObject({ added: 3, skipped: 0, rejected: 1 });
    expect((await b.getHead(toHex(ka.publicKey)))!.seq).toBe(2);
  });
});

describe('light snapshot', () => {
  const digestOf = (b: Uint8Array) => toHex(nobleSha256(b));
  // Larger than one state line (1 MiB), so it is split and reassembled.
  const state = new Uint8Array(2.5 * 1024 * 1024).map((_, i) => (i * 31 + (i >> 11)) & 255);

  it('carries the state in pieces and hands it back verified, writing nothing', async () => {
    const a = await filledStore();
    const gz = await exportBytes(a, { kind: 'light' }, { state: { bytes: state, digest: digestOf(state) } });
    const ls = lines(gz).map((l) => JSON.parse(l));
    expect(ls.filter((l) => l.t === 'state').map((l) => l.offset)).toEqual([0, 1 << 20, 2 << 20]);
    const b = new SpyStore();
    const res = await importSnapshot(gz, target(b), { digestOf });
    expect(res).toMatchObject({ kind: 'light', added: 0, skipped: 0, rejected: 0, heads: await a.heads() });
    expect(res.state!.verified).toBe(true);
    expect(res.state!.digest).toBe(digestOf(state));
    expect(Buffer.from(res.state!.bytes).equals(Buffer.from(state))).toBe(true);
    expect(b.ingestCalls).toBe(0);
  });

  it('rejects state bytes that do not match the stated digest', async () => {
    const gz = await exportBytes(await filledStore(), { kind: 'light' }, { state: { bytes: state, digest: 'not-it' } });
    await expectRejected(gz, ['CorruptSnapshotError'], { digestOf });
    const unverified = await importSnapshot(gz, target(new SpyStore()));
    expect(unverified.state!.verified).toBe(false);
  });
});

describe('rejected atomically', () => {
  let gz: Uint8Array;
  let raw: Uint8Array;
  beforeAll(async () => {
    gz = await exportBytes(await filledStore());
    raw = gunzipSync(gz);
  });

  it('truncated gzip, cut at every offset', async () => {
    for (let cut = 0; cut < gz.length; cut++) await expectRejected(gz.subarray(0, cut), ['CorruptSnapshotError']);
  });

  it('truncated content, re-gzipped (cut at every offset, including line ends)', async () => {
    for (let cut = 0; cut < raw.length; cut++)
      await expectRejected(gzipSync(raw.subarray(0, cut)), ['CorruptSnapshotError']);
  });

  it('content with data after the trailer', async () => {
    const firstLine = raw.subarray(0, raw.indexOf(0x0a) + 1);
    const err = await expectRejected(gzipSync(Buffer.concat([raw, firstLine])), ['CorruptSnapshotError']);
    expect(err.message).toMatch(/after the trailer/);
    await expectRejected(gzipSync(Buffer.concat([raw, raw.subarray(0, 20)])), ['CorruptSnapshotError']);
  });

  it('a flipped byte in the content, re-gzipped (every position, then random masks)', async () => {
    for (let pos = 0; pos < raw.length; pos++) {
      const bad = Uint8Array.from(raw);
      bad[pos] ^= 0x04;
      await expectRejected(gzipSync(bad), ['CorruptSnapshotError', 'MalformedSnapshotError']);
    }
    await fc.assert(
      fc.asyncProperty(fc.nat(raw.length - 1), fc.integer({ min: 1, max: 255 }), async (pos, mask) => {
        const bad = Uint8Array.from(raw);
        bad[pos] ^= mask;
        await expectRejected(gzipSync(bad), ['CorruptSnapshotError', 'MalformedSnapshotError']);
      }),
      { seed, numRuns: 300 }
    );
  });

  it('a flipped byte in the gzip stream', async () => {
    // Bytes 0-9 are the gzip header; MTIME, XFL and OS (4-9) are not covered by any check and
    // do not change the content, so flipping them is not corruption.
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 10, max: gz.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (pos, mask) => {
          const bad = Uint8Array.from(gz);
          bad[pos] ^= mask;
          let same = false;
          try {
            same = gunzipSync(bad).equals(raw);
          } catch {
            // zlib refuses it too
          }
          // A flip in the unused padding bits after the last deflate block changes nothing.
          if (same) expect((await importSnapshot(bad, target(new SpyStore()))).added).toBe(N);
          else await expectRejected(bad, REJECTIONS);
        }
      ),
      { seed, numRuns: 300 }
    );
    for (const pos of [0, 1, 2, gz.length - 8, gz.length - 1]) {
      const bad = Uint8Array.from(gz);
      bad[pos] ^= 0x10;
      await expectRejected(bad, ['CorruptSnapshotError']);
    }
  });

  it('a gzip bomb hits the decompressed-size cap', async () => {
    // 1 GiB of zeros as 1024 concatenated gzip members of 1 MiB each (about 1 MB compressed).
    const member = gzipSync(Buffer.alloc(1 << 20));
    const bomb = Buffer.concat(Array(1024).fill(member));
    const err = await expectRejected(bomb, ['SnapshotTooLargeError'], { maxDecompressedBytes: 4 << 20 });
    expect(err).toMatchObject({ limit: 'decompressed-bytes' });
    // With default limits a line without end stops it first, long before 1 GiB.
    const t0 = Date.now();
    const byLine = await expectRejected(bomb, ['SnapshotTooLargeError']);
    expect(byLine).toMatchObject({ limit: 'line-bytes' });
    console.log(`1 GiB gzip bomb rejected in ${Date.now() - t0} ms with default limits`);
  });

  it('more entries than allowed, and a line longer than allowed', async () => {
    expect(await expectRejected(gz, ['SnapshotTooLargeError'], { maxEntries: N - 1 })).toMatchObject({
      limit: 'entries'
    });
    expect(await expectRejected(gz, ['SnapshotTooLargeError'], { maxLineBytes: 200 })).toMatchObject({
      limit: 'line-bytes'
    });
    const ok = await importSnapshot(gz, target(new SpyStore()), { maxEntries: N });
    expect(ok.added).toBe(N);
  });

  it('a snapshot of another network', async () => {
    const other = { ...genesis, name: 'elsewhere' };
    const otherId = networkId(other);
    const s = new MemoryLedgerStore();
    await s.ingest(await makeChain(ka, 2, otherId));
    const foreign = await collectBytes(exportSnapshot({ genesis: other, store: s, exporter: toHex(ka.publicKey) }));
    const err = await expectRejected(foreign, ['ForeignSnapshotError']);
    expect(err.message).toMatch(/elsewhere/);
  });

  it('an intact file with a badly signed entry (whole file, typed cause)', async () => {
    const body = lines(gz).slice(0, -1);
    const i = body.findIndex((l) => JSON.parse(l).t === 'entry' && JSON.parse(l).seq === 1);
    const e = JSON.parse(body[i]);
    const bytes = fromBase64(e.bytes);
    bytes[bytes.length - 1] ^= 1; // last signature byte
    body[i] = JSON.stringify({ ...e, hash: toHex(sha256(bytes)), bytes: toBase64(bytes) });
    const err = await expectRejected(reseal(body), ['MalformedSnapshotError']);
    expect((err as Error & { cause?: Error }).cause?.name).toBe('BadSignatureError');
  });

  it('an intact file whose readable fields contradict the entry bytes', async () => {
    const body = lines(gz).slice(0, -1);
    const i = body.findIndex((l) => JSON.parse(l).t === 'entry' && JSON.parse(l).seq === 2);
    body[i] = JSON.stringify({ ...JSON.parse(body[i]), seq: 3 });
    const err = await expectRejected(reseal(body), ['MalformedSnapshotError']);
    expect(err.message).toMatch(/differs from the entry bytes/);
    // The reseal helper itself produces importable files.
    expect((await importSnapshot(reseal(lines(gz).slice(0, -1)), target(new SpyStore()))).added).toBe(N);
  });

  it('not gzip at all', async () => {
    await expectRejected(raw, ['CorruptSnapshotError']);
    await expectRejected(new Uint8Array(0), ['CorruptSnapshotError']);
  });
});

describe('readable with zcat | jq', () => {
  it('every line is JSON that jq can select from', async () => {
    expect(missingTools(), ZCAT_JQ_HINT).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'tabula-snap-'));
    const file = join(dir, snapshotFileName(toHex(id), new Date(Date.UTC(2025, 5, 1, 12, 30, 5))));
    expect(file).toMatch(/tabula-[0-9a-f]{8}-20250601T123005Z\.snapshot\.gz$/);
    writeFileSync(file, await exportBytes(await filledStore()));
    const out = execFileSync('sh', ['-c', `zcat "${file}" | jq -c .`], { encoding: 'utf8' });
    const parsed = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(parsed[0]).toMatchObject({ format: 'tabula-snapshot', kind: 'full' });
    expect(parsed.filter((l) => l.t === 'entry')).toHaveLength(N);
    expect(parsed.at(-1)).toMatchObject({ t: 'end', entries: N });
    const seqs = execFileSync(
      'sh',
      ['-c', `zcat "${file}" | jq -r 'select(.t=="entry") | "\\(.author[0:4]) \\(.seq)"'`],
      {
        encoding: 'utf8'
      }
    );
    expect(seqs.trim().split('\n')).toHaveLength(N);
  });
});

describe('snapshotLines', () => {
  it('is the uncompressed file', async () => {
    const a = await filledStore();
    const opts: ExportOptions = { created: new Date(0) };
    const parts: Uint8Array[] = [];
    for await (const l of snapshotLines(source(a), opts)) parts.push(l);
    const text = Buffer.concat(parts);
    expect(text.equals(gunzipSync(await collectBytes(exportSnapshot(source(a), opts))))).toBe(true);
  });
});

describe('headsRoot and base64', () => {
  it('headsRoot depends on the set of heads, not their order', async () => {
    const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex);
    const head = fc.record({ author: hex, seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), hash: hex });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(head, { selector: (h) => h.author, maxLength: 20 }),
        fc.nat(),
        async (heads, r) => {
          const shuffled = [...heads].sort(() => 0).reverse();
          if (heads.length > 1)
            [shuffled[0], shuffled[r % shuffled.length]] = [shuffled[r % shuffled.length], shuffled[0]];
          expect(headsRoot(shuffled)).toBe(headsRoot(heads));
          if (heads.length > 0) {
            const moved = heads.map((h, i) =>
              i === r % heads.length ? { ...h, seq: h.seq === 1 ? 2 : h.seq - 1 } : h
            );
            expect(headsRoot(moved)).not.toBe(headsRoot(heads));
          }
        }
      ),
      { seed, numRuns: 200 }
    );
    const h = { author: 'a'.repeat(64), seq: 1, hash: 'b'.repeat(64) };
    expect(() => headsRoot([h, h])).toThrow(expect.objectContaining({ name: 'InvalidHeadsError' }));
  });

  it('base64 round-trips and refuses non-canonical text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 100 }), async (b) => {
        const s = toBase64(b);
        expect(s).toBe(Buffer.from(b).toString('base64'));
        expect(Buffer.from(fromBase64(s)).equals(Buffer.from(b))).toBe(true);
      }),
      { seed, numRuns: 200 }
    );
    for (const bad of ['QQ=', 'QR==', 'Q===', 'QQ=a', 'QU J', 'QUJD\n', '===='])
      expect(() => fromBase64(bad)).toThrow();
  });
});
