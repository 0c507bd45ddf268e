// Concurrent writes to one key from two devices appear in the Conflicts table of both, with the
// value kept and the value overwritten. The devices write while neither can reach the other
// (their relay list does not answer), then the network returns and catch-up sync exchanges them.
import { expect, test } from '@playwright/test';
import { openDevice } from './fixtures.js';

test('concurrent writes to one key from A and B appear in the Conflicts table of both', async ({ browser }) => {
  const a = await openDevice(browser, '/dashboard', { offline: true });
  const b = await openDevice(browser, '/dashboard', { offline: true });
  for (const d of [a, b]) await d.page.waitForFunction(() => window.tabula?.phase === 'running');
  await a.page.evaluate(() => window.tabula!.put('contested', 'from A'));
  await b.page.evaluate(() => window.tabula!.put('contested', 'from B'));
  // The network returns: the nodes' retry finds the relay, they connect and sync.
  for (const d of [a, b]) await d.context.unroute('**/api/relays');
  for (const d of [a, b]) {
    const row = d.page.getByRole('table', { name: 'Conflicts' }).getByRole('row', { name: /contested/ });
    await expect(row).toBeVisible({ timeout: 50_000 });
    await expect(row).toContainText('"from A"');
    await expect(row).toContainText('"from B"');
  }
  // Both devices show the same winner.
  const winners = await Promise.all(
    [a, b].map((d) => d.page.evaluate(() => window.tabula!.conflicts().then((c) => c[0].winner)))
  );
  expect(winners[0]).toBe(winners[1]);
  // Where records are edited, the kept value is marked, with what it overwrote.
  await a.page.goto('/');
  const badge = a.page.getByRole('table', { name: 'Records' }).locator('tr[data-key="contested"] a.badge.conflict');
  await expect(badge).toHaveText('conflict: 1 overwritten', { timeout: 20_000 });
  await expect(badge).toHaveAttribute('title', /Written concurrently with "from [AB]" by [0-9a-f]{8}…/);
  await expect(badge).toHaveAttribute('href', '/dashboard#conflicts-h');
  for (const d of [a, b]) await d.context.close();
});
