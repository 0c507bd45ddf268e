// The node's `records` events, coalesced: the first change after a quiet moment goes to the page at
// once, later ones within `windowMs` go together in one event (every change, in order). One event
// per write cost a postMessage on the write's own path, before its acknowledgement (0.17 ms of the
// worker per write, 3% of its samples in the bench profile of 500 single window.tabula.put), and
// the page's handling of each (tab broker, BroadcastChannel to other tabs) while the page re-reads
// the records at most every RECORDS_REFRESH_MIN_MS (250 ms) anyway (client/live-node.svelte.ts).
import type { RecordChange } from '../core/state/records.js';

export class RecordsEvents {
  private held: RecordChange[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly send: (changes: RecordChange[]) => void
  ) {}

  /** Changes just committed: sent now if no event went out within the window, else held for its end. */
  changed(changes: RecordChange[]): void {
    if (this.timer !== undefined) {
      this.held.push(...changes);
      return;
    }
    this.send(changes);
    this.timer = setTimeout(() => this.flush(), this.windowMs);
  }

  /** Sends what the window still holds (a resigning leader's last changes reach its pages), then nothing. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const held = this.held;
    this.held = [];
    if (held.length > 0) this.send(held);
  }

  /** The window ended: its held changes go in one event (and open a window of their own). */
  private flush(): void {
    this.timer = undefined;
    if (this.held.length === 0) return;
    const changes = this.held;
    this.held = [];
    this.changed(changes);
  }
}
