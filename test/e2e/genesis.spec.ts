// A created network (relay genesis): pages opened with its id join it and replicate; a page
// opened with another id (or none, i.e. the bundled network) is refused with a clear error.
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDevice } from './fixtures.js';

const HTTP_PORT = Number(process.env.E2E_GENESIS_PORT ?? 18480);
const RELAY_PORT = HTTP_PORT + 1000;
const URL_BASE = `http://127.0.0.1:${HTTP_PORT}`;

let relay: ChildProcess | undefined;
let networkId = '';
let output = '';

async function waitHealthy(timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (relay?.exitCode !== null) throw new Error(`relay exited:\n${output}`);
    const ok = await fetch(`${URL_BASE}/healthz`).then(
      (r) => r.ok,
      () => false
    );
    if (ok) return;
    if (Date.now() > end) throw new Error(`relay not healthy:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test.beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tabula-genesis-e2e-'));
  const created = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'relay/main.ts', 'genesis', '--name', 'e2e-network', '--data-dir', dataDir],
    { encoding: 'utf8' }
  );
  expect(created.status, created.stderr).toBe(0);
  networkId = (JSON.parse(readFileSync(join(dataDir, 'genesis.json'), 'utf8')) as { networkId: string }).networkId;
  const args = ['--import', 'tsx', 'relay/main.ts', '--port', `${HTTP_PORT}`, '--relay-port', `${RELAY_PORT}`];
  relay = spawn(process.execPath, [...args, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer): void => void (output = (output + b.toString()).slice(-8000));
  relay.stdout!.on('data', keep);
  relay.stderr!.on('data', keep);
  await waitHealthy();
  console.log(`genesis e2e: network ${networkId} at ${URL_BASE}`);
});

test.afterAll(async () => {
  const r = relay;
  if (r === undefined || r.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => r.once('exit', () => resolve()));
  process.kill(r.pid!, 'SIGTERM');
  await exited;
});

test('pages opened with the network id join the created network and replicate', async ({ browser }) => {
  const a = await openDevice(browser, `${URL_BASE}/?network=${networkId}`);
  const b = await openDevice(browser, `${URL_BASE}/?network=${networkId}`);
  for (const d of [a, b]) {
    await d.page.waitForFunction(() => window.tabula?.phase === 'running');
    expect(await d.page.evaluate(() => window.tabula!.status().then((s) => s.networkId))).toBe(networkId);
  }
  // The navigation keeps the pin.
  await expect(a.page.getByRole('link', { name: 'Dashboard' })).toHaveAttribute(
    'href',
    `/dashboard?network=${networkId}`
  );

  await a.page.evaluate(() => window.tabula!.put('founded', 'by the operator'));
  await b.page.waitForFunction(() => window.tabula!.get('founded').then((v) => v === 'by the operator'), undefined, {
    timeout: 30_000
  });
  await expect(b.page.getByRole('table', { name: 'Records' }).locator('tr[data-key="founded"]')).toContainText(
    'by the operator'
  );
  await a.context.close();
  await b.context.close();
});

/** Opens the site with `query`; the node must refuse to start. Returns the page and its context. */
async function openRefused(browser: Browser, query: string): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto(`${URL_BASE}/${query}`);
  return { page, context };
}

for (const [label, query, expected] of [
  ['a wrong network id', `?network=${randomBytes(32).toString('hex')}`, 'pinned'],
  ['no id (the bundled network)', '', 'bundled']
] as const) {
  test(`a page opened with ${label} is refused with a clear error`, async ({ browser }) => {
    const { page, context } = await openRefused(browser, query);
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('GenesisMismatchError');
    await expect(alert).toContainText(`serves network "e2e-network" (${networkId})`);
    await expect(page.getByRole('status')).toContainText('Offline');
    const err = await page.evaluate(() =>
      window.tabula!.status().then(
        () => null,
        (e: Error) => ({ name: e.name, message: e.message })
      )
    );
    expect(err?.name).toBe('GenesisMismatchError');
    expect(err?.message).toContain(networkId);
    const pinned = new URLSearchParams(query).get('network');
    if (expected === 'pinned') expect(err?.message).toContain(`opened for network ${pinned}`);
    // Nothing was stored for the refused network.
    const dbs = await page.evaluate(() => indexedDB.databases().then((l) => l.map((d) => d.name ?? '')));
    expect(dbs.filter((n) => n.startsWith('tabula-'))).toEqual([]);
    await context.close();
  });
}
