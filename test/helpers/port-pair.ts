// Two connected BridgePorts in one thread. Messages are delivered asynchronously and in order,
// as with a MessageChannel; objects in the transfer list are passed by reference.
import type { BridgePort } from '../../src/lib/worker/rtc-bridge-protocol.js';

class LocalPort extends EventTarget {
  peer!: LocalPort;
  closed = false;
  readonly sent: unknown[] = [];
  postMessage(message: unknown): void {
    if (this.closed) return;
    this.sent.push(message);
    const target = this.peer;
    setTimeout(() => {
      if (!target.closed) target.dispatchEvent(new MessageEvent('message', { data: message }));
    }, 0);
  }
}

export type TestPort = BridgePort & { closed: boolean; readonly sent: unknown[] };

export function portPair(): [TestPort, TestPort] {
  const a = new LocalPort();
  const b = new LocalPort();
  a.peer = b;
  b.peer = a;
  // EventTarget's listener signature is wider than BridgePort's message-only one.
  return [a as unknown as TestPort, b as unknown as TestPort];
}
