// Runs the browser bench's rows one by one: a row that throws is recorded as not run (its error
// printed and kept for the results file) and the next row still runs, so the rows already
// measured and the Node results are still written. Only a failure of the bench as a whole
// (build, relay) makes `npm run bench` exit non-zero.
//
// A row does not print or record its tables itself: it hands them to `row.keep`, and the runner
// applies them only when the row completed in time. A row over its time is stopped, not raced: its
// signal aborts, what it registered with `row.onAbort` (its browser contexts) is closed, and
// whatever it still tries to keep afterwards is dropped, so the results file holds only its
// NOT RUN line.

/** A row that threw, timed out, or (`partial`) completed but could not measure all it reports. */
export interface RowFailure {
  row: string;
  error: string;
  /** The row's table was kept, with what it could not measure shown as "—". */
  partial?: boolean;
  /** Given up, but its work had not stopped `stopMs` after it was aborted (it may still be running). */
  stillRunning?: boolean;
}

/** What a row that could not run (or not in full) prints, and what the results file's tables keep. */
export const notRunLine = (f: RowFailure): string =>
  f.partial
    ? `## ${f.row}: FAILED (its table above shows "—" for what was not measured): ${f.error}`
    : `## ${f.row}: NOT RUN (it threw or timed out): ${f.error}`;

/**
 * A row still running after this is given up (BENCH_ROW_TIMEOUT_MS overrides it), ms: a page that
 * hangs must not keep the bench from writing its results. Well over the longest row here (row 7
 * at 100k: ~3 min on a quiet machine, ~6 min under load).
 */
export const ROW_TIMEOUT_MS = Number(process.env.BENCH_ROW_TIMEOUT_MS ?? 15 * 60_000);
/** After aborting a row, how long we wait for its cleanups and for it to stop, ms. */
export const ROW_STOP_MS = 30_000;

/** A row that did not finish within its time. */
export class RowTimeoutError extends Error {
  override name = 'RowTimeoutError';
}

/** What the runner hands a row. */
export interface Row {
  /** Aborted when the row is given up (over its time, or it threw): stop working. */
  readonly signal: AbortSignal;
  /** Output (print a table, add to the results): applied in order only if the row completes in time. */
  keep(commit: () => void): void;
  /** Called when the row is given up (e.g. close a browser context it opened); not on success. */
  onAbort(cleanup: () => unknown): void;
  /** The row completes, but something it reports was not measured: recorded as failed (its output kept). */
  fail(reason: string): void;
}

const errorText = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message) : String(e));

/** Resolves after `ms` or once `p` settles, whichever comes first; never rejects. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export class RowRunner {
  readonly failures: RowFailure[] = [];

  constructor(
    private readonly print: (line: string) => void = (l) => console.log(`\n${l}`),
    private readonly timeoutMs = ROW_TIMEOUT_MS,
    private readonly stopMs = ROW_STOP_MS
  ) {}

  /**
   * Runs `fn`; true when it completed in time with nothing failed. A row that threw or ran over
   * the timeout is aborted, its `onAbort` cleanups run, it is waited for (at most `stopMs`) and
   * recorded in `failures` (printed); nothing it kept is applied, then or later.
   */
  async run(row: string, fn: (row: Row) => Promise<void>): Promise<boolean> {
    const controller = new AbortController();
    const kept: (() => void)[] = [];
    const cleanups: (() => unknown)[] = [];
    const failed: string[] = [];
    const handle: Row = {
      signal: controller.signal,
      keep: (commit) => {
        if (!controller.signal.aborted) kept.push(commit);
      },
      onAbort: (cleanup) => {
        cleanups.push(cleanup);
      },
      fail: (reason) => {
        if (!controller.signal.aborted) failed.push(reason);
      }
    };
    const work = (async () => fn(handle))();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
    });
    try {
      if ((await Promise.race([work, timeout])) === 'timeout')
        throw new RowTimeoutError(`still running after ${this.timeoutMs} ms`);
      for (const commit of kept) commit();
    } catch (e) {
      controller.abort(e);
      const stopped = await this.stop(cleanups, work);
      return this.record({ row, error: errorText(e), ...(stopped ? {} : { stillRunning: true }) });
    } finally {
      clearTimeout(timer);
    }
    if (failed.length > 0) return this.record({ row, error: failed.join('; '), partial: true });
    return true;
  }

  /**
   * Runs the cleanups of an aborted row, then waits for it to settle; at most `stopMs` in all.
   * True when its work settled.
   */
  private async stop(cleanups: (() => unknown)[], work: Promise<void>): Promise<boolean> {
    const deadline = Date.now() + this.stopMs;
    const closing = Promise.allSettled(cleanups.map(async (c) => c()));
    await within(closing, this.stopMs);
    let settled = false;
    await within(
      work.finally(() => (settled = true)),
      Math.max(0, deadline - Date.now())
    );
    return settled;
  }

  private record(failure: RowFailure): false {
    this.failures.push(failure);
    this.print(notRunLine(failure));
    return false;
  }
}
