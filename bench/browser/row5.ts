// Issue 11 row 5 in real Chromium: cold join of a light replica to a network of BENCH_ROW5_ENTRIES
// (default 100,000, the issue's) entries, against a fresh full replica replaying every entry, in the same run.
//
// The network: a relay with its archive replica (`relay --archive`, a Node full replica that
// ingests what the browsers write), a full replica in the browser (`?role=full`, a fresh profile)
// filled through window.tabula.put (row 7's fill, many puts in flight: group commit), and the
// comparator below, which becomes the third full replica: 3 distinct keys, as test/e2e/join.spec.ts's
// verified join. Then BENCH_ROW5_JOINS (default 3) fresh devices (each a new persistent profile,
// closed after), opened at `/` (a light replica, the default for a visitor: it joins), and one
// more, CPU-profiled (its node worker, WorkerCdp), not counted in the figures. Only the first join
// waits for its verification after the state is visible.
// Measured per join, from page open (Node's clock before page.goto; the worker stamps its steps
// with Date.now() on the same machine): relay link, first direct WebRTC link, the first ask, votes
// tallied, snapshot downloaded, snapshot checked, installed, "state visible" (the page's records
// table shows a record and its footer counts every entry: a MutationObserver checked once per
// animation frame) and verified (a quorum of keys agreed; status().join.verified).
// Comparator: a fresh device at `?role=full`, from page open until it holds every entry through
// sync (row 7's replay); measured once per run.
// A replay that did not catch up or a join that failed prints "—", not a ratio or "met", and the
// row is recorded as failed (bench/browser/row5-summary.ts).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { spawnRelay, type RelayProcess } from '../../test/helpers/relay-process.js';
import { entriesOf, fillChunk, waitRunning } from './row7.js';
import { formatRow5, summariseRow5, type Row5Join, type Row5Result } from './row5-summary.js';
import { WorkerCdp, topSelf, topTotal, type CpuProfile } from './worker-cdp.js';

/**
 * The network: 100,000 entries (BENCH_ROW5_ENTRIES scales it). Building it (fill, the
 * archive's catch-up, the comparator's replay) took 3.3 min of the row's ~3.7 min in the quiet
 * full run at 60a1ae6 (the whole bench: 13 min); ~2.5 s per 1,000 entries at load ~20.
 */
const ENTRIES = Number(process.env.BENCH_ROW5_ENTRIES ?? 100_000);
const JOINS = Math.max(1, Number(process.env.BENCH_ROW5_JOINS ?? 3));
const CHUNK = 10_000;
/** Replay and archive catch-up deadline: 3 ms per entry, at least 3 min (as row 7). */
const CATCH_UP_TIMEOUT_MS = Math.max(180_000, ENTRIES * 3);
/** A join gives up after JOIN_MAX_MS (60 s) in the worker; wait a little longer. */
const JOIN_TIMEOUT_MS = 75_000;
/** After the state is visible, how long we wait for the quorum to verify it. */
const VERIFY_TIMEOUT_MS = 45_000;
const PREFIX = 'row5';

export type { Row5Join, Row5Result } from './row5-summary.js';

export interface Row5Output {
  result: Row5Result;
  table: string;
  profiles: Record<string, string[]>;
  /** Why a figure was not measured (the row is then recorded as failed); empty when all were. */
  failures: string[];
}

const s1 = (ms: number | null) => (ms === null || !Number.isFinite(ms) ? '—' : `${(ms / 1000).toFixed(2)} s`);

async function openDevice(context: BrowserContext, url: string, name: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[row 5 ${name} page error] ${err.message}`));
  page.on('console', (m) => m.type() === 'error' && console.error(`[row 5 ${name}] ${m.text()}`));
  await page.goto(url);
  return page;
}

const rootOf = (page: Page) => page.evaluate(async () => (await window.tabula!.status()).sync.root);

async function archiveRoot(url: string): Promise<string | undefined> {
  try {
    return ((await (await fetch(`${url}/api/archive`)).json()) as { headsRoot?: string }).headsRoot;
  } catch {
    return undefined;
  }
}

/** Waits until `done()` holds, polling every 500 ms; false after `timeoutMs`; throws once `signal` aborts. */
async function until(
  signal: AbortSignal,
  done: () => Promise<boolean>,
  timeoutMs: number,
  progress?: () => Promise<string>
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let nextLog = Date.now() + 15_000;
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    if (await done()) return true;
    if (progress && Date.now() >= nextLog) {
      console.log(`bench: row 5: ${await progress()}`);
      nextLog = Date.now() + 15_000;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/**
 * Records in window.benchVisibleAt (Date.now) the first animation frame at which the page shows
 * the state: a row of the records table, and the footer counting at least `entries` entries. A
 * string script: tsx would wrap named functions in a __name helper the page lacks.
 */
async function watchVisible(context: BrowserContext, entries: number): Promise<void> {
  await context.addInitScript(`(() => {
    let queued = false;
    const check = () => {
      queued = false;
      if (window.benchVisibleAt !== undefined) return;
      if (!document.querySelector('tr[data-key]')) return;
      const m = /(\\d+) entries from/.exec(document.body ? document.body.textContent : '');
      if (m && Number(m[1]) >= ${entries}) window.benchVisibleAt = Date.now();
    };
    new MutationObserver(() => {
      if (!queued && window.benchVisibleAt === undefined) {
        queued = true;
        requestAnimationFrame(check);
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  })();`);
}

/** One fresh light device joins; its steps in ms from page open. Closes its context. */
async function joinOnce(
  launch: () => Promise<BrowserContext>,
  url: string,
  profile: boolean,
  waitVerified: boolean
): Promise<{ sample: Row5Join; cpu?: CpuProfile }> {
  const context = await launch();
  try {
    await watchVisible(context, ENTRIES);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[row 5 joiner page error] ${err.message}`));
    // Attached as the page loads; the profile starts once page.goto returns (about 0.7 s after page
    // open: the worker's start is left out) and covers the join itself up to state visible.
    const attached = profile ? WorkerCdp.attach(context, page, 'tabula-node') : undefined;
    const t0 = Date.now();
    await page.goto(`${url}/`);
    const cdp = await attached;
    await cdp?.startProfile();
    const visible = await page
      .waitForFunction(() => (window as unknown as { benchVisibleAt?: number }).benchVisibleAt !== undefined, null, {
        timeout: JOIN_TIMEOUT_MS,
        polling: 100
      })
      .then(() => true)
      .catch(() => false);
    // The profile ends at state visible (the target), not after the wait for the quorum.
    const cpu = await cdp?.stopProfile();
    await cdp?.detach();
    if (visible && waitVerified)
      await page
        .waitForFunction(() => window.tabula?.lastStatus?.join?.verified === true, null, {
          timeout: VERIFY_TIMEOUT_MS,
          polling: 100
        })
        .catch(() => undefined);
    const st = await page.evaluate(() => window.tabula!.status());
    const visibleAt = await page.evaluate(() => (window as unknown as { benchVisibleAt?: number }).benchVisibleAt);
    const j = st.join;
    const m = j?.marks;
    const rel = (t: number | null | undefined) => (t === null || t === undefined ? null : t - t0);
    const at = (ms: number | null | undefined) => (ms !== null && ms !== undefined ? st.startedAt + ms : null);
    const sample: Row5Join = {
      networkStartMs: rel(st.startedAt),
      relayLinkMs: rel(at(st.timings?.relayMs)),
      firstDirectLinkMs: rel(at(st.timings?.firstWebrtcMs)),
      askedMs: rel(m?.askedAt),
      agreedMs: rel(m?.agreedAt),
      downloadedMs: rel(m?.downloadedAt),
      checkedMs: rel(m?.checkedAt),
      installedMs: rel(m?.installedAt),
      visibleMs: rel(visibleAt),
      verifiedMs: rel(m?.verifiedAt),
      entries: st.ledger.entries,
      snapshotBytes: j?.totalBytes ?? 0,
      peersAsked: j?.peersAsked ?? 0,
      agreeing: j?.agreeing ?? 0,
      state: j?.state ?? 'none',
      role: st.role,
      profiled: profile
    };
    return { sample, cpu };
  } finally {
    await context.close();
  }
}

/** Busy (not idle, by sample time) and whole ms of a CPU profile. */
function busyMs(p: CpuProfile): { busy: number; window: number } {
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let busy = 0;
  (p.samples ?? []).forEach((id, i) => {
    if (!idle.has(id)) busy += (p.timeDeltas?.[i] ?? 0) / 1000;
  });
  return { busy: Math.round(busy), window: Math.round((p.endTime - p.startTime) / 1000) };
}

/** Row 5 in fresh profiles (each device its own) against an archive relay of its own; closes all. */
export async function row5(launch: () => Promise<BrowserContext>, signal: AbortSignal): Promise<Row5Output> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tabula-bench-row5-'));
  let relay: RelayProcess | undefined;
  const contexts: BrowserContext[] = [];
  const fresh = async () => {
    const c = await launch();
    contexts.push(c);
    return c;
  };
  try {
    relay = await spawnRelay(['--archive', '--data-dir', dataDir, '--static-dir', 'build']);
    const url = relay.url;
    const writer = await openDevice(await fresh(), `${url}/?role=full`, 'full replica');
    await waitRunning(writer);
    const tFill = Date.now();
    for (let from = 0; from < ENTRIES; from += CHUNK) {
      const count = Math.min(CHUNK, ENTRIES - from);
      const ms = await fillChunk(writer, from, count, PREFIX);
      console.log(`bench: row 5: ${from + count}/${ENTRIES} entries written (${Math.round((count * 1000) / ms)}/s)`);
    }
    const fillMs = Date.now() - tFill;
    const writerRoot = await rootOf(writer);
    const tArchive = Date.now();
    const archived = await until(
      signal,
      async () => (await archiveRoot(url)) === writerRoot,
      CATCH_UP_TIMEOUT_MS,
      async () => `the relay's archive replica is not caught up yet`
    );
    if (!archived) throw new Error(`the relay's archive replica did not catch up within ${CATCH_UP_TIMEOUT_MS} ms`);
    const archiveCaughtUpMs = Date.now() - tArchive;

    // Comparator (and the third key): a fresh full replica replays every entry.
    const replayContext = await fresh();
    const tReplay = Date.now();
    const replayer = await openDevice(replayContext, `${url}/?role=full`, 'replaying device');
    await waitRunning(replayer);
    const caughtUp = await until(
      signal,
      async () => (await replayer.evaluate(() => window.tabula?.lastStatus?.ledger.entries ?? 0)) >= ENTRIES,
      CATCH_UP_TIMEOUT_MS,
      async () => `the replaying device holds ${await entriesOf(replayer)}/${ENTRIES} entries`
    );
    const replayMs = Date.now() - tReplay;
    const replayEntries = await entriesOf(replayer);
    console.log(
      `bench: row 5: the replaying full replica ${caughtUp ? 'caught up' : 'did NOT catch up'} in ${s1(replayMs)}`
    );
    // Joins ask only peers at the same state: wait until the replayer's root is the writer's.
    const sameRoot = await until(signal, async () => (await rootOf(replayer)) === writerRoot, 30_000);
    if (!sameRoot)
      console.log(`bench: row 5: WARNING: the replayer's heads root is not the writer's: joins see 2 keys`);
    const replay = { ms: replayMs, caughtUp, entries: replayEntries, sameRoot };

    const joins: Row5Join[] = [];
    let cpu: CpuProfile | undefined;
    for (let i = 0; i <= JOINS; i++) {
      signal.throwIfAborted();
      const profiled = i === JOINS;
      // Only the first join waits for its verification (it can take JOIN_RETRY_MS, 30 s, more).
      const out = await joinOnce(launch, url, profiled, i === 0);
      joins.push(out.sample);
      cpu ??= out.cpu;
      console.log(`bench: row 5: join ${i + 1}${profiled ? ' (profiled)' : ''}: ${JSON.stringify(out.sample)}`);
    }
    const result: Row5Result = {
      entries: ENTRIES,
      fillMs,
      archiveCaughtUpMs,
      replay,
      joins,
      ...summariseRow5(joins, replay, ENTRIES)
    };
    const profiles: Record<string, string[]> = {};
    if (cpu) {
      const dir = join(process.cwd(), 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `row5-join-worker-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.cpuprofile`);
      writeFileSync(file, JSON.stringify(cpu));
      result.profileFile = file.slice(process.cwd().length + 1);
      const busy = busyMs(cpu);
      result.profileBusyMs = busy.busy;
      result.profileWindowMs = busy.window;
      result.profileTop = [...topSelf(cpu, 12, true), ...topTotal(cpu, 15)];
      profiles['row 5 (browser): joining device node worker'] = result.profileTop;
    }
    return { result, table: formatRow5(result), profiles, failures: result.failures };
  } finally {
    for (const c of contexts) await c.close().catch(() => undefined);
    if (relay && relay.child.exitCode === null) relay.child.kill('SIGTERM');
    await relay?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}
