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
export const notRunLine = (f: RowFailure): string => `## ${f.row}: NOT RUN (it threw): ${f.error}`;

export class RowRunner {
  readonly failures: RowFailure[] = [];

  constructor(private readonly print: (line: string) => void = (l) => console.log(`\n${l}`)) {}

  /** Runs `fn`; true when it completed, false when it threw (recorded in `failures` and printed). */
  async run(row: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (e) {
      const failure = { row, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
      this.failures.push(failure);
      this.print(notRunLine(failure));
      return false;
    }
  }
}
