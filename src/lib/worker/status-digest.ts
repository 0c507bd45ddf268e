// When the node's pushed status carries a freshly computed state digest. The digest re-encodes the
// whole state (O(state): ~80 ms at 2,000 entries in Chromium, ~0.5 s at many thousands), so a push
// never computes it inline: pushes carry the last one, and this schedule refreshes it on a timer,
// once the ledger has been quiet for `quietMs` (no append), at most once per `everyMs` (and per
// `costRatio` times its own cost), and at least every `maxStaleMs` after it went stale while appends never stop.
// A push computing it inline used to stall the worker for that long right at the start of every
// burst of writes after an idle moment (24% of the node worker's samples in the bench profile of
// 200 window.tabula.put calls). status() asked explicitly always computes it (node-runtime.ts).

export interface DigestScheduleOptions {
  /** Refreshed at most this often, ms. */
  everyMs: number;
  /** ...and at most once per this many times its own cost. */
  costRatio: number;
  /** Refreshed only once no append came for this long, ms... */
  quietMs: number;
  /** ...unless the digest pushed is this old, ms (appends that never stop). */
  maxStaleMs: number;
  /** Computes the digest and pushes a status carrying it (node-runtime: status('fresh')). */
  refresh: () => void;
  now?: () => number;
}

export class DigestSchedule {
  private computedAt = -Infinity;
  private lastAppendAt = -Infinity;
  /** The first append since the digest was computed: how long the pushed one has been stale. */
  private staleSince: number | undefined;
  /** A push carried a stale digest, and no push carried a fresh one since. */
  private stalePushed = false;
  private everyMs: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: DigestScheduleOptions) {
    this.everyMs = opts.everyMs;
    this.now = opts.now ?? (() => Date.now());
  }

  /** The state changed (an entry was appended): a refresh waits until it is quiet again. */
  appended(): void {
    this.lastAppendAt = this.now();
    this.staleSince ??= this.lastAppendAt;
  }

  /** The digest was just computed, in `costMs`. */
  computed(costMs: number): void {
    this.computedAt = this.now();
    this.staleSince = undefined;
    this.everyMs = Math.max(this.opts.everyMs, costMs * this.opts.costRatio);
  }

  /** A push carried the last digest (possibly stale): arranges its refresh, unless one is armed. */
  pushedStale(): void {
    if (this.staleSince !== undefined) this.stalePushed = true;
    // Nothing appended since the digest was computed: the pushed one is current (a push for a
    // peer event must not re-run a cached digest, which would reset the cost-based pacing).
    if (this.timer !== undefined || (this.staleSince === undefined && this.computedAt > -Infinity)) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.dueAt() - this.now()));
  }

  /**
   * When the state first changed after the digest was computed (epoch ms by `now`): the digest
   * pushed since describes the state before that. Undefined while it is current.
   */
  get staleFrom(): number | undefined {
    return this.staleSince;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** When the next refresh may run: paced, and once quiet (or once the pushed digest is stale too long). */
  private dueAt(): number {
    const stale = this.staleSince ?? this.now();
    const quiet = Math.min(this.lastAppendAt + this.opts.quietMs, stale + this.opts.maxStaleMs);
    return Math.max(this.computedAt + this.everyMs, quiet);
  }

  private fire(): void {
    this.timer = undefined;
    // Computed meanwhile for a status() caller alone: the pages still show the stale one (and its
    // age, ever older) until a fresh one is pushed.
    if (this.staleSince === undefined) return this.stalePushed ? this.refreshNow() : undefined;
    if (this.now() < this.dueAt()) return this.pushedStale(); // appends came meanwhile
    this.refreshNow();
  }

  private refreshNow(): void {
    this.stalePushed = false;
    this.opts.refresh();
  }
}
