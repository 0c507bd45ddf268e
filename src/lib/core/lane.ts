// A concurrency bound for asynchronous work (pure): at most `max` calls of `run` in flight, the
// rest wait in arrival order. Used to keep Ed25519 verifications from flooding the platform's
// crypto queue (ed25519.ts), so a local write's signature is never queued behind thousands of
// them.

export class Lane {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  /** `max`: calls in flight at once (at least 1). */
  constructor(private readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('a lane needs at least one slot');
  }

  /** Calls in flight now, and calls waiting for a slot. */
  get inFlight(): number {
    return this.active;
  }
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` once a slot is free; settles as `fn` does. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined)
        next(); // the slot passes on: `active` stays
      else this.active--;
    }
  }
}
