// Sync latency: for every entry that arrives from another node, the time from its author's
// signature (entry.time, the author's clock) to its durable append here. Author clocks may be
// skewed, so negative samples count as 0. Kept as a bounded window of recent samples.

/** Samples kept (the most recent). */
export const LATENCY_MAX_SAMPLES = 512;
/** Samples older than this are dropped, ms. */
export const LATENCY_WINDOW_MS = 5 * 60_000;

/** p50/p99 over the window, ms; null without samples. */
export interface LatencySummary {
  p50: number | null;
  p99: number | null;
  /** Samples in the window. */
  count: number;
}

/** Nearest-rank quantile of an ascending list; null when empty. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export class LatencyTracker {
  private readonly samples: { at: number; ms: number }[] = [];

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxSamples = LATENCY_MAX_SAMPLES,
    private readonly windowMs = LATENCY_WINDOW_MS
  ) {}

  /** Records one entry signed at `authorTime` (ms since the epoch) and applied now. */
  record(authorTime: number): void {
    const at = this.now();
    this.samples.push({ at, ms: Math.max(0, at - authorTime) });
    if (this.samples.length > this.maxSamples) this.samples.shift();
  }

  summary(): LatencySummary {
    const cutoff = this.now() - this.windowMs;
    while (this.samples.length > 0 && this.samples[0].at < cutoff) this.samples.shift();
    const sorted = this.samples.map((s) => s.ms).sort((a, b) => a - b);
    return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), count: sorted.length };
  }
}
