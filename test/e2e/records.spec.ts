import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice } from './fixtures.js';

async function save(page: Page, key: string, value: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Key' }).fill(key);
  await page.getByRole('textbox', { name: 'Value' }).fill(value);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('table', { name: 'Records' }).locator(`tr[data-key="${key}"]`)).toBeVisible();
  // The form clears once put() resolved, i.e. after the durable commit.
  await expect(page.getByRole('textbox', { name: 'Key' })).toHaveValue('');
}

function row(page: Page, key: string) {
  return page.getByRole('table', { name: 'Records' }).locator(`tr[data-key="${key}"]`);
}

test('records are saved durably, survive reload, and can be deleted', async ({ browser }) => {
  // Single-device tests run offline: other tests' entries still gossiping through the shared
  // relay cannot reach them, and they show the ledger needs no network.
  const a = await openDevice(browser, '/', { offline: true });
  await save(a.page, 'greeting', 'hello');
  await save(a.page, 'answer', '42');
  await expect(row(a.page, 'answer')).toContainText('42');

  await a.page.reload();
  await expect(row(a.page, 'greeting')).toContainText('hello');
  await expect(row(a.page, 'answer')).toContainText('42');

  await a.page.getByRole('button', { name: 'Delete greeting' }).click();
  await expect(row(a.page, 'greeting')).toHaveCount(0);
  // A delete can be undone: the value is written back.
  await a.page.getByRole('button', { name: 'Undo delete greeting' }).click();
  await expect(row(a.page, 'greeting')).toContainText('hello');
  await expect(a.page.getByRole('button', { name: 'Undo delete greeting' })).toHaveCount(0);
  await a.page.getByRole('button', { name: 'Delete greeting' }).click();
  await expect(row(a.page, 'greeting')).toHaveCount(0);
  await a.page.reload();
  await expect(row(a.page, 'answer')).toBeVisible();
  await expect(row(a.page, 'greeting')).toHaveCount(0);
  await a.context.close();
});

test('bad input gets a clear message; a long key or value keeps every row on screen', async ({ browser }) => {
  const a = await openDevice(browser, '/', { offline: true });
  await a.page.setViewportSize({ width: 1000, height: 800 });
  const alert = a.page.getByRole('alert');
  const key = a.page.getByRole('textbox', { name: 'Key' });
  // Spaces only: said, not silently ignored.
  await key.fill('   ');
  await a.page.getByRole('textbox', { name: 'Value' }).fill('x');
  await a.page.getByRole('button', { name: 'Save' }).click();
  await expect(alert).toHaveText('Not saved: the key needs at least one character other than spaces.');
  // A pasted key over the limit: refused with the limit, not cut short.
  await key.fill('k'.repeat(300));
  await a.page.getByRole('button', { name: 'Save' }).click();
  await expect(alert).toContainText('record key longer than 256 characters (InvalidRecordKeyError)');
  // A value nested thousands deep: the typed error, before postMessage (was a RangeError from it).
  const deep = await a.page.evaluate(() => {
    let v: unknown = 0;
    for (let i = 0; i < 5000; i++) v = [v];
    return window.tabula!.put('deep', v as never).then(
      () => 'stored',
      (e: Error) => `${e.name}: ${e.message}`
    );
  });
  expect(deep).toBe('InvalidRecordValueError: record value nested deeper than 32 levels');
  // A number JSON cannot keep exactly stays the text typed.
  await save(a.page, 'big', '12345678901234567890');
  expect(await a.page.evaluate(() => window.tabula!.get('big'))).toBe('12345678901234567890');
  await save(a.page, 'small', '42');
  expect(await a.page.evaluate(() => window.tabula!.get('small'))).toBe(42);
  // The longest key and a long value: the row's Delete stays within the window.
  const long = 'L'.repeat(256);
  await save(a.page, long, 'v '.repeat(5000));
  for (const k of [long, 'small']) {
    const box = await a.page.getByRole('button', { name: `Delete ${k}` }).boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(1000);
  }
  const rowBox = await row(a.page, long).boundingBox();
  expect(rowBox!.height).toBeLessThan(200);
  // On a phone (390 px) records are cards: Delete in view without scrolling sideways, cells named.
  await a.page.setViewportSize({ width: 390, height: 800 });
  for (const k of [long, 'small']) {
    const box = await a.page.getByRole('button', { name: `Delete ${k}` }).boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
  }
  const pageWidth = await a.page.evaluate(() => document.documentElement.scrollWidth);
  expect(pageWidth).toBeLessThanOrEqual(390);
  // The records' region does not scroll, and says so: no "(scrolls sideways)", no tab stop.
  const records = a.page.locator('div.scroll').filter({ has: a.page.getByRole('table', { name: 'Records' }) });
  await expect(records).toHaveAccessibleName('Records');
  expect(await records.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  await expect(records).not.toHaveAttribute('tabindex');
  await expect(row(a.page, 'small').locator('td.value .cell-label')).toBeVisible();
  // Named for sight only: a screen reader gets the cell's text and its column header.
  await expect(row(a.page, 'small').getByRole('cell').nth(1)).toHaveAccessibleName('42');
  await a.page.setViewportSize({ width: 1000, height: 800 });
  await expect(row(a.page, 'small').locator('td.value .cell-label')).toBeHidden();
  await a.context.close();
});

test('window.tabula writes resolve after the durable commit, in order', async ({ browser }) => {
  const a = await openDevice(browser, '/', { offline: true });
  await a.page.waitForFunction(() => window.tabula?.phase === 'running');
  const receipts = await a.page.evaluate(() =>
    Promise.all([1, 2, 3].map((i) => window.tabula!.put(`k${i}`, { n: i, tags: ['x'] })))
  );
  expect(receipts.map((r) => r.seq)).toEqual([1, 2, 3]);
  expect(new Set(receipts.map((r) => r.author)).size).toBe(1);
  expect(await a.page.evaluate(() => window.tabula!.get('k2'))).toEqual({ n: 2, tags: ['x'] });
  expect((await a.page.evaluate(() => window.tabula!.records())).map((r) => r.key)).toEqual(['k1', 'k2', 'k3']);
  expect(await a.page.evaluate(() => window.tabula!.delete('k1'))).toMatchObject({ seq: 4 });
  expect(await a.page.evaluate(() => window.tabula!.delete('missing'))).toBeNull();
  const bad = await a.page.evaluate(() =>
    window.tabula!.put('', 1).then(
      () => 'accepted',
      (e: Error) => e.name
    )
  );
  expect(bad).toBe('InvalidRecordKeyError');
  await expect(row(a.page, 'k3')).toBeVisible();
  await a.context.close();
});

async function launchProfile(dir: string): Promise<BrowserContext> {
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--allow-loopback-in-peer-connection', '--disable-background-networking'],
    baseURL: test.info().project.use.baseURL
  });
  await ctx.grantPermissions(['microphone']);
  await ctx.route('**/api/relays', (route) => route.abort('internetdisconnected'));
  return ctx;
}

test('records and identity survive closing and reopening the browser', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tabula-profile-'));
  let ctx = await launchProfile(dir);
  let page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto('/');
  await save(page, 'kept', 'across restarts');
  const before = await page.evaluate(() => window.tabula!.status());
  await ctx.close();

  ctx = await launchProfile(dir);
  page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto('/');
  await expect(row(page, 'kept')).toContainText('across restarts');
  const after = await page.evaluate(() => window.tabula!.status());
  expect(after.author).toBe(before.author);
  expect(after.peerId).toBe(before.peerId);
  expect(after.ledger.entries).toBe(before.ledger.entries);
  await ctx.close();
});

test('the node works offline and joins the network when the site answers again', async ({ browser }) => {
  const context = await browser.newContext();
  await context.grantPermissions(['microphone']);
  // The relay list is unreachable: as if the network dropped right after the page loaded.
  await context.route('**/api/relays', (route) => route.abort('internetdisconnected'));
  const page = await context.newPage();
  await page.goto('/');
  await page.waitForFunction(() => window.tabula?.phase === 'running');
  await expect(page.getByRole('status')).toContainText('Offline');
  // Past the first seconds, the status says why.
  await expect(page.getByRole('status')).toContainText("retrying: the site's relay list (/api/relays) did not answer", {
    timeout: 20_000
  });
  await save(page, 'offline-note', 'written while offline');
  await context.unroute('**/api/relays');
  await expect(page.getByRole('status')).toContainText('Online', { timeout: 30_000 });
  await expect(row(page, 'offline-note')).toContainText('written while offline');
  await context.close();
});

test('closing the client stops the node cleanly and hands the profile to another tab', async ({ browser }) => {
  const a = await openDevice(browser, '/', { offline: true });
  await a.page.waitForFunction(() => window.tabula?.phase === 'running');
  await a.page.evaluate(() => window.tabula!.put('handed-over', 'yes'));
  const second = await a.context.newPage();
  await second.goto('/');
  await expect(row(second, 'handed-over')).toContainText('yes');
  expect(await second.evaluate(() => window.tabula!.role)).toBe('follower');
  // The first page stays open: only its client closes, which stops the node and frees the lock.
  expect(
    await a.page.evaluate(() => {
      window.tabula!.close();
      return window.tabula!.records().then(
        () => 'answered',
        (e: Error) => `${e.name}: ${e.message}`
      );
    })
  ).toBe('ClientClosedError: client closed');
  await second.waitForFunction(() => window.tabula?.role === 'leader' && window.tabula.phase === 'running');
  expect(await second.evaluate(() => window.tabula!.put('after-handover', 1))).toMatchObject({ seq: 2 });
  await expect(row(second, 'after-handover')).toBeVisible();
  await expect(row(second, 'handed-over')).toContainText('yes');
  await a.context.close();
});
