// Simulated Tabula nodes for browser tests (fault suite S10): each is a Node.js child process
// (test/helpers/node-peer-main.ts) running the worker's own node (src/lib/worker/node-runtime.ts
// startNode: core Ledger on the core's memory store, or on Dexie over fake-indexeddb, SyncEngine
// + SyncDriver, entry gossip, telemetry) on the browser's libp2p stack. WebRTC comes from node-datachannel (@libp2p/webrtc's
// Node build), so a simulated node reserves a slot on the real relay, is found through pubsub
// peer discovery and links directly with the tabs and the other simulated nodes, exactly as a
// tab does; sync and gossip then run over those links. One process per node: each has its own
// store (hence its own identity) and its own heap. Usage:
//
//   const n = await NodePeer.start('http://127.0.0.1:18080');
//   await n.write('n0-', 100); ...; const { acks } = await n.stopWrite();
//   (await n.summary()).root; await n.heap(); await n.stop();
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { NodeStatus } from '../../src/lib/worker/messages.js';

/** What stopWrite() returns: receipts, failures, and writes started but not answered in time. */
export interface NodePeerStopped {
  acks: NodePeerAck[];
  failures: string[];
  unanswered: number;
  /** CPU this process used over its own load (from its writes' start until its `durationMs` ran out, else until the stop), per wall second (cores). */
  cpuCores: number;
}

/** stopWrite() waits this long at most for the writes in flight, ms (under NODE_PEER_CALL_TIMEOUT_MS). */
export const NODE_PEER_STOP_WAIT_MS = 30_000;

/** An acknowledged write: put() resolved with this receipt. */
export interface NodePeerAck {
  key: string;
  seq: number;
  hash: string;
  author: string;
}

/** What a node holds: heads root, entry count, heads per author, connected peers. */
export interface NodePeerSummary {
  peerId: string;
  root: string;
  entries: number;
  heads: Record<string, number>;
  /** Sync streams open now (SyncDriver: one per direct link). */
  syncStreams: number;
  /** The node's whole sync status (engine and driver), as status().sync in a tab. */
  sync: NodeStatus['sync'];
  peers: { id: string; transport: string; relay: boolean }[];
  /** Where the ledger's queue spent its time (core/write-timings.ts). */
  queue?: NodeStatus['ledger']['queue'];
  /** Entry gossip counters (absent until gossip runs). */
  gossip?: NodeStatus['gossip'];
}

/** Parent → child. `id` 0 is reserved for the child's "ready". */
export type NodePeerRequest = { id: number } & (
  | { cmd: 'summary' }
  | { cmd: 'write'; prefix: string; perSec: number; durationMs?: number }
  | { cmd: 'stopWrite' }
  | { cmd: 'heap' }
  | { cmd: 'stop' }
);

/** Child → parent. */
export type NodePeerReply = { id: number } & ({ ok: true; value: unknown } | { ok: false; error: string });

/** A request to the child failed or it did not start in time. */
export class NodePeerError extends Error {
  override name = 'NodePeerError';
}

/** How long a child may take to load and start its node, ms. */
export const NODE_PEER_START_TIMEOUT_MS = 60_000;
/** How long one request may take, ms. */
export const NODE_PEER_CALL_TIMEOUT_MS = 60_000;

const MAIN = fileURLToPath(new URL('./node-peer-main.ts', import.meta.url));

/** Handle on one simulated node (a child process). */
export class NodePeer {
  private nextId = 1;
  private readonly waiting = new Map<number, (r: NodePeerReply) => void>();
  private exited = false;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (r: NodePeerReply) => this.waiting.get(r.id)?.(r));
    child.on('exit', (code) => {
      this.exited = true;
      for (const [id, done] of this.waiting) done({ id, ok: false, error: `node peer exited (${code})` });
    });
  }

  /**
   * Forks a node against the site at `origin` (e.g. http://127.0.0.1:18080); resolves once it
   * runs. `store`: the core's memory store (default, lightest) or Dexie over fake-indexeddb;
   * `maxRelays`: relays used at once (default the app's).
   * Throws NodePeerError if it has not started within NODE_PEER_START_TIMEOUT_MS.
   */
  static async start(origin: string, opts: { store?: 'memory' | 'dexie'; maxRelays?: number } = {}): Promise<NodePeer> {
    const child = fork(MAIN, [], {
      execArgv: [
        '--import',
        'tsx',
        '--expose-gc',
        // A young generation of 64 MiB semi-spaces (V8's default is 16 on 64-bit): the node
        // allocates fast (gossip frames, decoded entries, Yjs updates) and most of it dies young.
        // In S10 (2026-12-02, load profiles of all four nodes) garbage collection took 12-30% of
        // their busy CPU during the load with the default (at ff777e5) and 7-11% with this (at
        // f459b03, which also verifies with libsodium, and with the flag on every Node process of
        // the run); bench/results/soak-2026-12-02d-S10-cpu.txt, docs/s10-load-log.md.
        '--max-semi-space-size=64',
        // A V8 CPU profile per simulated node, written to this directory when it stops.
        ...(process.env.TABULA_NODE_CPU_PROF === undefined
          ? []
          : ['--cpu-prof', `--cpu-prof-dir=${process.env.TABULA_NODE_CPU_PROF}`])
      ],
      env: {
        ...process.env,
        TABULA_ORIGIN: origin,
        TABULA_NODE_STORE: opts.store ?? 'memory',
        // InitConfig.maxRelays (`?relays=N` in a page): 1 pins the node to the site's relay.
        ...(opts.maxRelays === undefined ? {} : { TABULA_NODE_MAX_RELAYS: String(opts.maxRelays) }),
        // libp2p's debug logs of the simulated nodes only (e.g. 'libp2p:webrtc*'), not the relay's.
        ...(process.env.TABULA_NODE_DEBUG === undefined ? {} : { DEBUG: process.env.TABULA_NODE_DEBUG })
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // A session of its own: see schedGroup(). It exits when this process's IPC channel closes
      // (node-peer-main.ts), so it does not outlive a runner killed by process group.
      detached: true
    });
    // TABULA_NODE_NICE=n (diagnostics only, never in a reported run): the simulated node runs at
    // that scheduling priority (negative: more CPU than the browsers' threads; needs privileges),
    // to tell a CPU-share problem from a protocol one.
    const nice = process.env.TABULA_NODE_NICE;
    if (nice !== undefined && child.pid !== undefined) setPriority(child.pid, Number(nice));
    const peer = new NodePeer(child);
    try {
      await peer.reply(0, NODE_PEER_START_TIMEOUT_MS);
    } catch (err) {
      // Not handed to the caller, so nobody else would stop it (its own session: no group kill).
      child.kill('SIGKILL');
      throw err;
    }
    return peer;
  }

  /**
   * The child's Linux scheduling group (/proc/PID/autogroup, e.g. "/autogroup-73 nice 0"), or
   * null where the kernel has none. With autogroup (sched_autogroup_enabled, the default on
   * desktop kernels and on this machine) the kernel shares the CPU between sessions before
   * threads. Playwright starts the browser in a session of its own; children forked into the test
   * runner's session shared one group with it, and in S10 the four simulated nodes got 0.11-0.28
   * cores among them early in the load while the tabs' renderer processes got 1.15-1.36 (per-thread
   * CPU from /proc, 2026-12-02, bench/results/soak-2026-12-02c-S10-sched.txt): they acknowledged
   * 0.8-2.3k of the 24k writes offered to them.
   * Each simulated node stands for a device of its own, so each now starts in a session (hence an
   * autogroup) of its own, as the browser does.
   */
  /** The child process's PID (undefined if it failed to spawn). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  schedGroup(): string | null {
    try {
      return readFileSync(`/proc/${this.child.pid}/autogroup`, 'utf8').trim();
    } catch {
      return null;
    }
  }

  summary(): Promise<NodePeerSummary> {
    return this.call({ cmd: 'summary' }) as Promise<NodePeerSummary>;
  }

  /**
   * Starts writes `${prefix}${i}` at about `perSec` per second (at most 64 unanswered), for
   * `durationMs` at most when given (the node stops starting writes by its own clock then).
   */
  async write(prefix: string, perSec: number, durationMs?: number): Promise<void> {
    await this.call({ cmd: 'write', prefix, perSec, ...(durationMs === undefined ? {} : { durationMs }) });
  }

  /**
   * Stops starting writes; resolves once every started one is answered, or after
   * NODE_PEER_STOP_WAIT_MS with those still unanswered counted in `unanswered` (a starved node's
   * writes can wait longer than a request may), with the receipts so far.
   */
  stopWrite(): Promise<NodePeerStopped> {
    return this.call({ cmd: 'stopWrite' }) as Promise<NodePeerStopped>;
  }

  /** The child's V8 heapUsed after a forced full GC, bytes. */
  heap(): Promise<number> {
    return this.call({ cmd: 'heap' }) as Promise<number>;
  }

  /** Stops the node cleanly, then the process; kills it (by its PID) if that takes over 10 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    await Promise.race([this.call({ cmd: 'stop' }).catch(() => undefined), gone]);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }

  private async call(req: { cmd: NodePeerRequest['cmd'] } & Record<string, unknown>): Promise<unknown> {
    if (this.exited) throw new NodePeerError('node peer has exited');
    const id = this.nextId++;
    const answer = this.reply(id, NODE_PEER_CALL_TIMEOUT_MS, req.cmd);
    this.child.send({ ...req, id });
    return answer;
  }

  private reply(id: number, timeoutMs: number, cmd = 'start'): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new NodePeerError(`node peer request ${id} (${cmd}) unanswered after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (r.ok) resolve(r.value);
        else reject(new NodePeerError(r.error));
      });
    });
  }
}
