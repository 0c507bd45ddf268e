// Dedicated worker entry: the Tabula node. The page sends `init` with the RTC bridge port first.
/// <reference lib="webworker" />
import { installRtcBridge } from './rtc-bridge-worker.js';
import type { FromWorker, NodeApi, ToWorker } from './messages.js';
import type { RunningNode } from './node-runtime.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
let node: Promise<RunningNode> | undefined;

function post(msg: FromWorker): void {
  scope.postMessage(msg);
}

function errorInfo(err: unknown): { name: string; message: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
}

async function boot(msg: Extract<ToWorker, { kind: 'init' }>): Promise<RunningNode> {
  installRtcBridge(msg.bridge);
  // Imported only now: @libp2p/webrtc reads globalThis.RTCPeerConnection when its module loads.
  const { startNode } = await import('./node-runtime.js');
  return startNode(msg.config, (status) => post({ kind: 'status', status }));
}

async function call(running: RunningNode, msg: Extract<ToWorker, { kind: 'call' }>): Promise<unknown> {
  const api: { [M in keyof NodeApi]: (...args: Parameters<NodeApi[M]>) => unknown } = {
    status: () => running.status(),
    echo: (peerId, data) => running.echo(peerId, data)
  };
  const fn = api[msg.method] as (...args: unknown[]) => unknown;
  if (typeof fn !== 'function') throw new TypeError(`unknown method ${String(msg.method)}`);
  return fn(...msg.args);
}

scope.addEventListener('message', (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if (msg.kind === 'init') {
    if (node !== undefined) return;
    node = boot(msg);
    node.catch((err: unknown) => post({ kind: 'fatal', error: errorInfo(err) }));
    return;
  }
  if (msg.kind === 'call') {
    const running = node ?? Promise.reject(new Error('node not initialised'));
    running
      .then((n) => call(n, msg))
      .then(
        (value) => post({ kind: 'result', id: msg.id, ok: true, value }),
        (err: unknown) => post({ kind: 'result', id: msg.id, ok: false, error: errorInfo(err) })
      );
  }
});
