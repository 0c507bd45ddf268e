// Two connected BridgePorts in one thread. Messages are delivered asynchronously and in order,
// as with a MessageChannel; objects in the transfer list are passed by reference.
import type { BridgePort } from '../../src/lib/worker/rtc-bridge-protocol.js';

class LocalPort extends EventTarget implements BridgePort {
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
  override addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void {
    super.addEventListener(type, listener as EventListener);
  }
  override removeEventListener(type: 'message', listener: (ev: MessageEvent) => void): void {
    super.removeEventListener(type, listener as EventListener);
  }
}

export function portPair(): [LocalPort, LocalPort] {
  const a = new LocalPort();
  const b = new LocalPort();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
