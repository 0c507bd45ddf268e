// A token bucket on the caller's clock (ms): `ratePerSecond` tokens a second, at most `burst` held.
// A clock set back refills nothing (and takes nothing away): a wall clock stepped back an hour
// must not stall its user for an hour.
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number
  ) {
    this.tokens = burst;
    this.at = now;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.at);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.at = now;
  }

  /** Takes `n` tokens (default 1); false, taking none, when the bucket holds fewer. */
  take(now: number, n = 1): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Whole tokens the bucket holds now. */
  available(now: number): number {
    this.refill(now);
    return Math.floor(this.tokens);
  }

  /** ms until the bucket holds `n` tokens (default 1; at most its size), at least 1. */
  waitMs(now: number, n = 1): number {
    this.refill(now);
    const want = Math.min(n, this.burst);
    return Math.max(1, Math.ceil(((want - this.tokens) * 1000) / this.ratePerSecond));
  }
}
