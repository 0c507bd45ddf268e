// Summaries of a bench row run several times (issue 11: "our median, p99"): rows 2 and 6 of the
// Node half. Quantiles are nearest-rank (bench/browser/stats.ts): with fewer than 100 runs the p99
// is the largest run. Pure functions, unit-tested (test/unit/bench-runs.test.ts).
import { quantile } from './browser/stats.js';

/** A figure over the runs: median and p99 (nearest-rank), smallest and largest. */
export interface Spread {
  median: number;
  p99: number;
  min: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new Error('no runs to summarise');
  return { median: quantile(xs, 0.5), p99: quantile(xs, 0.99), min: Math.min(...xs), max: Math.max(...xs) };
}

/**
 * A figure that can differ between runs (bytes, round trips): the median, and the largest in
 * parentheses when the runs differed; a bare figure was the same in every run.
 */
export function medianMaxCell(s: Spread, fmt: (x: number) => string = String): string {
  return s.min === s.max ? fmt(s.median) : `${fmt(s.median)} (max ${fmt(s.max)})`;
}
