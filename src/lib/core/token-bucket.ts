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

  /** Takes one token; false when the bucket holds less than one. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** ms until the bucket holds a token (at least 1). */
  waitMs(now: number): number {
    this.refill(now);
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond));
  }
}
