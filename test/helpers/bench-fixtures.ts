// Shared fixtures for the bench's unit tests (test/unit/bench-*.test.ts).
import type { CatchUpSetup } from '../../bench/catch-up.js';

/** Row 6's setup at the issue's size: n = 100k, 10k missing, 200 B per entry. */
export const catchUpSetup: CatchUpSetup = {
  n: 100_000,
  authors: 100,
  missing: 10_000,
  missingBytes: 2_000_000,
  allBytes: 20_000_000,
  ingestDelayMs: 0
};
