// The ledger's work queue (pure): steps run one at a time, in the order requested, with one
// exception so a local write is not held behind a backlog of replication. A step is one of
//   'replicated': applying entries received from peers (and no-op waits on them, Ledger.idle);
//   'write':      a local write group (write-groups.ts);
//   'barrier':    anything else (compaction, reload, import, close, consistent reads, ...).
// A write step may run before 'replicated' steps queued ahead of it, never before a barrier or an
// earlier write step (local writes keep their order, and nothing requested before a barrier is
// overtaken). Running it first is as if it had been requested before them: their entries are not
// applied yet, so nothing the write reads or signs could depend on them. To keep replication
// moving under a steady stream of writes, no write overtakes right after a write step ran: while
// replication waits it gets at least every other step, as with first-come order under a writer
// that always has a group queued.
//
// Measured in S10 (2026-12-03, the queue timings each run prints, kept in
// bench/results/soak-2026-12-03b-S10-queue-timings.txt): with first-come order a tab's write
// group waited 3.8-7.0 s on average behind queued ingest steps of 0.47-0.76 s each.

export type StepKind = 'replicated' | 'write' | 'barrier';

interface Step {
  readonly kind: StepKind;
  readonly run: () => Promise<void>;
}

export class StepQueue {
  private readonly waiting: Step[] = [];
  private draining = false;
  /** The step that ran last was a write: the next one may not overtake (replication goes next). */
  private lastWasWrite = false;
  private overtakes = 0;

  /** `beforeStep`: awaited before each step is chosen (loop-slice.ts: a macrotask now and then). */
  constructor(private readonly beforeStep: () => Promise<void> | void = () => undefined) {}

  /** Queues `fn` as a step of `kind`; settles as `fn` does, once its step has run. Never starts it synchronously. */
  push<T>(kind: StepKind, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ kind, run: () => Promise.resolve().then(fn).then(resolve, reject) });
      if (!this.draining) {
        this.draining = true;
        void Promise.resolve().then(() => this.drain());
      }
    });
  }

  /** Steps waiting (not started). */
  get size(): number {
    return this.waiting.length;
  }

  /** Write steps that ran before replicated steps queued ahead of them, since the queue was made. */
  get overtaken(): number {
    return this.overtakes;
  }

  private async drain(): Promise<void> {
    for (;;) {
      try {
        await this.beforeStep();
      } catch {
        // it only paces the queue: a failure skips the pause
      }
      const step = this.next();
      if (step === undefined) break;
      await step.run(); // settles its caller; never rejects
    }
    this.draining = false;
  }

  /** The next step to run, taken off the list (see the rule at the top). */
  private next(): Step | undefined {
    const w = this.waiting;
    let step: Step | undefined;
    if (!this.lastWasWrite && w[0]?.kind === 'replicated') {
      const i = w.findIndex((s) => s.kind !== 'replicated');
      if (i > 0 && w[i]!.kind === 'write') {
        this.overtakes++;
        step = w.splice(i, 1)[0];
      }
    }
    step ??= w.shift();
    this.lastWasWrite = step?.kind === 'write';
    return step;
  }
}
