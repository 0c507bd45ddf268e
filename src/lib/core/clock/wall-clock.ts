// The clock the time protocol reads (pure): the wall clock, ms since the epoch, with the
// resolution of a monotonic clock. Entry times and sync latency use the wall clock (Date.now()),
// so clock offsets must be measured on it too.
//
// `origin + mono()` alone (performance.timeOrigin + performance.now()) is the wall clock as it
// was when the process started, carried forward by the monotonic clock. It does not follow the
// wall clock when that is set or stepped (NTP, a VM's clock sync) or while the machine sleeps
// (the monotonic clock stops): two processes started on either side of such a step then read
// clocks that differ by the step, and every offset measured between them is off by it, for as
// long as the older process runs (a relay, a tab left open). So each reading is checked against
// `wall()` (whole ms, floored) and the anchor moves to the wall clock when the reading leaves
// that ms by more than `slackMs`.
import { CLOCK_PRECISION_MS, CLOCK_STEP_MS } from './constants.js';

/** A clock that counts the steps it followed. */
export interface StepClock {
  now(): number;
  /** Steps of the underlying wall clock followed so far. */
  readonly steps: number;
}

export class WallClock implements StepClock {
  /** wall − mono, ms. */
  #anchor: number | undefined;
  #steps = 0;

  /**
   * `wall`: ms since the epoch in whole ms (Date.now()); `mono`: a monotonic ms clock
   * (performance.now()); `origin`: the wall time at mono() = 0 if known (performance.timeOrigin),
   * else the first reading anchors it.
   */
  constructor(
    private readonly wall: () => number,
    private readonly mono: () => number,
    origin?: number,
    private readonly slackMs = CLOCK_PRECISION_MS
  ) {
    this.#anchor = origin !== undefined && Number.isFinite(origin) ? origin : undefined;
  }

  /** The wall clock now, ms since the epoch (sub-ms resolution between steps). */
  now(): number {
    const m = this.mono();
    const w = this.wall();
    if (this.#anchor === undefined) {
      this.#anchor = w + 0.5 - m;
    } else {
      const r = this.#anchor + m;
      // w is floored: the wall time lies in [w, w + 1).
      if (r < w - this.slackMs || r > w + 1 + this.slackMs) {
        // Slewing moves the anchor quietly; a larger correction is a step (see CLOCK_STEP_MS).
        if (Math.abs(w + 0.5 - r) > CLOCK_STEP_MS) this.#steps++;
        this.#anchor = w + 0.5 - m;
      }
    }
    return this.#anchor + m;
  }

  /** Times the wall clock was found stepped by over CLOCK_STEP_MS away from the anchor (it moved to follow). */
  get steps(): number {
    return this.#steps;
  }
}
