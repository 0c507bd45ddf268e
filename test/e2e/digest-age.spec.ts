// The dashboard says when the state digest it shows lags the state (pushed statuses carry the last
// digest computed, refreshed once appends pause: worker/status-digest.ts), and stops saying it
// once the digest is current again.
import { expect, test } from '@playwright/test';
import { openDevice } from './fixtures.js';
import { startWriter } from './fault-kit.js';

test("the dashboard shows the pushed state digest's age while writes go on, and nothing once it is current", async ({
  browser
}) => {
  test.setTimeout(90_000);
  const d = await openDevice(browser, '/dashboard');
  try {
    const w = await startWriter(d.page, 'k', 40);
    const age = d.page.getByTestId('digest-age');
    await expect(age).toHaveText(/^\(not updated for changes since (just now|\d+ s ago)\)$/, { timeout: 30_000 });
    await w.stop();
    expect(w.failures).toEqual([]);
    await expect(age).toHaveCount(0, { timeout: 30_000 }); // quiet: the digest is computed again
  } finally {
    await d.context.close();
  }
});
