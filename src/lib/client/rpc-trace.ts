// Where a call's time goes between the page and the node's worker (issue 12, S10): each answered
// call carries the worker's four timestamps (received, started, done, posted); the page adds when
// it sent the call and when the answer reached it. Kept for the last RPC_TRACE_WINDOW calls per
// method and summarised as percentiles per segment. Cheap enough to stay on: six clock reads and
// a four-number array per call. Read it through window.tabula.rpcTrace().
import type { CallStamps } from '../worker/messages.js';

/** Calls kept per method for the summary. */
export const RPC_TRACE_WINDOW = 1024;

/** Segments of one call, ms. */
export interface CallSegments {
  /** Page sent → worker received: the message waited in the worker's task queue. */
  toWorker: number;
  /** Worker received → method started (waiting for the node to run). */
  toStart: number;
  /** The method ran (for put: the ledger's queue, applying, signing, strict commit). */
  run: number;
  /** Method settled → answer posted. */
  toPost: number;
  /** Answer posted → page received it: the answer waited in the page's task queue. */
  toPage: number;
  /** Page sent → page received. */
  total: number;
}

export type SegmentName = keyof CallSegments;

/** Percentiles of one segment over the window, ms (rounded to 0.1). */
export interface SegmentStats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Per method: how many calls were traced (since the start) and the window's percentiles. */
export interface RpcTraceSummary {
  [method: string]: { calls: number; window: number } & Record<SegmentName, SegmentStats>;
}

const SEGMENTS: readonly SegmentName[] = ['toWorker', 'toStart', 'run', 'toPost', 'toPage', 'total'];

/** Now as ms since the epoch with sub-ms precision, comparable across a page and its workers. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The segments of one call from the page's send/receive times and the worker's stamps. */
export function segmentsOf(sent: number, stamps: CallStamps, received: number): CallSegments {
  const [wRecv, wStart, wDone, wPost] = stamps;
  return {
    toWorker: wRecv - sent,
    toStart: wStart - wRecv,
    run: wDone - wStart,
    toPost: wPost - wDone,
    toPage: received - wPost,
    total: received - sent
  };
}

/** Percentile `q` (0..1) of ascending `sorted` (nearest rank). */
function pick(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

function stats(xs: number[]): SegmentStats {
  const s = [...xs].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  const mean = s.length === 0 ? 0 : s.reduce((a, b) => a + b, 0) / s.length;
  return { p50: r(pick(s, 0.5)), p90: r(pick(s, 0.9)), p99: r(pick(s, 0.99)), max: r(s.at(-1) ?? 0), mean: r(mean) };
}

/** Bounded per-method windows of call segments. */
export class RpcTrace {
  private readonly byMethod = new Map<string, { calls: number; ring: CallSegments[]; at: number }>();

  constructor(private readonly window = RPC_TRACE_WINDOW) {}

  record(method: string, segments: CallSegments): void {
    let m = this.byMethod.get(method);
    if (m === undefined) this.byMethod.set(method, (m = { calls: 0, ring: [], at: 0 }));
    m.calls++;
    if (m.ring.length < this.window) m.ring.push(segments);
    else m.ring[m.at] = segments;
    m.at = (m.at + 1) % this.window;
  }

  /** Percentiles per method and segment over the last `window` calls. */
  summary(): RpcTraceSummary {
    const out: RpcTraceSummary = {};
    for (const [method, m] of this.byMethod) {
      const row = { calls: m.calls, window: m.ring.length } as RpcTraceSummary[string];
      for (const seg of SEGMENTS) row[seg] = stats(m.ring.map((c) => c[seg]));
      out[method] = row;
    }
    return out;
  }

  clear(): void {
    this.byMethod.clear();
  }
}
