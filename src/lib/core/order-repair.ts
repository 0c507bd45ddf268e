// Reloading the state when its live document orders something otherwise than the canonical state
// (state/order.ts: a signed entry with a crafted list placement; digests agree, views do not).
// The canonical state is what a join or a restart shows, so every node converges on it: the
// ledger compacts (storing the canonical bytes) and rebuilds from the store (loading them).
// A hostile author can cause one divergence per entry, and a repair costs O(state), so repairs
// share the void rebuilds' time budget (rebuild-budget.ts) and at most one is ever queued.

export interface OrderRepairOptions {
  /** Compacts and reloads; false when it could not run now (retried after retryMs). */
  run: () => Promise<boolean>;
  /** Milliseconds until a repair fits the time budget. */
  waitMs: () => number;
  /** Delay before trying a repair that could not run again, ms. */
  retryMs: number;
}

export class OrderRepair {
  private due = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Repairs completed since open. */
  repairs = 0;

  constructor(private readonly o: OrderRepairOptions) {}

  /** The live document diverged: a repair runs once the budget allows (now, if it fits). */
  mark(): void {
    this.due = true;
    this.schedule(this.o.waitMs());
  }

  /** True while a divergence waits for its repair. */
  get pending(): boolean {
    return this.due;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => void this.fire(), ms);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    if (!this.due || this.closed) return;
    this.due = false;
    const ok = await this.o.run().catch(() => false);
    if (ok) this.repairs++;
    else {
      this.due = true;
      this.schedule(Math.max(this.o.retryMs, this.o.waitMs()));
    }
  }
}
