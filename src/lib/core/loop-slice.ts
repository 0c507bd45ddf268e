// Cooperative slices for work that may never give the event loop a turn. With a store whose
// promises resolve at once (the memory store) and synchronous crypto (Node's node:crypto signer
// and verifier), a queue of ledger steps chains in microtasks only: in S10 a simulated node ran
// ~8 s of CPU between two 1 s timer ticks, so its network reads, keep-alives and IPC waited.
// A LoopSlicer lets such a chain yield one macrotask turn once it has run for `sliceMs`.

/** Yields one macrotask turn: setImmediate where it exists (Node), else setTimeout(0). */
export function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  return new Promise((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}

export class LoopSlicer {
  /** When the current run of work without a macrotask turn began, ms (performance.now()). */
  private sliceStart = 0;
  /** When the last piece of work ended, ms. */
  private lastEnd = -Infinity;

  /**
   * @param sliceMs longest run of work between two turns, ms.
   * @param idleMs a gap this long since the last piece of work means the loop had its turns (the
   *   work was idle), so a new slice starts without yielding.
   */
  constructor(
    private readonly sliceMs: number,
    private readonly idleMs = 1,
    private readonly now: () => number = () => performance.now(),
    private readonly yieldTurn: () => Promise<void> = macrotask
  ) {}

  /** Before a piece of work: undefined to go on at once, or a promise that resolves after a turn. */
  turn(): Promise<void> | undefined {
    const t = this.now();
    if (t - this.lastEnd >= this.idleMs) this.sliceStart = t;
    if (t - this.sliceStart < this.sliceMs) return undefined;
    return this.yieldTurn().then(() => {
      this.sliceStart = this.now();
    });
  }

  /** After a piece of work. */
  done(): void {
    this.lastEnd = this.now();
  }
}
