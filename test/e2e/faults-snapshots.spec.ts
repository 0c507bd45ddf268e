// Fault suite S9 (issue 12): hostile snapshot files imported into a real browser node, through
// the API and the dashboard's file input. Each must be refused as a whole, with a typed error,
// and leave the store exactly as it was (records, feeds, entry count, heads root).
import { expect, test, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { openDevice } from './fixtures.js';
import { ScenarioRecorder } from '../soak/record.js';
import { defaultGenesis } from '../../src/lib/core/genesis.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { collectBytes, exportSnapshot } from '../../src/lib/core/snapshot/index.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

/** Bytes of zeros behind the bomb's header line: 1 GiB, about 1 MB gzipped. */
const BOMB_BYTES = 1024 ** 3;

/** Everything an import must not change. */
async function storeState(page: Page) {
  return page.evaluate(async () => {
    const t = window.tabula!;
    const s = await t.status();
    return {
      records: await t.records(),
      feeds: await t.feeds(),
      entries: s.ledger.entries,
      root: s.sync.root,
      pending: s.ledger.pending
    };
  });
}

/** Imports through the API; returns the error's name, or 'accepted'. */
async function tryImport(page: Page, bytes: Uint8Array): Promise<string> {
  return page.evaluate(async (b64) => {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    try {
      await window.tabula!.importSnapshot(bytes);
      return 'accepted';
    } catch (e) {
      return (e as Error).name;
    }
  }, Buffer.from(bytes).toString('base64'));
}

/** Re-gzips NDJSON lines with a freshly computed trailer: structurally intact, content as given. */
function reseal(lines: string[]): Uint8Array {
  const body = lines.slice(0, -1).map((l) => `${l}\n`);
  const end = JSON.parse(lines.at(-1)!) as { t: string; entries: number; sha256: string };
  end.sha256 = createHash('sha256').update(body.join('')).digest('hex');
  return gzipSync(body.join('') + JSON.stringify(end) + '\n');
}

function bomb(header: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const gz = createGzip({ level: 9 });
    const out: Buffer[] = [];
    gz.on('data', (c: Buffer) => out.push(c));
    gz.on('end', () => resolve(new Uint8Array(Buffer.concat(out))));
    gz.on('error', reject);
    gz.write(`${header}\n`);
    const zeros = Buffer.alloc(1024 * 1024);
    let left = BOMB_BYTES / zeros.length;
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!gz.write(zeros)) return void gz.once('drain', pump);
      }
      gz.end();
    };
    pump();
  });
}

/** A valid snapshot of another network (its own genesis), made by a Node ledger. */
async function foreignSnapshot(): Promise<Uint8Array> {
  const genesis = { ...defaultGenesis(), name: 'another-network' };
  const tl = await openLedger(memoryLocation(), 42, { genesis });
  for (let i = 0; i < 3; i++) await tl.ledger.put(`foreign-${i}`, i);
  return collectBytes(exportSnapshot({ genesis, store: tl.store, exporter: toHex(tl.keys.publicKey) }));
}

test('S9: hostile snapshots (truncated, bit-flipped, bad entry among good ones, gzip bomb, foreign genesis) are refused whole; the store is unchanged', async ({
  browser
}, testInfo) => {
  test.setTimeout(180_000);
  const s = new ScenarioRecorder(
    'S9',
    'hostile snapshots: truncated, bit-flipped, gzip bomb, foreign genesis',
    'rejected atomically; store unchanged',
    'browser'
  );
  // The source: a device whose entries the target lacks (so a partial import would show).
  const src = await openDevice(browser, '/', { offline: true });
  await src.page.waitForFunction(() => window.tabula?.phase === 'running');
  await src.page.evaluate(async () => {
    for (let i = 0; i < 20; i++) await window.tabula!.put(`src-${i}`, { i });
  });
  const good = await src.page.evaluate(async () => Array.from((await window.tabula!.exportSnapshot('full')).bytes));
  const goodBytes = Uint8Array.from(good);
  const lines = gunzipSync(goodBytes).toString('utf8').trim().split('\n');

  const target = await openDevice(browser, '/dashboard', { offline: true });
  await target.page.waitForFunction(() => window.tabula?.phase === 'running');
  await target.page.evaluate(async () => {
    for (let i = 0; i < 5; i++) await window.tabula!.put(`own-${i}`, i);
  });
  const before = await storeState(target.page);

  const flipped = gunzipSync(goodBytes);
  flipped[Math.floor(flipped.length / 2)] ^= 0x04;
  const gzFlipped = goodBytes.slice();
  gzFlipped[Math.floor(gzFlipped.length / 2)] ^= 0x10;
  // The last entry's signature damaged; the file's trailer recomputed, so only verification can tell.
  const lastEntry = lines.findLastIndex((l) => l.startsWith('{"t":"entry"'));
  const badEntry = [...lines];
  const e = JSON.parse(badEntry[lastEntry]!) as { bytes: string };
  const raw = Buffer.from(e.bytes, 'base64');
  raw[raw.length - 1] ^= 0xff;
  badEntry[lastEntry] = JSON.stringify({ ...e, bytes: raw.toString('base64') });

  const cases: [string, Uint8Array, string[]][] = [
    ['truncated', goodBytes.slice(0, Math.floor(goodBytes.length * 0.6)), ['CorruptSnapshotError']],
    ['bit-flipped content (gzip intact)', gzipSync(flipped), ['CorruptSnapshotError', 'MalformedSnapshotError']],
    ['bit-flipped gzip stream', gzFlipped, ['CorruptSnapshotError', 'MalformedSnapshotError']],
    ['19 good entries and one bad signature', reseal(badEntry), ['MalformedSnapshotError', 'CorruptSnapshotError']],
    ['gzip bomb (1 GiB of zeros)', await bomb(lines[0]!), ['SnapshotTooLargeError']],
    ['foreign genesis', await foreignSnapshot(), ['ForeignSnapshotError']]
  ];
  const results: string[] = [];
  let refused = 0;
  for (const [name, bytes, expected] of cases) {
    const t0 = Date.now();
    const got = await tryImport(target.page, bytes);
    const unchanged = JSON.stringify(await storeState(target.page)) === JSON.stringify(before);
    const ok = expected.includes(got) && unchanged;
    if (ok) refused++;
    results.push(`${name}: ${got} in ${Date.now() - t0} ms, store ${unchanged ? 'unchanged' : 'CHANGED'}`);
    s.check(
      `${name}: refused (${expected.join(' or ')}), store unchanged`,
      ok,
      `${got}; ${unchanged ? 'unchanged' : 'changed'}`
    );
  }
  console.log(`S9:\n  ${results.join('\n  ')}`);
  // Through the UI as well: the bomb in the file input gives an alert and no change.
  const dir = mkdtempSync(join(tmpdir(), 'tabula-hostile-'));
  const bombPath = join(dir, 'bomb.snapshot.gz');
  writeFileSync(bombPath, cases[4]![1]);
  await target.page.getByLabel('Import snapshot').setInputFiles(bombPath);
  await expect(target.page.getByRole('alert')).toContainText(/Snapshot/);
  s.check(
    'UI: the bomb through the file input gives an alert, store unchanged',
    JSON.stringify(await storeState(target.page)) === JSON.stringify(before)
  );
  // The good file still imports afterwards (refusals left nothing half-open).
  const report = await target.page.evaluate(
    (b) => window.tabula!.importSnapshot(Uint8Array.from(b)).then((r) => `${r.added}/${r.rejected}`),
    good
  );
  s.check('the intact snapshot imports afterwards', report === '20/0', `added/rejected ${report}`);
  s.figure('hostile_files', cases.length)
    .figure('refused_store_unchanged', refused)
    .figure('bomb_compressed_bytes', cases[4]![1].length);
  testInfo.annotations.push({ type: 'figures', description: results.join('; ') });
  s.save();
  expect(s.failures()).toEqual([]);
  await src.context.close();
  await target.context.close();
});
