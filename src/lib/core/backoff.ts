// Exponential backoff with jitter, shared by the relay mesh (relay to relay) and the app's relay
// list (browser to relay). Pure: the random source is passed in.

export interface BackoffOptions {
  /** Wait after the first failure, ms. */
  baseMs: number;
  /** Largest wait, ms (before jitter). */
  maxMs: number;
}

/**
 * Wait before attempt number `failures + 1`, ms: min(maxMs, baseMs × 2^(failures − 1)), then
 * "equal jitter": a uniform value in [wait / 2, wait), so peers that lost the same relay at the
 * same moment do not all come back in the same instant. `failures` ≤ 0 gives 0 (try now).
 * `random` returns a number in [0, 1).
 */
export function backoffDelay(failures: number, opts: BackoffOptions, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const wait = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.floor(wait / 2 + random() * (wait / 2));
}
