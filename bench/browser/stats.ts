// Summaries and tables of bench samples: median and p99 of per-sample times, throughput, ratio.
import type { Series } from './protocol.js';

export interface Summary {
  name: string;
  samples: number;
  perSample: number;
  medianMs: number;
  p99Ms: number;
  /** Items per second over all samples (total items / total time). */
  perSec: number;
}

/** Row of a benchmark table: a variant of ours or a comparator, with its ratio to the comparator. */
export interface ResultRow extends Summary {
  bench: string;
  workload: string;
  role: 'ours' | 'comparator';
  comparator: string;
  /** perSec / comparator perSec (higher is better for us); 1 for the comparator itself. */
  ratio: number;
  target: string;
}

/** Nearest-rank quantile of `xs` (q in [0, 1]); NaN for no samples. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/**
 * Nearest-rank quantile of `xs` plus `missing` samples that never arrived, counted as later than
 * any that did (+Infinity): Infinity when the rank falls on them, and never computed from the
 * survivors alone as if they were all. NaN for no samples at all.
 */
export function quantileWithMissing(xs: readonly number[], missing: number, q: number): number {
  return quantile(missing > 0 ? [...xs, ...Array<number>(missing).fill(Infinity)] : xs, q);
}

export function summarize(s: Series): Summary {
  const total = s.ms.reduce((a, b) => a + b, 0);
  return {
    name: s.name,
    samples: s.ms.length,
    perSample: s.perSample,
    medianMs: quantile(s.ms, 0.5),
    p99Ms: quantile(s.ms, 0.99),
    perSec: total > 0 ? (s.ms.length * s.perSample * 1000) / total : NaN
  };
}

const num = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

/** A markdown table of rows (one benchmark), ready to print or paste. */
export function formatTable(title: string, rows: readonly ResultRow[], notes: readonly string[]): string {
  const head = '| variant | samples × items | median ms | p99 ms | items/s | ratio to comparator |';
  const lines = [`## ${title}`, ...notes.map((n) => `- ${n}`), '', head, '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const name = r.role === 'comparator' ? `${r.name} (comparator)` : r.name;
    lines.push(
      `| ${name} | ${r.samples} × ${r.perSample} | ${num(r.medianMs, 2)} | ${num(r.p99Ms, 2)} | ${num(r.perSec, 0)} | ${num(r.ratio, 2)}× |`
    );
  }
  if (rows[0]) lines.push(`target: ${rows[0].target}`);
  return lines.join('\n');
}
