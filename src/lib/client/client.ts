// The typed client the UI (and window.tabula) uses. It starts the node's worker, hosts the
// worker's RTC bridge, and turns NodeApi calls into messages.
import { serveRtcBridge, type BridgeHost } from '../worker/rtc-bridge-host.js';
import type { FromWorker, InitConfig, NodeApi, NodeMethod, NodeStatus, ToWorker } from '../worker/messages.js';

type Async<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

export interface TabulaClient extends Async<NodeApi> {
  /** The last status the node pushed, or undefined before the first. */
  readonly lastStatus: NodeStatus | undefined;
  /** Called with every status update; returns an unsubscribe function. */
  subscribe(fn: (status: NodeStatus) => void): () => void;
  /** Called if the node fails to start. */
  onFatal(fn: (error: Error) => void): () => void;
  close(): void;
}

export interface ClientOptions {
  /** ICE servers for WebRTC. Default none: loopback and LAN host candidates only. */
  iceServers?: RTCIceServer[];
  origin?: string;
  /** For tests: an already-created worker. */
  worker?: Worker;
}

export class RemoteError extends Error {
  constructor(info: { name: string; message: string }) {
    super(info.message);
    this.name = info.name;
  }
}

export function createClient(options: ClientOptions = {}): TabulaClient {
  const worker =
    options.worker ??
    new Worker(new URL('../worker/entry.ts', import.meta.url), { type: 'module', name: 'tabula-node' });
  const channel = new MessageChannel();
  const bridge: BridgeHost = serveRtcBridge(channel.port1);
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(s: NodeStatus) => void>();
  const fatalListeners = new Set<(e: Error) => void>();
  let fatal: Error | undefined;
  let nextId = 1;
  let last: NodeStatus | undefined;

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
      case 'status':
        last = msg.status;
        for (const fn of listeners) fn(msg.status);
        return;
      case 'fatal':
        fatal = new RemoteError(msg.error);
        for (const fn of fatalListeners) fn(fatal);
        for (const p of calls.values()) p.reject(fatal);
        calls.clear();
        return;
    }
  });
  worker.addEventListener('error', (ev) => {
    fatal = new Error(`worker failed: ${ev.message}`);
    for (const fn of fatalListeners) fn(fatal);
  });

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
      worker.postMessage({ kind: 'call', id, method, args } as ToWorker);
    });
  }

  return {
    get lastStatus() {
      return last;
    },
    status: () => call('status'),
    echo: (peerId, data) => call('echo', peerId, data),
    subscribe(fn) {
      listeners.add(fn);
      if (last !== undefined) fn(last);
      return () => listeners.delete(fn);
    },
    onFatal(fn) {
      fatalListeners.add(fn);
      if (fatal !== undefined) fn(fatal);
      return () => fatalListeners.delete(fn);
    },
    close() {
      bridge.close();
      worker.terminate();
      for (const p of calls.values()) p.reject(new Error('client closed'));
      calls.clear();
    }
  };
}
