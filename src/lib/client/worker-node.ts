// The leader tab's side of the node: starts the node's worker, hosts its RTC bridge, and turns
// calls into worker messages. Only the tab holding the leader lock creates one.
import { serveRtcBridge, type BridgeHost } from '../worker/rtc-bridge-host.js';
import { preciseNow, RpcTrace, segmentsOf, type RpcTraceSummary } from './rpc-trace.js';
import type { ErrorInfo, FromWorker, InitConfig, NodeEvent, NodeMethod, ToWorker } from '../worker/messages.js';

/** How long a stopping node may take to close its store and connections before its worker ends. */
export const CLOSE_GRACE_MS = 3000;

/** A running node as the tab broker sees it (the worker here, a fake in unit tests). */
export interface NodeBackend {
  /** Runs `method` on the node; rejects with the node's error (name and code kept). */
  call(method: NodeMethod, args: unknown[]): Promise<unknown>;
  /** The one listener for node events (phase, status, records, conflicts). */
  onEvent(fn: (event: NodeEvent) => void): void;
  /** The one listener for a failed start (corrupt store, no quota...). */
  onFatal(fn: (error: Error) => void): void;
  /** Stops the node cleanly, then ends it; calls still in flight may never answer. */
  stop(): void;
  /** Where recent calls' time went, page ↔ worker (client/rpc-trace.ts); absent on fakes. */
  trace?(): RpcTraceSummary;
}

/** An error thrown in the worker (or in the leader tab's node), with its original name and code. */
export class RemoteError extends Error {
  readonly code: string | undefined;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = info.name;
    this.code = info.code;
  }
}

export interface WorkerNodeOptions {
  config: InitConfig;
  /** For tests: an already-created worker. */
  worker?: Worker;
}

/** Starts the node's dedicated worker (which waits for the profile's node lock before it opens the store). */
export function startWorkerNode(options: WorkerNodeOptions): NodeBackend {
  const worker =
    options.worker ??
    new Worker(new URL('../worker/entry.ts', import.meta.url), { type: 'module', name: 'tabula-node' });
  const channel = new MessageChannel();
  const bridge: BridgeHost = serveRtcBridge(channel.port1);
  const calls = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; method: NodeMethod; sent: number }
  >();
  const trace = new RpcTrace();
  let onEvent: (event: NodeEvent) => void = () => undefined;
  let onFatal: (error: Error) => void = () => undefined;
  let fatal: Error | undefined;
  let nextId = 1;

  const fail = (err: Error): void => {
    if (fatal !== undefined) return;
    fatal = err;
    onFatal(err);
    for (const p of calls.values()) p.reject(err);
    calls.clear();
  };

  worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => {
    const msg = ev.data;
    if (msg.kind === 'result') {
      const pending = calls.get(msg.id);
      calls.delete(msg.id);
      if (pending !== undefined && msg.trace !== undefined)
        trace.record(pending.method, segmentsOf(pending.sent, msg.trace, preciseNow()));
      if (msg.ok) pending?.resolve(msg.value);
      else pending?.reject(new RemoteError(msg.error));
    } else if (msg.kind === 'event') onEvent(msg.event);
    else if (msg.kind === 'fatal') fail(new RemoteError(msg.error));
  });
  worker.addEventListener('error', (ev) => fail(new Error(`worker failed: ${ev.message}`)));
  worker.postMessage({ kind: 'init', config: options.config, bridge: channel.port2 } satisfies ToWorker, [
    channel.port2
  ]);

  return {
    call(method, args) {
      if (fatal !== undefined) return Promise.reject(fatal);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        calls.set(id, { resolve, reject, method, sent: preciseNow() });
        try {
          worker.postMessage({ kind: 'call', id, method, args } as ToWorker);
        } catch (err) {
          // DataCloneError: the arguments cannot cross to the worker (a function, a DOM node...).
          calls.delete(id);
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    },
    onEvent(fn) {
      onEvent = fn;
    },
    trace: () => trace.summary(),
    onFatal(fn) {
      onFatal = fn;
      if (fatal !== undefined) fn(fatal);
    },
    stop() {
      calls.clear();
      // Let the node close its store and connections; end the worker anyway if it does not.
      worker.postMessage({ kind: 'stop' } satisfies ToWorker);
      setTimeout(() => {
        worker.terminate();
        bridge.close();
      }, CLOSE_GRACE_MS);
    }
  };
}
