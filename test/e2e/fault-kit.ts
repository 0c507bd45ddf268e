// Helpers for the fault suite's browser scenarios (issue 12; faults-*.spec.ts): persistent
// profiles and their Chromium process, paced writers whose acknowledgements reach the test
// process, JS heap of the node workers (CDP), and long tasks in a page.
import { chromium, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js';

/** A browser profile on disk (user data dir), launched as its own Chromium process. */
export async function launchProfile(
  dir: string,
  opts: { offline?: boolean; logFile?: string } = {}
): Promise<BrowserContext> {
  // logFile: Chromium's own log (every process of it), to read why the browser did something to storage.
  const logging = opts.logFile === undefined ? [] : ['--enable-logging', '--v=0', `--log-file=${opts.logFile}`];
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...logging],
    baseURL: test.info().project.use.baseURL
  });
  await ctx.grantPermissions(['microphone']);
  if (opts.offline === true) await ctx.route('**/api/relays', (route) => route.abort('internetdisconnected'));
  return ctx;
}

/** The process tree under `root` (its PID included), from the parent PIDs in /proc/<pid>/stat. */
export function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(name), ppid);
    } catch {
      continue; // exited meanwhile
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++)
    for (const [pid, ppid] of parentOf) if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
  return tree;
}

/** Whether the process `pid` still exists (a zombie counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * PIDs of the processes that still run the profile `dir` (its flag on their command line) or hold
 * one of its files open (an fd linking into it): a profile reopened while one of them lives can
 * race it for its IndexedDB files.
 */
export function profileHolders(dir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid || !processAlive(Number(name))) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a === `--user-data-dir=${dir}`)) {
        found.push(Number(name));
        continue;
      }
      for (const fd of readdirSync(`/proc/${name}/fd`)) {
        if (readlinkSync(`/proc/${name}/fd/${fd}`).startsWith(`${dir}/`)) {
          found.push(Number(name));
          break;
        }
      }
    } catch {
      continue; // exited meanwhile, or not ours to read
    }
  }
  return found;
}

/** PID of the Chromium browser process (not a renderer or helper) running the profile `dir`. */
export function browserPidOf(dir: string): number {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    if (argv.includes(`--user-data-dir=${dir}`) && !argv.some((a) => a.startsWith('--type='))) found.push(Number(name));
  }
  if (found.length !== 1) throw new Error(`expected one browser process for ${dir}, found ${found.length}`);
  return found[0]!;
}

/** Opens `/` (or `path`) in the context's first page and waits for the node to run. */
export async function openApp(ctx: BrowserContext, path = '/'): Promise<Page> {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto(path);
  const outcome = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const poll = (): void => {
          const t = window.tabula;
          if (t === undefined) return void setTimeout(poll, 50);
          t.onFatal((e) => resolve(`fatal ${e.name}: ${e.message}`));
          const running = (): unknown => (t.phase === 'running' ? resolve('running') : setTimeout(running, 50));
          running();
        };
        poll();
      })
  );
  if (outcome !== 'running') throw new Error(`the node did not start: ${outcome}`);
  return page;
}

/** An acknowledged write: put() resolved in the page with this receipt. */
export interface Ack {
  key: string;
  seq: number;
  hash: string;
  author: string;
  at: number;
}

/** Where the writer's time went, measured in the page (ms, performance.now()). */
export interface WriterTiming {
  writes: number;
  /** put() called → settled (the page↔worker round trip and the node's work). */
  putMeanMs: number;
  putMaxMs: number;
  /** put() settled → the test process had its report (batched binding call, a CDP round trip). */
  ackMeanMs: number;
  ackMaxMs: number;
}

export interface Writer {
  acks: Ack[];
  failures: string[];
  /** Filled in by stop(). */
  timing?: WriterTiming;
  /** Stops starting new writes and waits until every started one is answered. */
  stop(): Promise<void>;
}

/**
 * Starts writes `${prefix}${i}` in the page at about `perSec` per second (at most `maxInFlight`
 * unanswered), for `durationMs` at most when given (the page stops starting writes by its own
 * clock then: a stop() that reaches a busy page late does not lengthen the load). Each put() that resolves is reported to the test process (`acks`) in batches, one
 * binding call in flight at a time: a write's slot frees when put() settles, not when the test
 * process has answered the binding (a CDP round trip per call, which held every slot ~0.6 s in S10
 * on 2 shared cores and capped the tabs at 64 / 0.7 s). An ack counts once the test process has it.
 */
export async function startWriter(
  page: Page,
  prefix: string,
  perSec: number,
  maxInFlight = 64,
  durationMs = Infinity
): Promise<Writer> {
  const w: Writer = { acks: [], failures: [], stop: async () => {} };
  const tag = prefix.replace(/\W/g, '_');
  type Report = [key: string, seq: number, hash: string, author: string] | string;
  await page.exposeBinding(`report_${tag}`, (_src, batch: Report[]) => {
    const at = Date.now();
    for (const r of batch)
      if (typeof r === 'string') w.failures.push(r);
      else w.acks.push({ key: r[0], seq: r[1], hash: r[2], author: r[3], at });
  });
  await page.evaluate(
    ([p, t, rate, cap, durationArg]) => {
      const duration = durationArg < 0 ? Infinity : durationArg;
      const g = window as unknown as Record<string, unknown>;
      const report = g[`report_${t}`] as (batch: Report[]) => Promise<void>;
      let i = 0;
      let inFlight = 0;
      const tm = { writes: 0, put: 0, putMax: 0, ack: 0, ackMax: 0 };
      // Reports not yet handed over (with when their put settled), and whether a batch is in flight.
      let out: { r: Report; at: number }[] = [];
      let reporting = false;
      const flush = (): void => {
        if (reporting || out.length === 0) return;
        const batch = out;
        out = [];
        reporting = true;
        void report(batch.map((x) => x.r)).finally(() => {
          const now = performance.now();
          for (const x of batch) {
            tm.ack += now - x.at;
            tm.ackMax = Math.max(tm.ackMax, now - x.at);
          }
          reporting = false;
          flush();
        });
      };
      const t0 = performance.now();
      const timer = setInterval(() => {
        const elapsed = performance.now() - t0;
        if (elapsed >= duration) clearInterval(timer);
        const due = Math.floor((Math.min(elapsed, duration) * rate) / 1000);
        while (i < due && inFlight < cap) {
          const key = `${p}${i}`;
          const v = i++;
          inFlight++;
          const called = performance.now();
          const settled = (r: Report): void => {
            const now = performance.now();
            tm.writes++;
            tm.put += now - called;
            tm.putMax = Math.max(tm.putMax, now - called);
            inFlight--;
            out.push({ r, at: now });
            flush();
          };
          window.tabula!.put(key, v).then(
            (r) => settled([key, r.seq, r.hash, r.author]),
            (e: Error) => settled(`${key}: ${e.name}: ${e.message}`)
          );
        }
      }, 5);
      // Stops starting writes; resolves once every write started has been answered and reported.
      g[`stop_${t}`] = () => {
        clearInterval(timer);
        const r = (x: number) => Math.round(x * 10) / 10;
        const timing = () => ({
          writes: tm.writes,
          putMeanMs: r(tm.put / Math.max(1, tm.writes)),
          putMaxMs: r(tm.putMax),
          ackMeanMs: r(tm.ack / Math.max(1, tm.writes)),
          ackMaxMs: r(tm.ackMax)
        });
        return new Promise<unknown>((resolve) => {
          const drained = (): unknown =>
            inFlight === 0 && out.length === 0 && !reporting ? resolve(timing()) : setTimeout(drained, 20);
          drained();
        });
      };
    },
    // Infinity does not survive page.evaluate's serialization: -1 stands for "no limit".
    [prefix, tag, perSec, maxInFlight, Number.isFinite(durationMs) ? durationMs : -1] as const
  );
  w.stop = async () => {
    w.timing = (await page.evaluate(
      (t) => (window as unknown as Record<string, () => Promise<unknown>>)[`stop_${t}`]!(),
      tag
    )) as WriterTiming;
  };
  return w;
}

/**
 * JS heap (bytes used) of every dedicated worker of the browser after a forced GC: the nodes run
 * in workers, which `performance.memory` does not reach. Uses CDP through a browser session.
 */
export async function workerHeaps(browser: Browser): Promise<number[]> {
  const bs = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = await bs.send('Target.getTargets');
    const out: number[] = [];
    let id = 0;
    const waiting = new Map<number, (m: { result?: { usedSize?: number } }) => void>();
    bs.on('Target.receivedMessageFromTarget', (ev) => {
      const m = JSON.parse(ev.message) as { id: number; result?: { usedSize?: number } };
      waiting.get(m.id)?.(m);
    });
    for (const t of targetInfos.filter((x) => x.type === 'worker')) {
      const { sessionId } = await bs.send('Target.attachToTarget', { targetId: t.targetId, flatten: false });
      const call = (method: string) =>
        new Promise<{ result?: { usedSize?: number } }>((resolve) => {
          const n = ++id;
          waiting.set(n, resolve);
          void bs.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: n, method }) });
        });
      await call('HeapProfiler.collectGarbage');
      out.push((await call('Runtime.getHeapUsage')).result?.usedSize ?? NaN);
      await bs.send('Target.detachFromTarget', { sessionId });
    }
    return out;
  } finally {
    await bs.detach();
  }
}

/** Starts recording long tasks (PerformanceObserver 'longtask') in the page. */
export async function watchLongTasks(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = window as unknown as { longTasks: number[] };
    g.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) g.longTasks.push(Math.round(e.duration));
    }).observe({ type: 'longtask', buffered: false });
  });
}

/** Durations (ms) of the long tasks seen since watchLongTasks. */
export async function longTasks(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
}

/** Waits until `fn` is true (polled every `everyMs`); returns ms waited, or null on timeout. */
export async function waitFor(
  fn: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 100
): Promise<number | null> {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) return null;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
