// Time bounds of store operations: a base per operation plus allowances for the work it does,
// so a hung transaction fails within a known time while a legitimately big one is not cut off.
import {
  STORAGE_TIMEOUT_BASE_MS,
  STORAGE_TIMEOUT_PER_ENTRY_MS,
  STORAGE_TIMEOUT_PER_MIB_MS
} from '../core/constants.js';

export interface StorageTimeouts {
  /** Milliseconds every operation gets. */
  baseMs: number;
  /** Extra milliseconds per entry read or written. */
  perEntryMs: number;
  /** Extra milliseconds per MiB of state written. */
  perMiBMs: number;
}

export const DEFAULT_STORAGE_TIMEOUTS: StorageTimeouts = {
  baseMs: STORAGE_TIMEOUT_BASE_MS,
  perEntryMs: STORAGE_TIMEOUT_PER_ENTRY_MS,
  perMiBMs: STORAGE_TIMEOUT_PER_MIB_MS
};

/** setTimeout's largest delay; longer waits re-arm. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** The deadline of one operation: fires once, `baseMs` after it starts plus what `extend` adds. */
export class Deadline {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private end: number;
  private settled = false;
  /** True once the deadline passed (onExpire ran). */
  expired = false;

  constructor(
    readonly timeouts: StorageTimeouts,
    private readonly onExpire: () => void
  ) {
    this.end = Date.now() + timeouts.baseMs;
    this.arm();
  }

  /** Allows `entries` more entries and `bytes` more bytes of work; a non-finite amount adds nothing (stays bounded). */
  extend(entries: number, bytes = 0): void {
    if (this.settled || this.expired) return;
    const add = entries * this.timeouts.perEntryMs + (bytes / 2 ** 20) * this.timeouts.perMiBMs;
    if (!(Number.isFinite(add) && add > 0)) return;
    this.end += add;
    this.arm();
  }

  /** Stops the timer (the operation settled). */
  clear(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    clearTimeout(this.timer);
    const wait = Math.min(MAX_DELAY_MS, Math.max(0, this.end - Date.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (Date.now() < this.end) return this.arm();
      this.expired = true;
      this.onExpire();
    }, wait);
  }
}

/**
 * Settles like `work`, or, once the deadline passes first, rejects with what `onExpire`
 * returns (onExpire also gets to abort the work). `work` may extend the deadline.
 */
export function bounded<T>(
  timeouts: StorageTimeouts,
  work: (deadline: Deadline) => PromiseLike<T>,
  onExpire: () => unknown
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = new Deadline(timeouts, () => reject(onExpire()));
    const settle =
      <A>(fn: (a: A) => void) =>
      (a: A) => {
        deadline.clear();
        fn(a);
      };
    Promise.resolve()
      .then(() => work(deadline))
      .then(settle(resolve), settle(reject));
  });
}
