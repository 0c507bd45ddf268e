// The typed client the UI (and window.tabula) uses. It starts the node's worker, hosts the
// worker's RTC bridge, and turns NodeApi calls into messages.
import { serveRtcBridge, type BridgeHost } from '../worker/rtc-bridge-host.js';
import type {
  ErrorInfo,
  FromWorker,
  InitConfig,
  NodeApi,
  NodeEvent,
  NodeMethod,
  NodePhase,
  NodeStatus,
  RemoteApi,
  ToWorker
} from '../worker/messages.js';

export interface TabulaClient extends RemoteApi {
  /** The last status the node pushed, or undefined before the first. */
  readonly lastStatus: NodeStatus | undefined;
  readonly phase: NodePhase;
  /** Every node event (status, records, conflicts, phase); returns an unsubscribe function. */
  subscribe(fn: (event: NodeEvent) => void): () => void;
  /** Called if the node fails to start (for example a corrupt store or no storage quota). */
  onFatal(fn: (error: Error) => void): () => void;
  /** Stops the node cleanly (its store and connections), then ends its worker. */
  close(): void;
}

const CLOSE_GRACE_MS = 3000;

export interface ClientOptions {
  /** ICE servers for WebRTC. Default none: host candidates only, no outside server contacted. */
  iceServers?: RTCIceServer[];
  origin?: string;
  /** For tests: an already-created worker. */
  worker?: Worker;
}

/** An error thrown in the worker, with its original name and code (e.g. StorageQuotaError). */
export class RemoteError extends Error {
  readonly code: string | undefined;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = info.name;
    this.code = info.code;
  }
}

export function createClient(options: ClientOptions = {}): TabulaClient {
  const worker =
    options.worker ??
    new Worker(new URL('../worker/entry.ts', import.meta.url), { type: 'module', name: 'tabula-node' });
  const channel = new MessageChannel();
  const bridge: BridgeHost = serveRtcBridge(channel.port1);
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(e: NodeEvent) => void>();
  const fatalListeners = new Set<(e: Error) => void>();
  let fatal: Error | undefined;
  let nextId = 1;
  let last: NodeStatus | undefined;
  let phase: NodePhase = 'starting';

  const fail = (err: Error): void => {
    fatal = err;
    for (const fn of fatalListeners) fn(err);
    for (const p of calls.values()) p.reject(err);
    calls.clear();
  };

  worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => {
    const msg = ev.data;
    switch (msg.kind) {
      case 'result': {
        const pending = calls.get(msg.id);
        calls.delete(msg.id);
        if (msg.ok) pending?.resolve(msg.value);
        else pending?.reject(new RemoteError(msg.error));
        return;
      }
      case 'event':
        if (msg.event.type === 'status') last = msg.event.status;
        if (msg.event.type === 'phase') phase = msg.event.phase;
        for (const fn of listeners) fn(msg.event);
        return;
      case 'fatal':
        return fail(new RemoteError(msg.error));
    }
  });
  worker.addEventListener('error', (ev) => fail(new Error(`worker failed: ${ev.message}`)));

  const config: InitConfig = { origin: options.origin ?? location.origin, iceServers: options.iceServers ?? [] };
  const init: ToWorker = { kind: 'init', config, bridge: channel.port2 };
  worker.postMessage(init, [channel.port2]);

  function call<M extends NodeMethod>(
    method: M,
    ...args: Parameters<NodeApi[M]>
  ): Promise<Awaited<ReturnType<NodeApi[M]>>> {
    if (fatal !== undefined) return Promise.reject(fatal);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        worker.postMessage({ kind: 'call', id, method, args } as ToWorker);
      } catch (err) {
        // DataCloneError: the arguments cannot cross to the worker (a function, a DOM node...).
        calls.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  return {
    get lastStatus() {
      return last;
    },
    get phase() {
      return phase;
    },
    status: () => call('status'),
    echo: (peerId, data) => call('echo', peerId, data),
    put: (key, value) => call('put', key, value),
    delete: (key) => call('delete', key),
    get: (key) => call('get', key),
    records: () => call('records'),
    conflicts: () => call('conflicts'),
    feeds: () => call('feeds'),
    exportSnapshot: (kind) => call('exportSnapshot', kind),
    importSnapshot: (bytes) => call('importSnapshot', bytes),
    subscribe(fn) {
      listeners.add(fn);
      fn({ type: 'phase', phase });
      if (last !== undefined) fn({ type: 'status', status: last });
      return () => listeners.delete(fn);
    },
    onFatal(fn) {
      fatalListeners.add(fn);
      if (fatal !== undefined) fn(fatal);
      return () => fatalListeners.delete(fn);
    },
    close() {
      // Later calls fail at once; onFatal listeners are not told: closing is not a failure.
      fatal = new Error('client closed');
      for (const p of calls.values()) p.reject(fatal);
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
