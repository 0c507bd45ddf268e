// Cooperative slices for work that may never give the event loop a tick. With a store whose
// promises resolve at once (the memory store) and synchronous crypto (Node's node:crypto signer
// and verifier), a queue of ledger steps chains in microtasks only: in S10 a simulated node ran
// ~8 s of CPU between two 1 s timer ticks, so its network reads, keep-alives and IPC waited.
// A LoopSlicer lets such a chain yield one macrotask tick once it has run `sliceMs` without one.
// Work that gives ticks by itself (IndexedDB transactions in the browser) is never held up.

type Resolve = () => void;
const channelWaiters: Resolve[] = [];
let channel: MessageChannel | undefined;

/**
 * Resolves on a later macrotask: setImmediate where it exists (Node), else a MessageChannel
 * message (browsers and workers: no timer clamping or throttling), else setTimeout(0).
 */
export function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  if (g.setImmediate) return new Promise((resolve) => void g.setImmediate!(resolve));
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  if (channel === undefined) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => channelWaiters.shift()?.();
  }
  const port = channel.port2;
  return new Promise((resolve) => {
    channelWaiters.push(resolve);
    port.postMessage(0);
  });
}

export class LoopSlicer {
  /** When the current run of work without a macrotask tick began, ms. */
  private sliceStart = 0;
  /** A macrotask ran since sliceStart (a probe posted at the slice's start came back). */
  private sawTurn = true;

  /**
   * @param sliceMs longest run of work without a tick, ms.
   * @param now clock, ms (performance.now()).
   * @param macro one macrotask tick (macrotask()); injected by tests.
   */
  constructor(
    private readonly sliceMs: number,
    private readonly now: () => number = () => performance.now(),
    private readonly macro: () => Promise<void> = macrotask
  ) {}

  /** Before a piece of work: undefined to go on at once, or a promise that resolves after a tick. */
  beforeStep(): Promise<void> | undefined {
    if (this.sawTurn) {
      this.startSlice();
      return undefined;
    }
    if (this.now() - this.sliceStart < this.sliceMs) return undefined;
    return this.macro().then(() => this.startSlice());
  }

  private startSlice(): void {
    this.sliceStart = this.now();
    this.sawTurn = false;
    void this.macro().then(() => {
      this.sawTurn = true;
    });
  }
}
