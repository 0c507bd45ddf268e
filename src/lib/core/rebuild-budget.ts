// A rolling time budget for expensive maintenance that peers can trigger: void rebuilds
// (ledger.ts, PROTOCOL.md §6.1). A new void of entries the state already applied replays the
// store, O(entries held), and a fresh key costs an attacker two signatures. So rebuilds may use at
// most `share` of any `windowMs` of wall time; one that does not fit waits until it does. The
// first run in an empty window always fits, however long it takes.

export interface RebuildBudgetOptions {
  /** Wall clock in ms (monotonic preferred). */
  now: () => number;
  /** Length of the rolling window, ms. */
  windowMs: number;
  /** Largest share of the window rebuilds may take, in (0, 1]. */
  share: number;
}

export class RebuildBudget {
  /** Finished runs inside the window: end time and duration, ms, oldest first. */
  private runs: { end: number; ms: number }[] = [];

  constructor(private readonly o: RebuildBudgetOptions) {}

  /** Records a finished run of `ms` milliseconds (ending now). */
  record(ms: number): void {
    this.runs.push({ end: this.o.now(), ms: Math.max(0, ms) });
    this.prune();
  }

  /** Milliseconds until the next run fits the budget (0: it fits now). */
  waitMs(): number {
    this.prune();
    const cap = this.o.share * this.o.windowMs;
    let used = this.runs.reduce((n, r) => n + r.ms, 0);
    if (used < cap) return 0;
    const now = this.o.now();
    for (const r of this.runs) {
      used -= r.ms;
      if (used < cap) return Math.max(1, r.end + this.o.windowMs - now);
    }
    return 0;
  }

  private prune(): void {
    const since = this.o.now() - this.o.windowMs;
    while (this.runs.length > 0 && this.runs[0].end <= since) this.runs.shift();
  }
}
