// The Node half of `npm run bench` (bench/run.ts) runs its benches through the browser half's
// RowRunner (bench/browser/rows.ts): a bench that throws, or is still running after its time, is
// printed as NOT RUN with its error and the next bench still runs, so the results file is still
// written and the browser half still runs. Kept apart from run.ts (which runs the benches on
// import) so the decisions are unit-tested.
import { RowRunner, type RowFailure } from './browser/rows.js';

/**
 * A Node bench given up after this (BENCH_NODE_TIMEOUT_MS overrides it), ms: well over the
 * slowest, reconciliation with BENCH_1M=1 (~16 min on a quiet machine).
 */
export const NODE_BENCH_TIMEOUT_MS = Number(process.env.BENCH_NODE_TIMEOUT_MS ?? 60 * 60_000);

export interface NodeBench {
  /** Its name in the NOT RUN list. */
  row: string;
  /** The heading printed before it runs. */
  title: string;
  run: () => Promise<void>;
}

/**
 * Runs every bench in turn (each under `runner`); returns the ones that could not run. A Node
 * bench cannot be stopped: once one is given up while still running (over its time), the next
 * ones are not run (NOT RUN) rather than measured beside it, on the same cores and in this process.
 */
export async function runNodeBenches(
  benches: readonly NodeBench[],
  print: (line: string) => void,
  runner = new RowRunner((line) => print(`\n${line}`), NODE_BENCH_TIMEOUT_MS)
): Promise<RowFailure[]> {
  let running: string | undefined;
  for (const [i, b] of benches.entries()) {
    print(`${i === 0 ? '' : '\n'}${b.title}`);
    const run =
      running === undefined
        ? b.run
        : () => Promise.reject(new Error(`not run: ${running} was given up but is still running in this process`));
    if (!(await runner.run(b.row, run)) && running === undefined && runner.failures.at(-1)?.stillRunning)
      running = b.row;
  }
  return runner.failures;
}

/**
 * `npm run bench`'s exit status: the browser half's when it failed (it exits 1 when it or one of
 * its rows could not run), else 1 when a Node bench could not run, else 0 (everything ran).
 */
export const benchExitStatus = (browserStatus: number, nodeNotRun: readonly RowFailure[]): number =>
  browserStatus !== 0 ? browserStatus : nodeNotRun.length > 0 ? 1 : 0;
