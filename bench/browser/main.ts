// The browser half of `npm run bench` (issue 11): real Chromium through Playwright, on loopback,
// against the built app served by a real relay. Prints one table per benchmark (ours next to a
// comparator measured in the same page and run) and writes bench/results/<date>-<commit>.json.
// Never a test: exits non-zero only when the benches could not run.
// Run inside a loopback-only namespace: bash bench/browser/run.sh (npm run bench does).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { machine, startCommit, writeResults } from '../results.js';
import { appPuts, openApp } from './app-writes.js';
import { takeLongTasks, watchLongTasks } from './health.js';
import { row7, type Row7Result } from './row7.js';
import { row5, type Row5Result } from './row5.js';
import { WorkerCdp, pageProfiler, topSelf, topTotal, type Profiler } from './worker-cdp.js';
import type { BenchOutput, Series } from './protocol.js';
import { HTTP_PORT, ensureBuilds, startRelay, stopRelay } from './server.js';
import { formatTable, summarize, type ResultRow } from './stats.js';
import { VALUE_BYTES } from './writes.js';
import { routeBench } from './bench-route.js';
import { RowRunner, type Row } from './rows.js';
import { row1 } from './propagation.js';
import type { LatencyRow } from './latency.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/e2e/chromium.js';
import { ROW4_CHUNK, row3Plan, row4Count } from '../knobs.js';

const BASE = `http://127.0.0.1:${HTTP_PORT}`;
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
/**
 * BENCH_ROWS=3,4 runs only those rows (3: writes, 4: ingest, 5: cold join of a light replica to a
 * network of BENCH_ROW5_ENTRIES entries, 7: a full replica of BENCH_ROW7_ENTRIES entries while a
 * second device syncs from it); default all.
 */
const ROWS = new Set((process.env.BENCH_ROWS ?? '3,4,5,7').split(',').map((r) => r.trim()));

const profileDirs: string[] = [];

/** A persistent profile: IndexedDB on disk (an incognito-like context keeps it in memory). */
async function launch(): Promise<BrowserContext> {
  const dir = mkdtempSync(join(tmpdir(), 'tabula-bench-profile-'));
  profileDirs.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    baseURL: BASE
  });
  // In a loopback-only namespace Chromium offers ICE host candidates only with a media
  // permission (see test/e2e/fixtures.ts); needed for the second device of row 7.
  await context.grantPermissions(['microphone']);
  return context;
}

/** `launch` for a row: the row's contexts are closed if it is given up (timed out or threw). */
const launchFor = (row: Row) => async (): Promise<BrowserContext> => {
  const context = await launch();
  row.onAbort(() => context.close());
  return context;
};

async function openBenchPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await routeBench(context);
  page.on('pageerror', (err) => console.error(`[bench page error] ${err.message}`));
  page.on('console', (m) => m.type() === 'error' && console.error(`[bench page] ${m.text()} ${m.location().url}`));
  if (process.env.BENCH_DEBUG) page.on('response', (r) => console.error(`[bench page] ${r.status()} ${r.url()}`));
  page.on('requestfailed', (r) => console.error(`[bench page] failed ${r.url()}: ${r.failure()?.errorText}`));
  await page.goto(`${BASE}/__bench/index.html`);
  await page.waitForFunction(() => window.benchReady === true);
  return page;
}

function rowsOf(bench: string, workload: string, target: string, series: Series[], comparator: string): ResultRow[] {
  const sums = series.map(summarize);
  const base = sums.find((s) => s.name === comparator);
  return sums.map((s) => ({
    ...s,
    bench,
    workload,
    target,
    comparator,
    role: s.name === comparator ? 'comparator' : 'ours',
    ratio: base ? s.perSec / base.perSec : NaN
  }));
}

const all: ResultRow[] = [];
const tables: string[] = [];

/** Keeps a table for when `row` completes (bench/browser/rows.ts): printed and recorded then. */
function report(row: Row, title: string, workload: string, target: string, out: BenchOutput, comparator: string): void {
  const rows = rowsOf(title, workload, target, out.series, comparator);
  const table = formatTable(`${title}: ${workload}`, rows, out.notes);
  row.keep(() => {
    all.push(...rows);
    tables.push(table);
    console.log(`\n${table}`);
  });
}

const RAW = 'raw IndexedDB put, one tx (strict)';
const WRITE_TARGET = '≥ 0.5× raw IndexedDB at batch ≥ 100; ≥ 500 single acknowledged writes/s';

// [batch size, batches in the worker, batches through the app page]. The app path is capped
// lower: its cost per write grows with the records the page shows (see the profiles).
const ROW3 = row3Plan(SCALE);

async function row3(bench: Page, app: Page, row: Row): Promise<number[]> {
  const longTasks: number[] = [];
  for (const [batch, batches, appBatches] of ROW3) {
    const out = await bench.evaluate(([b, n]) => window.runBench('writes', { batch: b, batches: n }), [batch, batches]);
    await takeLongTasks(app);
    out.series.unshift(await appPuts(app, batch, appBatches, VALUE_BYTES));
    longTasks.push(...(await takeLongTasks(app)));
    out.notes.push(
      `through the app page: ${batch * appBatches} writes (window.tabula.put has no batch form: a batch is ${batch} puts awaited together)`
    );
    const workload = `${batch * batches} writes in batches of ${batch} (issue: 100k)`;
    report(row, 'Row 3, durable local writes', workload, WRITE_TARGET, out, RAW);
  }
  return longTasks;
}

const VERIFY = 'WebCrypto Ed25519 verify alone (batched)';

async function row4(bench: Page, row: Row): Promise<void> {
  for (const authors of [1, 1000]) {
    const count = row4Count(SCALE);
    const out = await bench.evaluate(
      ([c, a, k]) => window.runBench('ingest', { count: c, authors: a, chunk: k }),
      [count, authors, ROW4_CHUNK]
    );
    const workload = `${count} entries from ${authors} author(s) (issue: 100k)`;
    report(row, 'Row 4, verified ingest', workload, '≥ 0.6× the bare verification rate', out, VERIFY);
  }
}

const profiles: Record<string, string[]> = {};
/** Main-thread long tasks (ms) of the app page during the row 3 writes through it. */
let row3LongTasks: number[] | undefined;
let memory: Row7Result | undefined;
let coldJoin: Row5Result | undefined;

function reportRow3LongTasks(row: Row, tasks: number[]): void {
  const longest = tasks.length ? Math.max(...tasks) : 0;
  const line = `Row 3, the app page during its writes: ${tasks.length} main-thread long tasks (longest ${longest.toFixed(0)} ms, ${tasks.filter((d) => d > 50).length} over 50 ms)`;
  row.keep(() => {
    row3LongTasks = tasks;
    tables.push(line);
    console.log(`\n${line}`);
  });
}

/** CPU profiles (sampling, 1 ms) of each target while `fn` runs; prints the top functions. */
async function profiled(
  row: Row,
  title: string,
  targets: Record<string, Profiler>,
  fn: () => Promise<unknown>
): Promise<void> {
  for (const p of Object.values(targets)) await p.startProfile();
  await fn();
  for (const [name, p] of Object.entries(targets)) {
    const profile = await p.stopProfile();
    const top = [...topSelf(profile, 10), ...topTotal(profile, 15)];
    row.keep(() => {
      profiles[`${title}: ${name}`] = top;
      console.log(`\n## CPU profile: ${title}: ${name} (share of samples)\n${top.map((t) => `- ${t}`).join('\n')}`);
    });
  }
}

async function profileAll(row: Row, context: BrowserContext, app: Page, bench: Page, node: WorkerCdp): Promise<void> {
  const benchWorker = await WorkerCdp.attach(context, bench, 'tabula-bench');
  await profiled(row, 'Ledger.put alone, 10 batches of 100', { 'bench worker': benchWorker }, () =>
    bench.evaluate(() => window.runBench('writes', { batch: 100, batches: 10, tabulaOnly: 1 }))
  );
  // The entries row 4 generated are reused: this profile holds the ingest alone.
  const count = row4Count(SCALE);
  await profiled(
    row,
    `Ledger.ingest (Dexie store), ${count} entries from 1000 authors`,
    { 'bench worker': benchWorker },
    () =>
      bench.evaluate(
        ([c, k]) => window.runBench('ingest', { count: c, authors: 1000, chunk: k, dexieOnly: 1 }),
        [count, ROW4_CHUNK]
      )
  );
  const main = await pageProfiler(context, app);
  await profiled(
    row,
    'window.tabula.put, 2 batches of 100 (app build, minified)',
    { 'node worker': node, 'app page main thread': main },
    () => appPuts(app, 100, 2, VALUE_BYTES)
  );
  await benchWorker.detach();
}

/**
 * A row that throws or runs over its time is printed and kept in the tables as NOT RUN (only that
 * line: what it kept is dropped, its contexts closed); the next row still runs.
 */
const rows = new RowRunner((line) => {
  tables.push(line);
  console.log(`\n${line}`);
});

/** Rows 3, 4 (and the profiles) in one persistent profile: the app page and the bench page. */
async function appRows(info: ReturnType<typeof machine>): Promise<void> {
  let context: BrowserContext | undefined;
  try {
    let pages: { app: Page; bench: Page; node: WorkerCdp } | undefined;
    const ready = await rows.run('Rows 3 and 4 (their app and bench pages)', async (row) => {
      const opened = await launch();
      context = opened;
      row.onAbort(() => opened.close());
      const chromiumVersion = opened.browser()?.version();
      if (chromiumVersion) info.chromium = chromiumVersion;
      console.log(
        `bench: Chromium ${info.chromium ?? '?'}, node ${info.node}, ${info.cores} cores, load ${info.loadAverage.start.map((x) => x.toFixed(2)).join(' ')}`
      );
      const app = await opened.newPage();
      await openApp(app, BASE);
      const node = await WorkerCdp.attach(opened, app, 'tabula-node');
      await watchLongTasks(app);
      const bench = await openBenchPage(opened);
      row.keep(() => (pages = { app, node, bench }));
    });
    if (!ready || !pages || !context) return;
    const { app, bench, node } = pages;
    const ctx = context;
    // A row of these given up closes their shared context: the rows after it then fail (NOT RUN).
    const close = () => ctx.close();
    if (ROWS.has('3'))
      await rows.run('Row 3, durable local writes', async (row) => {
        row.onAbort(close);
        reportRow3LongTasks(row, await row3(bench, app, row));
      });
    if (ROWS.has('4'))
      await rows.run('Row 4, verified ingest', (row) => {
        row.onAbort(close);
        return row4(bench, row);
      });
    if (process.env.BENCH_PROFILE !== '0')
      await rows.run('CPU profiles of rows 3 and 4', (row) => {
        row.onAbort(close);
        return profileAll(row, ctx, app, bench, node);
      });
  } finally {
    await context?.close().catch(() => undefined);
    for (const dir of profileDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs a row whose devices each open a fresh profile (`launch` hands them out); keeps its table,
 * profile summaries (printed too when `printProfiles`) and result for when the row completes
 * (`keepResult`), records what it could not measure (`failures`), then removes the profiles.
 */
async function freshProfileRow<R>(
  row: Row,
  info: ReturnType<typeof machine>,
  run: (
    launch: () => Promise<BrowserContext>
  ) => Promise<{ result: R; table: string; profiles: Record<string, string[]>; failures?: string[] }>,
  printProfiles: boolean,
  keepResult: (result: R) => void
): Promise<void> {
  const launchRow = launchFor(row);
  try {
    const out = await run(async () => {
      const context = await launchRow();
      info.chromium ??= context.browser()?.version();
      return context;
    });
    row.keep(() => {
      tables.push(out.table);
      console.log(`\n${out.table}`);
      Object.assign(profiles, out.profiles);
      if (printProfiles)
        for (const [title, top] of Object.entries(out.profiles))
          console.log(`\n## CPU profile: ${title} (share of samples)\n${top.map((t) => `- ${t}`).join('\n')}`);
      keepResult(out.result);
    });
    for (const f of out.failures ?? []) row.fail(f);
  } finally {
    for (const dir of profileDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Row 7 in fresh profiles of its own, after rows 3 and 4 closed theirs (they would sync too). */
async function memoryRow(row: Row, info: ReturnType<typeof machine>): Promise<void> {
  await freshProfileRow(
    row,
    info,
    (l) => row7(l, BASE),
    true,
    (r) => (memory = r)
  );
}

/** Row 5 (browser): each device in a fresh profile of its own, against an archive relay of its own. */
async function coldJoinRow(row: Row, info: ReturnType<typeof machine>): Promise<void> {
  await freshProfileRow(
    row,
    info,
    (l) => row5(l, row.signal),
    false,
    (r) => (coldJoin = r)
  );
}

/** Every selected browser row; each that throws is reported as not run and the next still runs. */
async function browserRows(info: ReturnType<typeof machine>): Promise<LatencyRow[] | undefined> {
  // BENCH_PROPAGATION=0 skips row 1; =only runs row 1 alone.
  const propagationMode = process.env.BENCH_PROPAGATION ?? '1';
  let propagation: LatencyRow[] | undefined;
  ensureBuilds();
  const relay = await startRelay();
  try {
    if (propagationMode !== 'only' && (ROWS.has('3') || ROWS.has('4'))) await appRows(info);
    if (propagationMode !== 'only' && ROWS.has('7'))
      await rows.run('Row 7, memory and main-thread health', (row) => memoryRow(row, info));
    if (propagationMode !== 'only' && ROWS.has('5'))
      await rows.run('Row 5 (browser), cold join of a light replica', (row) => coldJoinRow(row, info));
    // After the app's device closed: it would otherwise receive (and add the load of) row 1's writes.
    // Each tab count is a row of its own (its own NOT RUN line if it throws or runs over time).
    if (propagationMode !== '0') {
      const latency: LatencyRow[] = (propagation = []);
      await row1(BASE, SCALE, rows, (out) => {
        latency.push(...out.rows);
        tables.push(out.table);
        console.log(`\n${out.table}`);
        for (const [name, top] of Object.entries(out.profiles)) {
          profiles[name] = top;
          console.log(`\n## CPU profile: ${name} (share of samples)\n${top.map((t) => `- ${t}`).join('\n')}`);
        }
      });
    }
  } finally {
    await stopRelay(relay);
  }
  return propagation;
}

/**
 * Runs the browser rows and writes the results file in any case (with the Node results). Exits
 * 1 when something could not run: the bench as a whole (the builds or the relay failed, or no
 * results file could be written), or a row (NOT RUN or FAILED, listed under `notRun`), after the
 * rows that did run are written; 0 when every row ran.
 */
async function main(): Promise<void> {
  startCommit(); // bench/run.ts's, or (this half run alone) the commit checked out now
  const info = machine();
  let propagation: LatencyRow[] | undefined;
  let fatal: string | undefined;
  try {
    propagation = await browserRows(info);
  } catch (e) {
    fatal = e instanceof Error ? (e.stack ?? e.message) : String(e);
    console.error(`bench: the browser benchmarks could not run: ${fatal}`);
  }
  const nodeLog = process.env.BENCH_NODE_LOG ? readFileSync(process.env.BENCH_NODE_LOG, 'utf8') : undefined;
  const nodeResults = process.env.BENCH_NODE_JSON ? JSON.parse(readFileSync(process.env.BENCH_NODE_JSON, 'utf8')) : {};
  const file = writeResults({
    machine: info,
    scale: SCALE,
    rows: all,
    propagation,
    row3LongTasks,
    row7: memory,
    row5Browser: coldJoin,
    tables,
    profiles,
    notRun: rows.failures,
    browserFailure: fatal,
    ...nodeResults,
    nodeOutput: nodeLog
  });
  console.log(`\nbench: results written to ${file}`);
  // For bench/run.ts: the results are written (it writes the Node results itself otherwise).
  if (process.env.BENCH_RESULTS_WRITTEN) writeFileSync(process.env.BENCH_RESULTS_WRITTEN, file);
  if (rows.failures.length > 0)
    console.log(
      `bench: NOT RUN or FAILED (they threw, timed out, or did not measure all they report; see above and "notRun" in the results): ${rows.failures.map((f) => f.row).join('; ')}`
    );
  if (fatal !== undefined || rows.failures.length > 0) process.exitCode = 1;
}

main().catch((e) => {
  console.error(`bench: the browser benchmarks could not run: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
