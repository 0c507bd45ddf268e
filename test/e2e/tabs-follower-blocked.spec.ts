// Break-it review (2026-12-04): the FOLLOWER's own page is blocked (a long task) right after it sends a call.
// The leader takes and answers it at once; the answer and the acceptance wait in the follower's
// task queue while its accept timer (11 s) expires too. Does the call fail with
// LeaderUnresponsiveError ("it was not run") although it ran?
import { expect, test } from '@playwright/test';
import { openDevice } from './fixtures.js';

test('a follower blocked past the accept bound right after a put', async ({ browser }) => {
  test.setTimeout(120_000);
  const a = await openDevice(browser, '/', { offline: true });
  await a.page.waitForFunction(() => window.tabula?.phase === 'running');
  const f = await a.context.newPage();
  await f.goto('/');
  await f.waitForFunction(() => window.tabula?.phase === 'running');
  expect(await f.evaluate(() => window.tabula!.role)).toBe('follower');
  for (const blockMs of [12_000, 11_500]) {
    const key = `blocked-${blockMs}`;
    const outcome = await f.evaluate(
      ([k, ms]) => {
        const w = window as unknown as { out?: string };
        w.out = 'pending';
        window.tabula!.put(k as string, 'x').then(
          (r) => (w.out = `ok seq ${(r as { seq: number }).seq}`),
          (e: Error) => (w.out = `err ${e.name}`)
        );
        const end = Date.now() + (ms as number);
        while (Date.now() < end) {
          /* the follower's page is busy */
        }
        return new Promise<string>((r) => setTimeout(() => r(w.out!), 500));
      },
      [key, blockMs]
    );
    const stored = await a.page.evaluate((k) => window.tabula!.get(k), key);
    console.log(`block ${blockMs} ms: follower saw "${outcome}"; leader has ${JSON.stringify(stored)}`);
    expect({ outcome: outcome.startsWith('ok'), stored }).toEqual({ outcome: true, stored: 'x' });
  }
  await a.context.close();
});
