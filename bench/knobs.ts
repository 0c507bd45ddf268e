// The bench's environment knobs that choose what runs, as pure functions (unit-tested: the bench
// scripts run on import).

/** An opt-in flag: on only for "1" or "true" (so BENCH_1M=0 or an empty value leaves it off). */
export const envFlag = (v: string | undefined): boolean => v === '1' || v?.toLowerCase() === 'true';

/** BENCH_SCALE applied to a workload size: rounded, at least 1. */
export const scaledBy = (scale: number, n: number): number => Math.max(1, Math.round(n * scale));

/**
 * Row 3's runs, [batch size, batches in the worker, batches through the app page], every count
 * scaled by BENCH_SCALE (at scale 1: the app path writes 500, 500 and 1,000 entries).
 */
export const row3Plan = (scale: number): [number, number, number][] => [
  [1, scaledBy(scale, 500), scaledBy(scale, 500)],
  [100, scaledBy(scale, 30), scaledBy(scale, 5)],
  [1000, scaledBy(scale, 5), scaledBy(scale, 1)]
];

/** Row 4 ingests (and times) whole chunks of this many entries. */
export const ROW4_CHUNK = 500;

/**
 * Row 4's entries: 5,000 scaled by BENCH_SCALE, in whole chunks (at least one). Rounded so that the
 * row ingests every entry its workload names: a partial last chunk was left out of every series.
 */
export const row4Count = (scale: number): number => Math.max(1, Math.round((5000 * scale) / ROW4_CHUNK)) * ROW4_CHUNK;
