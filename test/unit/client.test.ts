import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, RemoteError, type TabulaClient } from '../../src/lib/client/client.js';
import { NODE_METHODS } from '../../src/lib/client/tab-protocol.js';
import { CLOSE_GRACE_MS } from '../../src/lib/client/worker-node.js';
import type { FromWorker, NodeStatus, ToWorker } from '../../src/lib/worker/messages.js';
import { FakeLocks } from '../helpers/fake-tabs.js';
import { pollUntil } from '../helpers/poll.js';

/** Wait until `cond` holds, polling the event loop (channel messages are async). */
const until = (cond: () => boolean, what = 'condition') => pollUntil(cond, what, 2000, 2);

const STATUS = { peerId: 'peer-x', author: 'author-x', online: true, peers: [] } as unknown as NodeStatus;

/** Stands in for the node's dedicated worker: answers calls with `answer`, records what it got. */
class FakeWorker extends EventTarget {
  readonly received: ToWorker[] = [];
  terminated = false;
  answer: (method: string, args: unknown[]) => unknown = (m, a) => ({ m, a });
  fail: { name: string; message: string; code?: string } | undefined;

  postMessage(msg: ToWorker): void {
    this.received.push(msg);
    if (msg.kind === 'init') {
      this.send({ kind: 'event', event: { type: 'phase', phase: 'running' } });
      this.send({ kind: 'event', event: { type: 'status', status: STATUS } });
    } else if (msg.kind === 'call') {
      const reply: FromWorker =
        this.fail === undefined
          ? { kind: 'result', id: msg.id, ok: true, value: this.answer(msg.method, msg.args) }
          : { kind: 'result', id: msg.id, ok: false, error: this.fail };
      this.send(reply);
    }
  }
  send(msg: FromWorker): void {
    setTimeout(() => this.dispatchEvent(new MessageEvent('message', { data: msg })), 0);
  }
  terminate(): void {
    this.terminated = true;
  }
}

let clients: TabulaClient[] = [];

function tab(): { client: TabulaClient; worker: FakeWorker } {
  const worker = new FakeWorker();
  const client = createClient({ worker: worker as unknown as Worker });
  clients.push(client);
  return { client, worker };
}

beforeEach(() => {
  vi.stubGlobal('location', { origin: 'http://127.0.0.1:1' });
  vi.stubGlobal('navigator', { locks: new FakeLocks() });
});

afterEach(() => {
  for (const c of clients) c.close();
  clients = [];
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('createClient', () => {
  it('the first tab starts the worker; a second tab uses it through the first, with the whole API', async () => {
    const a = tab();
    await until(() => a.client.phase === 'running', 'a runs');
    const init = a.worker.received[0];
    expect(init).toMatchObject({ kind: 'init', config: { origin: 'http://127.0.0.1:1', iceServers: [] } });
    expect(init?.kind === 'init' && init.bridge).toBeInstanceOf(MessagePort);

    const b = tab();
    await until(() => b.client.phase === 'running' && b.client.lastStatus !== undefined, 'b mirrors a');
    expect([a.client.role, b.client.role]).toEqual(['leader', 'follower']);
    expect(b.client.lastStatus).toEqual(STATUS);
    for (const m of NODE_METHODS) expect(typeof b.client[m]).toBe('function');

    // A write carries its call id as its tag (a re-sent one is made once: tab-broker.ts).
    const tag = { tag: expect.stringMatching(/^[\w-]+:\d+$/) as unknown };
    expect(await b.client.put('k', [1, 'two'])).toEqual({ m: 'put', a: ['k', [1, 'two'], tag] });
    expect(await b.client.echo('peer', new Uint8Array([9]))).toEqual({ m: 'echo', a: ['peer', new Uint8Array([9])] });
    expect(a.worker.received.filter((m) => m.kind === 'call').map((m) => m.kind === 'call' && m.method)).toEqual([
      'put',
      'echo'
    ]);
    expect(b.worker.received).toEqual([]);
  });

  it('errors from the node reach a follower with their name and code', async () => {
    const a = tab();
    const b = tab();
    await until(() => b.client.phase === 'running');
    a.worker.fail = { name: 'StorageQuotaError', message: 'quota exceeded', code: 'quota' };
    const err = await b.client.put('k', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ name: 'StorageQuotaError', code: 'quota', message: 'quota exceeded' });
  });

  it("a failed start reaches every tab's onFatal", async () => {
    const a = tab();
    const b = tab();
    await until(() => b.client.phase === 'running');
    const seen: string[] = [];
    a.client.onFatal((e) => seen.push(`a:${e.name}`));
    b.client.onFatal((e) => seen.push(`b:${e.name}`));
    a.worker.send({ kind: 'fatal', error: { name: 'CorruptStoreError', message: 'bad' } });
    await until(() => seen.length === 2, 'both tabs told');
    expect(seen.sort()).toEqual(['a:CorruptStoreError', 'b:CorruptStoreError']);
  });

  it('close() in the leader stops the node, then ends its worker after the grace period', async () => {
    const a = tab();
    await until(() => a.client.phase === 'running');
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    a.client.close();
    expect(a.worker.received.at(-1)).toEqual({ kind: 'stop' });
    expect(a.worker.terminated).toBe(false);
    vi.advanceTimersByTime(CLOSE_GRACE_MS);
    expect(a.worker.terminated).toBe(true);
    await expect(a.client.status()).rejects.toMatchObject({ name: 'ClientClosedError' });
  });
});
