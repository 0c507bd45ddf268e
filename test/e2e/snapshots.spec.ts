import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { missingTools, ZCAT_JQ_HINT } from '../helpers/cli-tools.js';
import { openDevice } from './fixtures.js';

test('a snapshot exported on one device imports on another, idempotently; a damaged one is refused', async ({
  browser
}) => {
  const a = await openDevice(browser, '/dashboard');
  await a.page.waitForFunction(() => window.tabula?.phase === 'running');
  await a.page.evaluate(async () => {
    for (let i = 0; i < 5; i++) await window.tabula!.put(`snap-${i}`, { i });
  });

  // Export through the dashboard button: a real download with the documented file name.
  const download = a.page.waitForEvent('download');
  await a.page.getByRole('button', { name: 'Export snapshot' }).click();
  const file = await download;
  const networkId = await a.page.evaluate(() => window.tabula!.status().then((s) => s.networkId));
  expect(file.suggestedFilename()).toMatch(
    new RegExp(`^tabula-${networkId.slice(0, 8)}-\\d{8}T\\d{6}Z\\.snapshot\\.gz$`)
  );
  const dir = mkdtempSync(join(tmpdir(), 'tabula-snap-'));
  const path = join(dir, file.suggestedFilename());
  await file.saveAs(path);

  // Readable with zcat | jq semantics: gzip of one JSON object per line.
  const lines = gunzipSync(readFileSync(path))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines[0]).toMatchObject({ t: 'header', format: 'tabula-snapshot', kind: 'full' });
  expect(lines.filter((l) => l.t === 'entry')).toHaveLength(5);
  expect(lines.at(-1)).toMatchObject({ t: 'end', entries: 5 });
  // And with zcat | jq themselves (the documented way to read a snapshot): the same lines.
  expect(missingTools(), ZCAT_JQ_HINT).toEqual([]);
  const types = execFileSync('sh', ['-c', `zcat "${path}" | jq -c .t`], { encoding: 'utf8' })
    .trim()
    .split('\n');
  expect(types).toEqual(lines.map((l) => JSON.stringify(l.t)));

  // Import on a second device through the file input, twice: the second adds nothing. The device
  // is offline, so the entries can only come from the file (online, gossip may deliver them first).
  const b = await openDevice(browser, '/dashboard', { offline: true });
  await b.page.waitForFunction(() => window.tabula?.phase === 'running');
  const input = b.page.getByLabel('Import snapshot');
  const report = b.page.getByTestId('import-report');
  await input.setInputFiles(path);
  await expect(report).toHaveText(/added 5, skipped 0, rejected 0/);
  await input.setInputFiles(path);
  await expect(report).toHaveText(/added 0, skipped 5, rejected 0/);
  expect((await b.page.evaluate(() => window.tabula!.records())).map((r) => r.key)).toEqual([
    'snap-0',
    'snap-1',
    'snap-2',
    'snap-3',
    'snap-4'
  ]);

  // One flipped byte inside the content: the whole file is refused and nothing changes.
  const content = gunzipSync(readFileSync(path));
  content[Math.floor(content.length / 2)] ^= 0x01;
  const damaged = join(dir, 'damaged.snapshot.gz');
  writeFileSync(damaged, gzipSync(content));
  const c = await openDevice(browser, '/dashboard', { offline: true });
  await c.page.waitForFunction(() => window.tabula?.phase === 'running');
  await c.page.getByLabel('Import snapshot').setInputFiles(damaged);
  await expect(c.page.getByRole('alert')).toContainText(/Snapshot/);
  expect(await c.page.evaluate(() => window.tabula!.records())).toEqual([]);

  for (const d of [a, b, c]) await d.context.close();
});
