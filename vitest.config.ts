import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Unit and simulation tests run in Node; browser tests are Playwright (test/e2e).
// Workers: vitest's default is one less than the cores, which on the 2-core CI machine is one,
// leaving a core idle: the suite took 1,350 s with one worker and 634 s with two (2026-12-03,
// same machine, same commit, every test passing in both).
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/sim/**/*.test.ts', 'test/fuzz/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['test/helpers/setup.ts'],
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
});
