// The leading tab's page is blocked (a dialog left open: its thread handles no message, while it
// still holds the leader lock, so no takeover starts). Calls other tabs send it must fail with a
// typed error within the accept bound, not wait for ever, and must not run when it wakes up
// (found by a break-it review: a follower's put and status hung, and the put landed ~28 s later).
import { expect, test, type Dialog } from '@playwright/test';
import { openDevice } from './fixtures.js';

interface Settled {
  state: 'pending' | 'ok' | 'err';
  name?: string;
}

test('calls to a leader tab blocked by a dialog fail with LeaderUnresponsiveError and never run', async ({
  browser
}, testInfo) => {
  test.setTimeout(90_000);
  const a = await openDevice(browser, '/', { offline: true });
  await a.page.waitForFunction(() => window.tabula?.phase === 'running');
  await a.page.evaluate(() => window.tabula!.put('before', 1));
  const f = await a.context.newPage();
  f.on('pageerror', (err) => console.error(`[follower error] ${err.message}`));
  await f.goto('/');
  await f.waitForFunction(() => window.tabula?.phase === 'running');
  expect(await f.evaluate(() => window.tabula!.role)).toBe('follower');

  let dialog: Dialog | undefined;
  a.page.on('dialog', (d) => void (dialog = d)); // left open: the leader's page is blocked
  void a.page.evaluate(() => setTimeout(() => alert('the leading tab shows a dialog'), 0)).catch(() => undefined);
  await expect.poll(() => dialog !== undefined).toBe(true);

  await f.evaluate(() => {
    const w = window as unknown as { calls: Record<string, Settled> };
    w.calls = {};
    const track = (name: string, p: Promise<unknown>) => {
      w.calls[name] = { state: 'pending' };
      p.then(
        () => (w.calls[name] = { state: 'ok' }),
        (e: Error) => (w.calls[name] = { state: 'err', name: e.name })
      );
    };
    track('put', window.tabula!.put('during-dialog', 'x'));
    track('status', window.tabula!.status());
  });
  const calls = () => f.evaluate(() => (window as unknown as { calls: Record<string, Settled> }).calls);
  // ACCEPT_TIMEOUT_MS + ACCEPT_GRACE_MS = 11 s.
  await expect.poll(calls, { timeout: 20_000 }).toEqual({
    put: { state: 'err', name: 'LeaderUnresponsiveError' },
    status: { state: 'err', name: 'LeaderUnresponsiveError' }
  });
  const shot = testInfo.outputPath('follower-leader-blocked.png');
  await f.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);

  await dialog!.accept(); // the leader wakes and takes the calls, past their deadline: refused unrun
  await expect(f.evaluate(() => window.tabula!.put('after', 2))).resolves.toMatchObject({ seq: 2 });
  expect(await f.evaluate(() => window.tabula!.get('during-dialog'))).toBeUndefined();
  const own = (await a.page.evaluate(() => window.tabula!.feeds())).find((x) => x.local);
  expect(own?.seq).toBe(2);
  await a.context.close();
});
