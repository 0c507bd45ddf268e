// A follower's write that the old leader made but never answered is re-sent to the next leader
// (client/tab-broker.ts). It must be made once: if another tab wrote the key after seeing it, the
// re-sent call answers with its first receipt and the newer write stays (found by a break-it
// review: the replay overwrote the newer acknowledged value, or deleted it).
//
// The window between "made in the old leader's worker" and "answer posted to the follower" is
// widened by an init script in the old leader's page only: its node's answer to the trapped call
// is dropped, as if the tab had died right after the commit.
import { expect, test, type Page } from '@playwright/test';

const TRAP = (): void => {
  if (!location.search.includes('trap=1')) return;
  const Orig = window.Worker;
  const trapped = new Set<number>();
  class Trapped extends Orig {
    constructor(url: string | URL, opts?: WorkerOptions) {
      super(url, opts);
      this.addEventListener('message', (ev: MessageEvent) => {
        const m = ev.data as { kind?: string; id?: number };
        if (m?.kind === 'result' && typeof m.id === 'number' && trapped.has(m.id)) {
          ev.stopImmediatePropagation();
          console.log(`TRAP dropped the answer to call ${m.id}`);
        }
      });
    }
    override postMessage(msg: unknown, transfer?: unknown): void {
      const m = msg as { kind?: string; id?: number; method?: string; args?: unknown[] };
      const stale = m?.method === 'delete' || m?.args?.[1] === 'stale';
      if (m?.kind === 'call' && m.args?.[0] === 'k' && stale) trapped.add(m.id!);
      super.postMessage(msg, transfer as Transferable[]);
    }
  }
  window.Worker = Trapped as typeof Worker;
};

async function open(page: Page, path: string, name: string): Promise<void> {
  page.on('pageerror', (err) => console.error(`[${name} error] ${err.message}`));
  await page.goto(path);
  await page.waitForFunction(() => window.tabula?.phase === 'running');
}

for (const op of ['put', 'delete'] as const) {
  test(`a re-sent ${op} the old leader made is made once; another tab's newer write stays`, async ({ browser }) => {
    const context = await browser.newContext();
    await context.grantPermissions(['microphone']);
    await context.route('**/api/relays', (route) => route.abort('internetdisconnected')); // one device, offline
    await context.addInitScript(TRAP);
    const leader = await context.newPage();
    const trapped = new Promise<void>((resolve) =>
      leader.on('console', (m) => {
        if (m.text().startsWith('TRAP')) resolve();
      })
    );
    await open(leader, '/?trap=1', 'leader');
    const next = await context.newPage(); // first in the lock queue: the next leader
    await open(next, '/', 'next');
    const slow = await context.newPage();
    await open(slow, '/', 'slow');
    expect(await slow.evaluate(() => window.tabula!.role)).toBe('follower');
    const original = await leader.evaluate(() => window.tabula!.put('k', 'original'));

    // The slow tab writes, then its page is busy for 8 s (a long task on a slow device): it hears
    // of the takeover only after the next leader has written over its value.
    const woke = slow.evaluate((o) => {
      const w = window as unknown as { answer: Promise<unknown> };
      w.answer = o === 'put' ? window.tabula!.put('k', 'stale') : window.tabula!.delete('k');
      const until = Date.now() + 8000;
      while (Date.now() < until) {
        /* busy */
      }
      return Date.now();
    }, op);
    await trapped; // the old leader made the write and dropped its answer
    const seen = op === 'put' ? 'stale' : undefined;
    await expect.poll(() => next.evaluate(() => window.tabula!.get('k'))).toBe(seen);
    await leader.close();
    await next.waitForFunction(() => window.tabula?.role === 'leader');
    const newer = await next.evaluate(() => window.tabula!.put('k', 'newer'));
    const newerAt = Date.now();
    expect(await woke, 'setup: the slow tab woke after the newer write').toBeGreaterThan(newerAt);

    const answer = (await slow.evaluate(() => (window as unknown as { answer: Promise<unknown> }).answer)) as {
      seq: number;
    } | null;
    // Answered with the entry the old leader made (seq 2), not a new one.
    expect(answer?.seq).toBe(original.seq + 1);
    expect(newer.seq).toBe(original.seq + 2);
    expect(await next.evaluate(() => window.tabula!.get('k'))).toBe('newer');
    const own = (await next.evaluate(() => window.tabula!.feeds())).find((f) => f.local);
    expect(own?.seq, 'three writes made, not four').toBe(3);
    await context.close();
  });
}
