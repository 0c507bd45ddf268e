// Row 1's figures from its rounds (bench/browser/propagation.ts gathers them in the browsers):
// pure, so the rules below are unit-tested (test/unit/bench-failures.test.ts).
//
// A write that never arrived at a tab (within the drain time after the last write of its round)
// is a missing delivery. It is counted, printed ("applied / expected", and a note), and taken as
// later than every delivery that arrived (+Infinity) in the percentiles: a percentile whose rank
// falls on the missing ones prints "> <drain> ms" (every missing delivery took at least the drain
// time), one that falls on an arrived sample is that sample (exact when it is under the drain
// time, else an upper bound). The survivors alone are never summarised as if they were all, which
// would make p99 look better than it is. A ratio needs both sides finite; else it prints "-".
import type { Row, RowRunner } from './rows.js';
import { quantileWithMissing } from './stats.js';

export const TABULA = 'tabula (window.tabula.put → records event)';
export const YWEBRTC = 'y-webrtc 10.3.0 (Y.Map set → observe)';
export const LATENCY_TARGET = 'p99 ≤ 1.0× y-webrtc, while Tabula also signs, verifies and persists';

/** One variant of one workload, in the results file. */
export interface LatencyRow {
  bench: string;
  workload: string;
  tabs: number;
  name: string;
  role: 'ours' | 'comparator';
  /** Writes made, (write, other tab) pairs expected, those that arrived, and those that did not. */
  writes: number;
  expected: number;
  samples: number;
  missing: number;
  /** A delivery not applied this long after the last write of its round counted as missing, ms. */
  lostAfterMs: number;
  /** Infinity (null in the results file) when the rank falls on missing deliveries. */
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  /** Ours ÷ comparator (lower is better for us); 1 for the comparator; NaN unless both are finite. */
  ratioP50: number;
  ratioP99: number;
  target: string;
}

/** One tab count's figures, table and CPU profile summaries. */
export interface Row1Workload {
  rows: LatencyRow[];
  table: string;
  /** Top functions (share of samples) of one device during an extra, unmeasured Tabula round. */
  profiles: Record<string, string[]>;
}

/** What one round of one system delivered. */
export interface RoundLatencies {
  writes: number;
  /** (write, other tab) pairs. */
  expected: number;
  /** One per pair that arrived, ms. */
  latencies: number[];
}

const ratio = (a: number, b: number): number => (Number.isFinite(a) && Number.isFinite(b) ? a / b : NaN);

/** Ours (Tabula) and the comparator (y-webrtc) over their rounds of one tab count. */
export function latencyRows(
  tabs: number,
  workload: string,
  lostAfterMs: number,
  tabula: RoundLatencies[],
  ywebrtc: RoundLatencies[]
): LatencyRow[] {
  const sum = (rs: RoundLatencies[]) => {
    const lat = rs.flatMap((r) => r.latencies);
    const expected = rs.reduce((s, r) => s + r.expected, 0);
    const missing = Math.max(0, expected - lat.length);
    return {
      writes: rs.reduce((s, r) => s + r.writes, 0),
      expected,
      samples: lat.length,
      missing,
      medianMs: quantileWithMissing(lat, missing, 0.5),
      p99Ms: quantileWithMissing(lat, missing, 0.99),
      maxMs: missing > 0 ? Infinity : lat.length ? Math.max(...lat) : NaN
    };
  };
  const y = sum(ywebrtc);
  const row = (name: string, role: LatencyRow['role'], s: ReturnType<typeof sum>): LatencyRow => ({
    bench: 'Row 1, propagation latency',
    workload,
    tabs,
    name,
    role,
    ...s,
    lostAfterMs,
    ratioP50: ratio(s.medianMs, y.medianMs),
    ratioP99: ratio(s.p99Ms, y.p99Ms),
    target: LATENCY_TARGET
  });
  return [row(TABULA, 'ours', sum(tabula)), row(YWEBRTC, 'comparator', y)];
}

/**
 * Why a tab count's row is FAILED: a system (ours or the comparator) had deliveries that never
 * arrived, so a ratio is not measured ("-") even where the row prints one side's percentiles.
 * Empty when every delivery arrived.
 */
export function latencyFailures(rows: LatencyRow[]): string[] {
  return rows
    .filter((r) => r.missing > 0)
    .map(
      (r) =>
        `${r.name} (${r.role}): ${r.missing} of ${r.expected} deliveries never arrived at ${r.tabs} tabs: latencies and ratios not fully measured`
    );
}

const num = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');
/** A latency, or "> lost-after" for one that falls on missing deliveries. */
const ms = (x: number, r: LatencyRow): string => (x === Infinity ? `> ${r.lostAfterMs}` : num(x));

export function formatLatency(rows: LatencyRow[], notes: string[]): string {
  const lines = [`## ${rows[0].bench}: ${rows[0].workload}`, ...notes.map((n) => `- ${n}`)];
  for (const r of rows.filter((x) => x.missing > 0))
    lines.push(
      `- ${r.name}: ${r.missing} of ${r.expected} deliveries never arrived (not applied ${r.lostAfterMs} ms after the round's last write): counted as later than every arrival, so a percentile that falls on them prints "> ${r.lostAfterMs}" and its ratio "-"`
    );
  lines.push(
    '',
    '| variant | writes | applied / expected | median ms | p99 ms | max ms | ratio p50 | ratio p99 |',
    '|---|---|---|---|---|---|---|---|'
  );
  for (const r of rows) {
    const name = r.role === 'comparator' ? `${r.name} (comparator)` : r.name;
    lines.push(
      `| ${name} | ${r.writes} | ${r.samples} / ${r.expected} | ${ms(r.medianMs, r)} | ${ms(r.p99Ms, r)} | ${ms(r.maxMs, r)} | ${num(r.ratioP50, 2)}× | ${num(r.ratioP99, 2)}× |`
    );
  }
  lines.push(`target: ${LATENCY_TARGET}`);
  return lines.join('\n');
}

/**
 * Each tab count a row of `runner` (one that throws or runs over its time is in its failures,
 * the results' notRun); `keep` gets what a tab count measured, only if it completed in time.
 */
export async function tabCountRows(
  runner: RowRunner,
  tabCounts: readonly number[],
  measure: (tabs: number, row: Row) => Promise<Row1Workload>,
  keep: (out: Row1Workload) => void
): Promise<void> {
  for (const tabs of tabCounts)
    await runner.run(`Row 1, propagation latency: ${tabs} tabs`, async (row) => {
      const out = await measure(tabs, row);
      row.keep(() => keep(out));
    });
}
