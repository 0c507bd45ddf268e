// Child process of test/helpers/node-peer.ts: one simulated Tabula node in Node. It runs the
// worker's own startNode() (src/lib/worker/node-runtime.ts: ledger, sync engine and driver, entry
// gossip, telemetry, the browser's libp2p with WebRTC through node-datachannel) against the site
// at TABULA_ORIGIN. Its ledger store (TABULA_NODE_STORE) is the core's MemoryLedgerStore
// (`memory`, the default: the lightest load generator) or the worker's Dexie store over
// fake-indexeddb (`dexie`); both live in this process only. Commands come over the IPC channel
// (NodePeerRequest) and are answered with NodePeerReply; see node-peer.ts.
import '../../src/lib/platform/polyfills.js';
import 'fake-indexeddb/auto';
import { installNodeEd25519 } from '../../src/lib/platform/node-ed25519.js';
import { installNodeSha256 } from '../../src/lib/platform/node-sha256.js';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodePeerAck, NodePeerReply, NodePeerRequest, NodePeerStopped, NodePeerSummary } from './node-peer.js';
import { NODE_PEER_STOP_WAIT_MS } from './node-peer.js';
import type { NodeStatus } from '../../src/lib/worker/messages.js';

// Started in a session of its own (node-peer.ts): the runner's process-group kill does not reach
// it, so it leaves when the runner does (its IPC channel closes). Registered before the slow
// start below; the check after it catches a channel that closed during the static imports.
process.on('disconnect', () => process.exit(1));
if (!process.connected) process.exit(1);

// Node 20 has no global WebSocket; libp2p's WebSockets transport needs one (the relay uses `ws` too).
globalThis.WebSocket ??= (createRequire(import.meta.url)('ws') as { WebSocket: typeof WebSocket }).WebSocket;

/** Writes started and not answered yet, at most (as test/e2e/fault-kit.ts startWriter). */
const MAX_IN_FLIGHT = 64;
/** Pacing step of the writer, ms. */
const WRITER_STEP_MS = 5;

// Signatures and verifications synchronous (libsodium), SHA-256 by node:crypto, as in the relay:
// see ed25519.ts setSyncSigner, setSyncVerifier and hash.ts setSha256.
installNodeEd25519();
installNodeSha256();

const origin = process.env.TABULA_ORIGIN;
if (origin === undefined) throw new Error('TABULA_ORIGIN is not set');

// Imported only now: Dexie and @libp2p/webrtc read their globals when their modules load.
const { startNode } = await import('../../src/lib/worker/node-runtime.js');
const { MemoryLedgerStore } = await import('../../src/lib/core/memory-store.js');
const storeKind = process.env.TABULA_NODE_STORE ?? 'memory';
if (storeKind !== 'memory' && storeKind !== 'dexie') throw new Error(`TABULA_NODE_STORE: ${storeKind}?`);
const maxRelays =
  process.env.TABULA_NODE_MAX_RELAYS === undefined ? undefined : Number(process.env.TABULA_NODE_MAX_RELAYS);
// The last status the node pushed (as a page keeps `lastStatus`): summary() reads it, since
// status() recomputes the state digest (O(state)) on every call, 10-21% of a simulated node's CPU
// when S10 polled it during the catch-up.
let lastStatus: NodeStatus | undefined;
const node = await startNode(
  { origin, iceServers: [], ...(maxRelays === undefined ? {} : { maxRelays }) },
  (ev) => {
    if (ev.type === 'status') lastStatus = ev.status;
  },
  storeKind === 'memory' ? { openStore: async () => new MemoryLedgerStore() } : {}
);

interface WriterState {
  timer: ReturnType<typeof setInterval>;
  inFlight: number;
  acks: NodePeerAck[];
  failures: string[];
  /** process.cpuUsage() and performance.now() when the writes started. */
  cpu0: NodeJS.CpuUsage;
  wall0: number;
  /** CPU per wall second from then until the writer's own `durationMs` ran out (cores). */
  cpuCores?: number;
}
let writer: WriterState | undefined;

function startWriting(prefix: string, perSec: number, durationMs = Infinity): void {
  const t0 = performance.now();
  const w: WriterState = {
    timer: setInterval(() => step(), WRITER_STEP_MS),
    inFlight: 0,
    acks: [],
    failures: [],
    cpu0: process.cpuUsage(),
    wall0: t0
  };
  let i = 0;
  const step = (): void => {
    const elapsed = performance.now() - t0;
    if (elapsed >= durationMs && w.cpuCores === undefined) {
      clearInterval(w.timer);
      w.cpuCores = cpuCoresSince(w);
    }
    const due = Math.floor((Math.min(elapsed, durationMs) * perSec) / 1000);
    while (i < due && w.inFlight < MAX_IN_FLIGHT) {
      const key = `${prefix}${i}`;
      const v = i++;
      w.inFlight++;
      Promise.resolve(node.api.put(key, v))
        .then(
          (r) => void w.acks.push({ key, seq: r.seq, hash: r.hash, author: r.author }),
          (e: Error) => void w.failures.push(`${key}: ${e.name}: ${e.message}`)
        )
        .finally(() => w.inFlight--);
    }
  };
  writer = w;
  // TABULA_NODE_TRACE=1: the writer's progress once a second on stderr (why acks lag).
  if (process.env.TABULA_NODE_TRACE === '1') {
    // With the event loop's delay (p50/max over the second) and the CPU the process used in it.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    let cpu = process.cpuUsage();
    const trace = setInterval(() => {
      if (writer !== w) {
        delay.disable();
        return clearInterval(trace);
      }
      const used = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      const ms = (ns: number) => Math.round(ns / 1e6);
      console.error(
        `[node-peer ${process.pid}] started ${i} in flight ${w.inFlight} acked ${w.acks.length}; loop delay p50 ${ms(delay.percentile(50))} max ${ms(delay.max)} ms; cpu ${Math.round((used.user + used.system) / 1000)} ms; ${gossipTrace(lastStatus)}; pending ${activeResources()}`
      );
      delay.reset();
    }, 1000);
  }
}

/** libuv resources alive now, by type (e.g. crypto jobs waiting for the thread pool), for the trace. */
function activeResources(): string {
  const n = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) n.set(r, (n.get(r) ?? 0) + 1);
  return [...n].map(([r, c]) => `${r} ${c}`).join(', ');
}

/** The last pushed status's gossip gauges and counters, for the trace. */
function gossipTrace(s: NodeStatus | undefined): string {
  const g = s?.gossip;
  if (g === undefined) return 'gossip off';
  return `gossip in progress ${g.inProgress} (waiting for a link ${g.waitingForLink}, queued for the ledger ${g.queuedForLedger}); received ${g.received} dropped ${g.dropped} stored ${g.stored}; ledger ${s?.ledger.entries} entries; ${syncTrace(s)}`;
}

/** The last pushed status's sync counters, for the trace: entries in by sync, ranges in flight, exchanges. */
function syncTrace(s: NodeStatus | undefined): string {
  if (s === undefined) return 'sync ?';
  const ps = s.sync.peers;
  const sum = (f: (p: (typeof ps)[number]) => number) => ps.reduce((n, p) => n + f(p), 0);
  return `sync missing ${s.sync.missing} in ${sum((p) => p.entriesIn)} out ${sum((p) => p.entriesOut)} ranges in flight ${ps.map((p) => p.rangesInFlight).join(',')} exchanges ${sum((p) => p.exchangesCompleted)}/${sum((p) => p.exchangesFailed)} failed`;
}

/**
 * TABULA_NODE_LOAD_PROF=dir: a CPU profile of this process from the start of the writes to their
 * stop (the load alone; --cpu-prof, TABULA_NODE_CPU_PROF, covers the whole life), written there
 * as load-<pid>.cpuprofile; with TABULA_NODE_PROF_PHASE=catchup, from the stop of the writes for
 * TABULA_NODE_PROF_MS (default 20 s) instead, as catchup-<pid>.cpuprofile.
 */
const PROFILE_PHASE = process.env.TABULA_NODE_PROF_PHASE === 'catchup' ? 'catchup' : 'load';

/**
 * An inspector recording written to `dir`/`file` when stopped: `begin` starts it on a fresh
 * session, `end` returns what to write. Nothing happens when `dir` is undefined.
 */
function inspectorRecording(
  dir: string | undefined,
  file: string,
  begin: (s: Session) => Promise<unknown>,
  end: (s: Session) => Promise<{ profile: unknown }>
): { start(): Promise<void>; stop(): Promise<void> } {
  let session: Session | undefined;
  return {
    async start(): Promise<void> {
      if (dir === undefined || session !== undefined) return;
      const s = new Session();
      s.connect();
      try {
        await begin(s);
        session = s;
      } catch (err) {
        s.disconnect();
        console.error(`[node peer] ${file}: not recorded: ${String(err)}`);
      }
    },
    // Never throws: a recording that cannot be saved must not stop the writer's stop.
    async stop(): Promise<void> {
      if (dir === undefined || session === undefined) return;
      const s = session;
      session = undefined;
      try {
        const { profile } = await end(s);
        writeFileSync(join(dir, file), JSON.stringify(profile));
      } catch (err) {
        console.error(`[node peer] ${file}: not saved: ${String(err)}`);
      } finally {
        s.disconnect();
      }
    }
  };
}

const phaseProfile = inspectorRecording(
  process.env.TABULA_NODE_LOAD_PROF,
  `${PROFILE_PHASE}-${process.pid}.cpuprofile`,
  async (s) => {
    await s.post('Profiler.enable');
    await s.post('Profiler.start');
  },
  (s) => s.post('Profiler.stop')
);

/**
 * TABULA_NODE_HEAP_PROF=dir: V8's sampling heap profile (allocation sites of the objects still
 * alive) from the start of the writes to their stop, written there as heap-<pid>.heapprofile
 * (open it in Chrome DevTools, Memory tab). Diagnostics only.
 */
const heapProfile = inspectorRecording(
  process.env.TABULA_NODE_HEAP_PROF,
  `heap-${process.pid}.heapprofile`,
  async (s) => {
    await s.post('HeapProfiler.enable');
    await s.post('HeapProfiler.startSampling', { samplingInterval: 32 * 1024 });
  },
  (s) => s.post('HeapProfiler.stopSampling')
);

/** CPU this process used since the writes started, per wall second (cores, all threads). */
function cpuCoresSince(w: WriterState): number {
  const cpu = process.cpuUsage(w.cpu0);
  return (cpu.user + cpu.system) / 1000 / (performance.now() - w.wall0);
}

async function stopWriting(): Promise<NodePeerStopped> {
  const w = writer;
  if (w === undefined) return { acks: [], failures: [], unanswered: 0, cpuCores: 0 };
  clearInterval(w.timer);
  // Over the writer's own load (not the stop request's wait, nor a load profile being saved).
  const cpuCores = w.cpuCores ?? cpuCoresSince(w);
  const until = Date.now() + NODE_PEER_STOP_WAIT_MS;
  while (w.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  writer = undefined;
  // Copies: writes answered later must not change what the test was told.
  return { acks: [...w.acks], failures: [...w.failures], unanswered: w.inFlight, cpuCores };
}

async function summary(): Promise<NodePeerSummary> {
  const s = lastStatus ?? (await node.api.status());
  const feeds = await node.api.feeds();
  return {
    peerId: s.peerId,
    root: s.sync.root,
    entries: s.ledger.entries,
    heads: Object.fromEntries(feeds.map((f) => [f.author, f.seq])),
    syncStreams: s.sync.openStreams,
    sync: s.sync,
    peers: s.peers.map((p) => ({ id: p.id, transport: p.transport, relay: p.relay })),
    queue: s.ledger.queue,
    gossip: s.gossip
  };
}

/** heapUsed after a full GC (the child runs with --expose-gc), bytes. */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

async function handle(req: NodePeerRequest): Promise<unknown> {
  switch (req.cmd) {
    case 'summary':
      return summary();
    case 'write':
      startWriting(req.prefix, req.perSec, req.durationMs);
      if (PROFILE_PHASE === 'load') await phaseProfile.start();
      await heapProfile.start();
      return null;
    case 'stopWrite':
      await heapProfile.stop();
      if (PROFILE_PHASE === 'load') await phaseProfile.stop();
      else {
        // The catch-up after the writes: profiled for TABULA_NODE_PROF_MS from the stop.
        await phaseProfile.start();
        setTimeout(() => void phaseProfile.stop(), Number(process.env.TABULA_NODE_PROF_MS ?? 20_000));
      }
      return stopWriting();
    case 'heap':
      return heapUsed();
    case 'stop':
      await stopWriting();
      await node.stop();
      setTimeout(() => process.exit(0), 50);
      return null;
  }
}

process.on('message', (req: NodePeerRequest) => {
  void handle(req).then(
    (value) => process.send!({ id: req.id, ok: true, value } satisfies NodePeerReply),
    (err: unknown) => process.send!({ id: req.id, ok: false, error: String(err) } satisfies NodePeerReply)
  );
});
process.send!({ id: 0, ok: true, value: 'ready' } satisfies NodePeerReply);
