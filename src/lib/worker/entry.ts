// Dedicated worker entry: the Tabula node. The page sends `init` with the RTC bridge port first.
/// <reference lib="webworker" />
import { installRtcBridge } from './rtc-bridge-worker.js';
import { errorInfo } from './rtc-bridge-protocol.js';
import type { FromWorker, NodeEvent, NodePhase, ToWorker } from './messages.js';
import type { RunningNode } from './node-runtime.js';
import { networkScopedName } from '../client/network-pin.js';
import { preciseNow } from '../client/rpc-trace.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
/**
 * One node per browser profile: only the leader tab starts this worker (client/tab-broker.ts), and
 * this lock makes a new leader's node wait ("standby") until the previous one has fully stopped.
 */
const LOCK_NAME = 'tabula-node';
let node: Promise<RunningNode> | undefined;
let phase: NodePhase = 'starting';

function post(msg: FromWorker): void {
  scope.postMessage(msg);
}

function emit(event: NodeEvent): void {
  if (event.type === 'phase') phase = event.phase;
  post({ kind: 'event', event });
}

async function start(msg: Extract<ToWorker, { kind: 'init' }>): Promise<RunningNode> {
  installRtcBridge(msg.bridge);
  // Imported only now: @libp2p/webrtc reads globalThis.RTCPeerConnection when its module loads.
  const { startNode } = await import('./node-runtime.js');
  return startNode(msg.config, emit);
}

/** Holds the profile's node lock for the worker's lifetime; resolves once the node runs. */
function boot(msg: Extract<ToWorker, { kind: 'init' }>): Promise<RunningNode> {
  emit({ type: 'phase', phase: 'starting' });
  // Per network: each network's store has its own node.
  const lockName = networkScopedName(LOCK_NAME, msg.config.network);
  return new Promise((resolve, reject) => {
    const run = async (lock: Lock | null): Promise<void> => {
      if (lock === null) {
        emit({ type: 'phase', phase: 'standby' });
        // Queue for the lock: it is released when the previous leader's worker ends.
        await navigator.locks.request(lockName, run);
        return;
      }
      try {
        const running = await start(msg);
        emit({ type: 'phase', phase: 'running' });
        resolve(running);
      } catch (err) {
        reject(err);
        return;
      }
      await new Promise<never>(() => {});
    };
    navigator.locks.request(lockName, { ifAvailable: true }, run).catch(reject);
  });
}

scope.addEventListener('message', (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if (msg.kind === 'init') {
    if (node !== undefined) return;
    node = boot(msg);
    node.catch((err: unknown) => post({ kind: 'fatal', error: errorInfo(err) }));
    return;
  }
  if (msg.kind === 'stop') {
    // A node still starting or in standby has nothing to flush; closing also frees the lock.
    const running = phase === 'running' ? node : undefined;
    void (running ?? Promise.resolve(undefined))
      .then((n) => n?.stop())
      .catch(() => undefined)
      .finally(() => scope.close());
    return;
  }
  if (msg.kind === 'call') {
    // Calls made while starting or in standby wait for the node (a takeover lasts moments).
    // The four stamps (client/rpc-trace.ts) show where the call's time went.
    const received = preciseNow();
    let started = received;
    let done = received;
    const running = node ?? Promise.reject(new Error('node not initialised'));
    running
      .then((n) => {
        const fn = n.api[msg.method] as ((...args: unknown[]) => unknown) | undefined;
        if (typeof fn !== 'function') throw new TypeError(`unknown method ${String(msg.method)}`);
        started = preciseNow();
        return fn(...msg.args);
      })
      .finally(() => (done = preciseNow()))
      .then(
        (value) =>
          post({ kind: 'result', id: msg.id, ok: true, value, trace: [received, started, done, preciseNow()] }),
        (err: unknown) =>
          post({
            kind: 'result',
            id: msg.id,
            ok: false,
            error: errorInfo(err),
            trace: [received, started, done, preciseNow()]
          })
      );
  }
});
