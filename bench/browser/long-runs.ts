// Names what a main thread's long tasks were: the busy stretches of a CPU profile (consecutive
// samples that are not idle) longer than a threshold, and the functions most of their samples
// were in. A stretch may join tasks that ran back to back with no idle sample between them, so
// it is at least as long as the longest of its tasks (an approximation: 1 ms sampling).
import type { CpuProfile } from './worker-cdp.js';

export interface LongRuns {
  /** Busy stretches longer than the threshold. */
  count: number;
  longestMs: number;
  totalMs: number;
  /** Top functions over the samples of those stretches: "total 41.0% fn (file:line:col)". */
  top: string[];
}

type ProfileNode = CpuProfile['nodes'][number];

function label(n: ProfileNode): string {
  const f = n.callFrame as ProfileNode['callFrame'] & { columnNumber?: number };
  const file = f.url.split('/').pop() ?? '';
  const col = f.columnNumber === undefined ? '' : `:${f.columnNumber + 1}`;
  return `${f.functionName || '(anonymous)'} (${file}:${f.lineNumber + 1}${col})`;
}

/** Stretches of non-idle samples over `minMs` and what their samples were in (each function once per sample). */
export function longRuns(profile: CpuProfile, minMs = 50, top = 12): LongRuns {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isIdle = (id: number) => byId.get(id)?.callFrame.functionName === '(idle)';

  const runs: { from: number; to: number; ms: number }[] = [];
  let from = -1;
  let ms = 0;
  const close = (to: number) => {
    if (from >= 0 && ms > minMs) runs.push({ from, to, ms });
    from = -1;
    ms = 0;
  };
  for (let i = 0; i < samples.length; i++) {
    if (isIdle(samples[i])) {
      close(i);
      continue;
    }
    if (from < 0) from = i;
    else ms += (deltas[i] ?? 0) / 1000;
  }
  close(samples.length);

  const totals = new Map<string, number>();
  let all = 0;
  for (const r of runs) {
    for (let i = r.from; i < r.to; i++) {
      all++;
      const seen = new Set<string>();
      for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
        const key = label(byId.get(id)!);
        if (key.startsWith('(root)') || seen.has(key)) continue;
        seen.add(key);
        totals.set(key, (totals.get(key) ?? 0) + 1);
      }
    }
  }
  const share = (v: number) => `${((100 * v) / Math.max(1, all)).toFixed(1)}%`;
  return {
    count: runs.length,
    longestMs: Math.round(Math.max(0, ...runs.map((r) => r.ms))),
    totalMs: Math.round(runs.reduce((s, r) => s + r.ms, 0)),
    top: [...totals.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `total ${share(v)} ${k}`)
  };
}
