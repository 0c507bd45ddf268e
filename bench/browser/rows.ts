// Runs the browser bench's rows one by one: a row that throws is recorded as not run (its error
// printed and kept for the results file) and the next row still runs, so the rows already
// measured and the Node results are still written. Only a failure of the bench as a whole
// (build, relay) makes `npm run bench` exit non-zero.

/** A row that threw: it was not run (or not to the end); its error as printed. */
export interface RowFailure {
  row: string;
  error: string;
}

/** What a row that could not run prints (and what the results file's tables keep). */
export const notRunLine = (f: RowFailure): string => `## ${f.row}: NOT RUN (it threw or timed out): ${f.error}`;

/**
 * A row still running after this is given up (BENCH_ROW_TIMEOUT_MS overrides it), ms: a page that
 * hangs must not keep the bench from writing its results. Well over the longest row here (row 7
 * at 100k: ~3 min on a quiet machine, ~6 min under load).
 */
export const ROW_TIMEOUT_MS = Number(process.env.BENCH_ROW_TIMEOUT_MS ?? 15 * 60_000);

/** A row that did not finish within its time. */
export class RowTimeoutError extends Error {
  override name = 'RowTimeoutError';
}

export class RowRunner {
  readonly failures: RowFailure[] = [];

  constructor(
    private readonly print: (line: string) => void = (l) => console.log(`\n${l}`),
    private readonly timeoutMs = ROW_TIMEOUT_MS
  ) {}

  /**
   * Runs `fn`; true when it completed, false when it threw or ran over the timeout (recorded in
   * `failures` and printed). A row given up keeps running in the background: its later output is
   * not part of the results.
   */
  async run(row: string, fn: () => Promise<void>): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RowTimeoutError(`still running after ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([fn(), timeout]);
      return true;
    } catch (e) {
      const failure = { row, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
      this.failures.push(failure);
      this.print(notRunLine(failure));
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
