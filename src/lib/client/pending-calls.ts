// The calls a tab has made and not yet seen answered, each kept until it settles so it can be
// re-sent when the leading tab changes, and bounded while no tab leads.
import type { NodeMethod } from '../worker/messages.js';

export interface PendingCall {
  readonly method: NodeMethod;
  readonly args: unknown[];
  /** The tab it was last handed to (this tab's id when run on its own node). */
  sentTo: string | undefined;
}

interface Entry extends PendingCall {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  /** Armed while the call waits for a leader. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class PendingCalls {
  private readonly calls = new Map<string, Entry>();

  /** Registers call `id`; the promise settles through resolve/reject (or a wait bound). */
  add(id: string, method: NodeMethod, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.calls.set(id, { method, args, sentTo: undefined, resolve, reject, timer: undefined });
    });
  }

  /** Records that call `id` went to tab `to`; its wait bound, if any, stops. */
  sent(id: string, to: string): void {
    const entry = this.calls.get(id);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.sentTo = to;
  }

  /**
   * Starts the wait bound of call `id` (unless it already runs): after `ms`, it fails with
   * `error()`. `at`: the tab it was sent to, which has to accept it in time (undefined: it waits
   * for a leader).
   */
  wait(id: string, ms: number, error: () => Error, at?: string): void {
    const entry = this.calls.get(id);
    if (entry === undefined || entry.timer !== undefined) return;
    entry.sentTo = at;
    entry.timer = setTimeout(() => this.reject(id, error()), ms);
  }

  /** Tab `by` took call `id` (sent to it): its accept bound stops; it now waits for the answer. */
  accepted(id: string, by: string): void {
    const entry = this.calls.get(id);
    if (entry === undefined || entry.sentTo !== by) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  /** Settles call `id` once; later answers for it (a re-sent duplicate) are ignored. */
  resolve(id: string, value: unknown): void {
    this.take(id)?.resolve(value);
  }

  reject(id: string, error: Error): void {
    this.take(id)?.reject(error);
  }

  rejectAll(error: Error): void {
    for (const id of [...this.calls.keys()]) this.reject(id, error);
  }

  /** Every unsettled call, oldest first. */
  entries(): [string, PendingCall][] {
    return [...this.calls];
  }

  get size(): number {
    return this.calls.size;
  }

  private take(id: string): Entry | undefined {
    const entry = this.calls.get(id);
    if (entry === undefined) return undefined;
    this.calls.delete(id);
    clearTimeout(entry.timer);
    return entry;
  }
}
