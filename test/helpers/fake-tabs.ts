// Test doubles for the tab broker: a FIFO Web Lock, a BroadcastChannel that can be cut (a crashed
// tab), and an in-memory node whose store is shared by every tab of one "profile".
import type { NodeBackend } from '../../src/lib/client/worker-node.js';
import type { TabChannel, TabLocks } from '../../src/lib/client/tab-broker.js';
import type { NodeEvent, NodeMethod, NodeStatus } from '../../src/lib/worker/messages.js';

interface LockRequest {
  callback: (lock: unknown) => Promise<void>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** One exclusive lock name, granted in request order, asynchronously (as browsers do). */
export class FakeLocks implements TabLocks {
  private holder: LockRequest | undefined;
  private readonly queue: LockRequest[] = [];

  request(_name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>) {
    return new Promise<unknown>((resolve, reject) => {
      const req: LockRequest = { callback, resolve, reject };
      options.signal?.addEventListener('abort', () => {
        const i = this.queue.indexOf(req);
        if (i < 0) return;
        this.queue.splice(i, 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
      this.queue.push(req);
      queueMicrotask(() => this.pump());
    });
  }

  /** What the browser does when the holding tab dies: the lock passes on at once. */
  crashHolder(): void {
    this.holder = undefined;
    queueMicrotask(() => this.pump());
  }

  /** Holds the lock from outside (another tab that never answers) until the returned function runs. */
  holdExternally(): () => void {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    void this.request('x', {}, () => held);
    return release;
  }

  private pump(): void {
    if (this.holder !== undefined) return;
    const req = this.queue.shift();
    if (req === undefined) return;
    this.holder = req;
    req.callback({}).then(
      (v) => {
        if (this.holder === req) this.holder = undefined;
        req.resolve(v);
        this.pump();
      },
      (e: unknown) => {
        if (this.holder === req) this.holder = undefined;
        req.reject(e);
        this.pump();
      }
    );
  }
}

/** A BroadcastChannel that a test can cut: the tab neither sends nor hears anything (it crashed). */
export class CuttableChannel implements TabChannel {
  cut = false;
  private readonly channel: BroadcastChannel;
  /** While set, what the tab hears waits here (its page's thread is blocked); resume() delivers it. */
  private held: (() => void)[] | undefined;
  constructor(name: string) {
    this.channel = new BroadcastChannel(name);
  }
  postMessage(message: unknown): void {
    if (!this.cut && this.held === undefined) this.channel.postMessage(message);
  }
  addEventListener(_type: 'message', listener: (ev: MessageEvent) => void): void {
    this.channel.addEventListener('message', (ev) => {
      if (this.cut) return;
      if (this.held !== undefined) this.held.push(() => listener(ev as MessageEvent));
      else listener(ev as MessageEvent);
    });
  }
  /** The tab's page blocks: it neither hears nor sends until resume(). */
  pause(): void {
    this.held ??= [];
  }
  resume(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const deliver of held) deliver();
  }
  close(): void {
    this.channel.close();
  }
}

/** The profile's durable store, shared by every tab's node (IndexedDB in the browser). */
export class FakeProfile {
  readonly records = new Map<string, unknown>();
  /** Every committed write, in order: what a ledger feed would hold. */
  readonly log: { key: string; value: unknown }[] = [];
  readonly nodes: FakeNode[] = [];
  /** Makes every node's writes wait. */
  hold: Promise<void> | undefined;
  /** Write tags stored with their writes (as LedgerStore.writeTag): tag → receipt. */
  readonly tags = new Map<string, unknown>();
}

export const FAKE_STATUS = { peerId: 'peer-1', author: 'author-1', online: true, peers: [] } as unknown as NodeStatus;

/** An in-memory node. `hold` makes writes wait; `dead` makes it stop answering (after committing). */
export class FakeNode implements NodeBackend {
  hold: Promise<void> | undefined;
  dead = false;
  stopped = false;
  readonly calls: { method: NodeMethod; args: unknown[] }[] = [];
  private emit: (event: NodeEvent) => void = () => undefined;
  private fatal: (error: Error) => void = () => undefined;

  constructor(
    private readonly profile: FakeProfile,
    private readonly startError?: Error
  ) {
    profile.nodes.push(this);
    setTimeout(() => {
      if (this.startError !== undefined) return this.fatal(this.startError);
      this.emit({ type: 'phase', phase: 'starting' });
      this.emit({ type: 'phase', phase: 'running' });
      this.emit({ type: 'status', status: FAKE_STATUS });
    }, 1);
  }

  async call(method: NodeMethod, args: unknown[]): Promise<unknown> {
    this.calls.push({ method, args });
    if (this.startError !== undefined) throw this.startError;
    const answer = await this.run(method, args);
    // A dead node (its tab crashed) never answers, even for work it finished.
    if (this.dead) await new Promise<never>(() => undefined);
    return answer;
  }

  private async run(method: NodeMethod, args: unknown[]): Promise<unknown> {
    const [key, value] = args as [string, unknown];
    switch (method) {
      case 'put': {
        if (key === '') throw Object.assign(new Error('empty key'), { name: 'InvalidRecordKeyError', code: 'key' });
        const opts = (args[2] ?? {}) as { tag?: string; retry?: boolean };
        // As the Ledger: a retried write whose tag is stored answers with its first receipt.
        if (opts.retry === true && opts.tag !== undefined && this.profile.tags.has(opts.tag))
          return this.profile.tags.get(opts.tag);
        await this.hold;
        await this.profile.hold;
        this.profile.records.set(key, value);
        this.profile.log.push({ key, value });
        this.emit({ type: 'records', changes: [{ key, value } as never] });
        const receipt = { author: 'author-1', seq: this.profile.log.length, hash: `h${this.profile.log.length}` };
        if (opts.tag !== undefined) this.profile.tags.set(opts.tag, receipt);
        return receipt;
      }
      case 'get':
        return this.profile.records.get(key);
      case 'records':
        return [...this.profile.records].map(([k, v]) => ({ key: k, value: v }));
      case 'status':
        return FAKE_STATUS;
      case 'exportSnapshot':
        return { fileName: 'snap.gz', bytes: new Uint8Array([31, 139, 8, 0, 255]) };
      case 'importSnapshot':
        return { kind: 'full', added: (args[0] as Uint8Array).byteLength, skipped: 0, rejected: 0 };
      default:
        throw new Error(`fake node: ${method} not implemented`);
    }
  }

  onEvent(fn: (event: NodeEvent) => void): void {
    this.emit = fn;
  }
  onFatal(fn: (error: Error) => void): void {
    this.fatal = fn;
  }
  stop(): void {
    this.stopped = true;
  }
}
