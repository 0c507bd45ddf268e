// Chrome DevTools Protocol on a page's dedicated worker (Playwright opens CDP sessions on pages
// only): the page session auto-attaches to its workers (non-flat sessions) and relays messages.
// Used for CPU profiles and heap use of the node's worker.
import type { BrowserContext, CDPSession, Page } from 'playwright-core';

interface TargetInfo {
  type: string;
  title: string;
  url: string;
}
type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
const ATTACH_TIMEOUT_MS = 10_000;

export class WorkerCdp implements Profiler, HeapSource {
  private next = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly page: CDPSession,
    private readonly sessionId: string
  ) {
    page.on('Target.receivedMessageFromTarget', (ev: { sessionId: string; message: string }) => {
      if (ev.sessionId !== this.sessionId) return;
      const msg = JSON.parse(ev.message) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  /** Attaches to the first worker of `page` whose title or URL contains `name`. */
  static async attach(context: BrowserContext, page: Page, name: string): Promise<WorkerCdp> {
    const cdp = await context.newCDPSession(page);
    const found = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no worker "${name}" to attach to`)), ATTACH_TIMEOUT_MS);
      cdp.on('Target.attachedToTarget', (ev: { sessionId: string; targetInfo: TargetInfo }) => {
        const t = ev.targetInfo;
        if (t.type === 'worker' && (t.title.includes(name) || t.url.includes(name))) {
          clearTimeout(timer);
          resolve(ev.sessionId);
        }
      });
    });
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    return new WorkerCdp(cdp, await found);
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    const done = new Promise<T>((resolve, reject) =>
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
    );
    const message = JSON.stringify({ id, method, params });
    void this.page.send('Target.sendMessageToTarget', { sessionId: this.sessionId, message });
    return done;
  }

  /** JS heap in use now (no GC), in bytes. */
  heapUsed(): Promise<{ usedSize: number }> {
    return this.send('Runtime.getHeapUsage');
  }

  /** JS heap in use after a full GC, in bytes. */
  async heapAfterGc(): Promise<{ usedSize: number; totalSize: number }> {
    await this.send('HeapProfiler.collectGarbage');
    return this.send('Runtime.getHeapUsage');
  }

  async startProfile(intervalUs = 1000): Promise<void> {
    await this.send('Profiler.enable');
    await this.send('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.send('Profiler.start');
  }

  async stopProfile(): Promise<CpuProfile> {
    const { profile } = await this.send<{ profile: CpuProfile }>('Profiler.stop');
    return profile;
  }

  async detach(): Promise<void> {
    await this.page.detach().catch(() => undefined);
  }
}

/** Something that can record a CPU profile: a worker (WorkerCdp) or a page (pageProfiler). */
export interface Profiler {
  startProfile(intervalUs?: number): Promise<void>;
  stopProfile(): Promise<CpuProfile>;
}

/** Something whose JS heap can be read (bytes): a worker (WorkerCdp) or a page (pageProfiler). */
export interface HeapSource {
  /** JS heap in use now (no GC), bytes. */
  heapUsed(): Promise<{ usedSize: number }>;
  /** JS heap in use after a full GC, bytes. */
  heapAfterGc(): Promise<{ usedSize: number }>;
}

/** CPU profiles and the JS heap of a page's main thread, through a CDP session on the page. */
export async function pageProfiler(context: BrowserContext, page: Page): Promise<Profiler & HeapSource> {
  const cdp = await context.newCDPSession(page);
  const heapUsed = async () => (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  return {
    heapUsed,
    async heapAfterGc() {
      await cdp.send('HeapProfiler.collectGarbage');
      return heapUsed();
    },
    async startProfile(intervalUs = 1000) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: intervalUs });
      await cdp.send('Profiler.start');
    },
    async stopProfile() {
      return ((await cdp.send('Profiler.stop')) as unknown as { profile: CpuProfile }).profile;
    }
  };
}

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

type ProfileNode = CpuProfile['nodes'][number];

function keyOf(n: ProfileNode): string {
  const f = n.callFrame;
  const file = f.url.split('/').pop() ?? '';
  return `${f.functionName || '(anonymous)'} (${file}:${f.lineNumber + 1})`;
}

const share = (v: number, total: number) => `${((100 * v) / Math.max(1, total)).toFixed(1)}%`;

/**
 * The `top` functions by self time (share of samples), as "share% name (file:line)"; `busy`: as a
 * share of the samples that were not idle (idle left out).
 */
export function topSelf(profile: CpuProfile, top = 12, busy = false): string[] {
  const byFn = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0 || (busy && n.callFrame.functionName === '(idle)')) continue;
    total += hits;
    byFn.set(keyOf(n), (byFn.get(keyOf(n)) ?? 0) + hits);
  }
  return [...byFn.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `self ${share(v, total)} ${k}`);
}

/**
 * The `top` functions by total time (their own samples and their callees'), each sample counted
 * once per function even under recursion; the root and idle are left out.
 */
export function topTotal(profile: CpuProfile, top = 15): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  const walk = (n: ProfileNode, open: Set<string>): number => {
    let hits = n.hitCount ?? 0;
    const key = keyOf(n);
    const fresh = !open.has(key);
    if (fresh) open.add(key);
    for (const c of n.children ?? []) hits += walk(byId.get(c)!, open);
    if (fresh) {
      open.delete(key);
      totals.set(key, (totals.get(key) ?? 0) + hits);
    }
    return hits;
  };
  const root = profile.nodes[0];
  if (root) all = walk(root, new Set());
  return [...totals.entries()]
    .filter(([k]) => !k.startsWith('(root)') && !k.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `total ${share(v, all)} ${k}`);
}
