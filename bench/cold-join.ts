// Row 5 of issue 11: cold join of a light replica to a network of N entries (default 100,000),
// against replaying every entry from a full replica, in the same run: "row 5 (Node, core
// protocol)". Row 5 (browser), bench/browser/row5.ts, joins real browser devices over WebRTC.
//
// Real: the join protocol end to end in core code (src/lib/core/join): a Joiner asks 3
// JoinServers (3 voter keys serving one full replica's ledger, as honest peers at the same heads
// serve byte-identical bodies), checks each signed vote, tallies the quorum, downloads the body
// in 64 KiB chunks (4 in flight), recomputes heads root, state digest and clocks from the bytes
// and installs into an empty Ledger. Messages cross an in-memory transport (each delivered on a
// later macrotask, encoded and decoded as on the wire; no network latency, no libp2p framing).
// The server builds its snapshot on the first ask of every run (a fresh source per run).
// "State visible": the joined ledger answers records() with every record.
//
// Comparator (same process and run): the full replica itself, replaying every entry through
// Ledger.ingest in batches (what sync's gap fill does, transport excluded: favours the
// comparator). Both use the memory store (no IndexedDB).
//
// One join run is CPU-profiled (node:inspector, the same profiler as node --cpu-prof); the
// profile goes to bench/results/cold-join-<date>.cpuprofile and its top self-time functions are
// printed. Run alone (writes bench/results/<date>-<commit>.json): npx tsx bench/cold-join.ts
// (BENCH_JOIN_N, BENCH_JOIN_AUTHORS, BENCH_JOIN_KEYS, BENCH_JOIN_RUNS, BENCH_JOIN_PROFILE=0).
import '../src/lib/platform/polyfills.js';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultGenesis } from '../src/lib/core/genesis.js';
import { generateKeys } from '../src/lib/core/ed25519.js';
import { Ledger } from '../src/lib/core/ledger.js';
import { MemoryLedgerStore } from '../src/lib/core/memory-store.js';
import { encodeEntry } from '../src/lib/core/entry.js';
import { toHex } from '../src/lib/core/bytes.js';
import { Joiner, type JoinStatus } from '../src/lib/core/join/joiner.js';
import { JoinServer } from '../src/lib/core/join/server.js';
import { installJoinSnapshot, ledgerJoinSource } from '../src/lib/core/join/ledger-source.js';
import { quantile } from './browser/stats.js';
import { machine, writeResults } from './results.js';

const N = Number(process.env.BENCH_JOIN_N ?? 100_000);
const AUTHORS = Number(process.env.BENCH_JOIN_AUTHORS ?? 100);
/** Keys each author cycles through: N / AUTHORS / KEYS writes per key (overwrites). */
const KEYS = Number(process.env.BENCH_JOIN_KEYS ?? 100);
const RUNS = Number(process.env.BENCH_JOIN_RUNS ?? 5);
const PROFILE = process.env.BENCH_JOIN_PROFILE !== '0';
const INGEST_BATCH = 256;
const PEERS = 3;
const TICK_MS = 250;
/** A join run that has not shown the state after this is reported as failed, ms. */
const RUN_LIMIT_MS = 300_000;
const genesis = defaultGenesis();

export interface ColdJoinRun {
  /** Joiner start until the joined ledger answers records(), ms. */
  visibleMs: number;
  /** Parts: votes (ask until the download starts), download, verify + install. */
  askMs: number;
  downloadMs: number;
  verifyInstallMs: number;
  verified: boolean;
  /** CPU time of the process (all its threads) during the join, ms. */
  cpuMs: number;
  /** Garbage collection pauses of the main thread during the join (perf_hooks 'gc' entries), ms. */
  gcMs: number;
}

export interface ColdJoinResult {
  n: number;
  authors: number;
  records: number;
  snapshotBytes: number;
  runs: ColdJoinRun[];
  join: { median: number; p99: number };
  replayMs: number;
  /** replayMs / join median. */
  ratio: number;
  /** JS heap used by the process holding the full replica (and the history's encoded entries), MiB. */
  fullReplicaHeapMiB: number;
  profile?: string;
  profileTop?: string[];
  target: string;
  met: { visible: boolean; ratio: boolean };
}

/** Main-thread GC pauses so far, ms (entries arrive asynchronously: read after a macrotask). */
let gcPauseMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauseMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const ms = (x: number): string => `${Math.round(x).toLocaleString('en')} ms`;
const nextTask = (): Promise<void> => new Promise((r) => setImmediate(r));

async function empty(): Promise<Ledger> {
  return Ledger.open({ store: new MemoryLedgerStore(), genesis, keys: await generateKeys() });
}

/** N entries: AUTHORS authors each writing N/AUTHORS puts over KEYS keys of their own. */
async function history(): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let a = 0; a < AUTHORS; a++) {
    const ledger = await empty();
    ledger.onAppend((h) => out.push(encodeEntry(h.entry)));
    const count = Math.floor(N / AUTHORS) + (a < N % AUTHORS ? 1 : 0);
    for (let i = 0; i < count; i++) await ledger.put(`a${a}-k${i % KEYS}`, { i, by: a, note: 'x'.repeat(24) });
    await ledger.close();
  }
  return out;
}

/** One cold join: a fresh joiner and 3 servers over the full replica (fresh snapshot source). */
async function joinOnce(full: Ledger, recordCount: number): Promise<ColdJoinRun & { bytes: number }> {
  const joined = await empty();
  const source = ledgerJoinSource(full);
  const servers = new Map<string, JoinServer>();
  let installed!: () => void;
  const done = new Promise<void>((r) => (installed = r));
  const joiner = new Joiner({
    networkId: full.networkId,
    genesis,
    operators: [],
    now: () => performance.now(),
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    send: (to, bytes) => void nextTask().then(() => servers.get(to)!.receive('joiner', bytes)),
    install: async (snap, verdict) => {
      await installJoinSnapshot(joined, snap, verdict);
      installed();
    }
  });
  for (let i = 0; i < PEERS; i++) {
    const keys = await generateKeys();
    const id = `peer${i}`;
    servers.set(
      id,
      new JoinServer({
        networkId: full.networkId,
        seed: keys.seed,
        voter: toHex(keys.publicKey),
        source,
        send: (_to, bytes) => void nextTask().then(() => joiner.receive(id, bytes))
      })
    );
  }
  const marks: { download?: number; verify?: number } = {};
  const watch = (s: JoinStatus, now: number): void => {
    if (s.state === 'fetching') marks.download ??= now;
    if (s.state === 'fetching' && s.bytes === s.totalBytes && s.totalBytes > 0) marks.verify ??= now;
  };
  const timer = setInterval(() => joiner.tick(), TICK_MS);
  const poll = setInterval(() => watch(joiner.status(), performance.now()), 1);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const gc0 = gcPauseMs;
  try {
    for (const id of servers.keys()) joiner.addPeer(id);
    joiner.start();
    const limit = new Promise<never>((_, rej) =>
      setTimeout(
        () => rej(new Error(`no state after ${RUN_LIMIT_MS} ms: ${JSON.stringify(joiner.status())}`)),
        RUN_LIMIT_MS
      ).unref()
    );
    await Promise.race([done, limit]);
    const records = joined.records().length;
    const t1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    await new Promise((r) => setTimeout(r, 10)); // the last GC entries are delivered
    const gcMs = gcPauseMs - gc0;
    if (records !== recordCount) throw new Error(`joined ${records} records, the full replica holds ${recordCount}`);
    const s = joiner.status();
    const dl = marks.download ?? t0;
    const vf = marks.verify ?? dl;
    return {
      visibleMs: t1 - t0,
      askMs: dl - t0,
      downloadMs: vf - dl,
      verifyInstallMs: t1 - vf,
      verified: !joined.stats().unverified,
      cpuMs: (cpu.user + cpu.system) / 1000,
      gcMs,
      bytes: s.totalBytes
    };
  } finally {
    clearInterval(timer);
    clearInterval(poll);
    await joined.close();
  }
}

/** Runs `fn` under the CPU profiler; writes the profile, returns its path and top self times. */
async function profiled<T>(fn: () => Promise<T>): Promise<{ out: T; file: string; top: string[] }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const out = await fn();
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const dir = join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `cold-join-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return { out, file, top: topSelf(profile, 12) };
}

type CpuProfile = {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples?: number[];
  timeDeltas?: number[];
};

/** Nodes under the inspector's own `post` (Profiler.stop serializing the profile: not the join). */
function profilerNodes(p: CpuProfile): Set<number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Set<number>();
  const mark = (id: number): void => {
    out.add(id);
    for (const c of byId.get(id)?.children ?? []) mark(c);
  };
  for (const n of p.nodes) if (n.callFrame.functionName === 'post' && n.callFrame.url.includes('inspector')) mark(n.id);
  return out;
}

function topSelf(p: CpuProfile, k: number): string[] {
  const dt = new Map<number, number>();
  (p.samples ?? []).forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas?.[i] ?? 0)));
  const skip = profilerNodes(p);
  const self = new Map<string, number>();
  for (const n of p.nodes) {
    if (skip.has(n.id)) continue;
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (dt.get(n.id) ?? 0));
  }
  const busy = [...self].filter(([key]) => !key.startsWith('(idle)'));
  const total = busy.reduce((a, [, v]) => a + v, 0);
  return busy
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(
      ([key, v]) => `${(v / 1000).toFixed(0).padStart(6)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${key}`
    );
}

export async function runColdJoin(): Promise<ColdJoinResult> {
  const tH = performance.now();
  const entries = await history();
  console.log(
    `(setup: ${N.toLocaleString('en')} signed writes by ${AUTHORS} authors in ${ms(performance.now() - tH)})`
  );
  // Comparator: replay every entry into an empty ledger; that ledger is then the full replica served.
  const full = await empty();
  const tR = performance.now();
  for (let i = 0; i < entries.length; i += INGEST_BATCH) await full.ingest(entries.slice(i, i + INGEST_BATCH));
  const replayMs = performance.now() - tR;
  if (full.stats().entries !== N) throw new Error(`the full replica holds ${full.stats().entries} of ${N} entries`);
  const heap = process.memoryUsage().heapUsed / 2 ** 20;
  const recordCount = full.records().length;
  const runs: ColdJoinRun[] = [];
  let bytes = 0;
  let profile: { file: string; top: string[] } | undefined;
  for (let r = 0; r < RUNS; r++) {
    const last = PROFILE && r === RUNS - 1;
    const run = last ? await profiled(() => joinOnce(full, recordCount)) : { out: await joinOnce(full, recordCount) };
    if ('file' in run) profile = { file: run.file, top: run.top };
    bytes = run.out.bytes;
    runs.push(run.out);
  }
  const visible = runs.map((r) => r.visibleMs);
  const median = quantile(visible, 0.5);
  const p99 = quantile(visible, 0.99);
  const result: ColdJoinResult = {
    n: N,
    authors: AUTHORS,
    records: recordCount,
    snapshotBytes: bytes,
    runs,
    join: { median, p99 },
    replayMs,
    ratio: replayMs / median,
    fullReplicaHeapMiB: Math.round(heap),
    ...(profile ? { profile: profile.file, profileTop: profile.top } : {}),
    target: 'state visible < 1.5 s; >= 10x faster than replay',
    met: { visible: p99 < 1500, ratio: replayMs / median >= 10 }
  };
  print(result);
  return result;
}

function print(r: ColdJoinResult): void {
  const part = (k: keyof ColdJoinRun): string =>
    ms(
      quantile(
        r.runs.map((x) => Number(x[k])),
        0.5
      )
    );
  console.log(
    `cold join, ${r.n.toLocaleString('en')} entries (${r.authors} authors, ${r.records.toLocaleString('en')} records), ` +
      `snapshot ${(r.snapshotBytes / 2 ** 20).toFixed(1)} MiB, ${r.runs.length} joins, 3 peers:`
  );
  console.log('| # | measures | ours median | ours p99 | comparator (same run) | ratio | target |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  console.log(
    `| 5 (Node, core protocol) | cold join, state visible | ${ms(r.join.median)} | ${ms(r.join.p99)} | replay every entry: ${ms(r.replayMs)} | ` +
      `${r.ratio.toFixed(1)}x | < 1.5 s (${r.met.visible ? 'met' : 'missed'}); >= 10x (${r.met.ratio ? 'met' : 'missed'}) |`
  );
  console.log(
    `  parts (median): votes ${part('askMs')}, download ${part('downloadMs')}, verify + install ${part('verifyInstallMs')}; ` +
      `verified by quorum: ${r.runs.every((x) => x.verified)}; heap with the full replica ${r.fullReplicaHeapMiB} MiB`
  );
  console.log(
    `  per join (median): CPU ${part('cpuMs')} (all threads of the process), main-thread GC pauses ${part('gcMs')}` +
      ` (the profiled run includes the profiler's overhead)`
  );
  if (r.profileTop)
    console.log(
      `  CPU profile of one join (${r.profile}), top self time (shares of the join's busy samples; the profiler's own serialization left out):\n    ${r.profileTop.join('\n    ')}`
    );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const info = machine();
  const coldJoin = await runColdJoin();
  console.log(`results in ${writeResults({ machine: info, coldJoin })}`);
}
