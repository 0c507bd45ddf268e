// relay --archive (issue 10): a network that loses every tab keeps its history. A browser writes
// through an archive relay, every tab closes, and a new browser context (a new device with empty
// storage) gets the full history from the archive by sync. The archive relay runs as its own
// process on free ports and serves the built app, so the pages use it as their relay.
import { expect, test } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice } from './fixtures.js';
import { spawnRelay, type RelayProcess } from '../helpers/relay-process.js';

const WRITES = 60;

let relay: RelayProcess | undefined;

test.afterEach(async () => {
  if (relay && relay.child.exitCode === null && relay.child.signalCode === null) relay.child.kill('SIGTERM');
  await relay?.exited;
  relay = undefined;
});

async function archiveEntries(url: string): Promise<number> {
  const res = await fetch(`${url}/api/archive`);
  return ((await res.json()) as { entries: number }).entries;
}

test('a new device gets the full history from the archive after every tab closed', async ({ browser }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tabula-e2e-archive-'));
  relay = await spawnRelay(['--archive', '--data-dir', dataDir, '--static-dir', 'build']);
  const url = relay.url;

  const writer = await openDevice(browser, `${url}/`);
  await writer.page.waitForFunction(() => window.tabula?.lastStatus?.online === true, null, { timeout: 30_000 });
  await writer.page.evaluate(async (n) => {
    for (let i = 0; i < n; i++) await window.tabula!.put(`k${i}`, i);
  }, WRITES);
  // Gossip or, failing that, sync over the WebSocket link brings every write to the archive.
  await expect.poll(() => archiveEntries(url), { timeout: 30_000 }).toBe(WRITES);
  await writer.context.close();

  const t0 = Date.now();
  // `?join=0`: this checks replay by sync from the archive (join.spec.ts joins from it).
  const reader = await openDevice(browser, `${url}/?join=0`);
  expect(reader.peerId).not.toBe(writer.peerId);
  await reader.page.waitForFunction((n) => (window.tabula?.lastStatus?.ledger.entries ?? 0) >= n, WRITES, {
    timeout: 30_000,
    polling: 100
  });
  console.log(`new device held ${WRITES} entries from the archive ${Date.now() - t0} ms after opening`);
  expect(await reader.page.evaluate(() => window.tabula!.get('k59'))).toBe(59);
  const records = await reader.page.evaluate(() => window.tabula!.records());
  expect(records.length).toBe(WRITES);
  await reader.context.close();
});
