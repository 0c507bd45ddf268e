// A data channel handed out synchronously in the worker while the real RTCDataChannel is being
// created on the main thread; once that one is transferred here, this object forwards to it.
import { eventWith, HandlerTarget } from './event-handlers.js';

const FORWARDED = ['open', 'close', 'closing', 'error', 'message', 'bufferedamountlow'] as const;

export class DeferredDataChannel extends HandlerTarget {
  readonly label: string;
  readonly ordered: boolean;
  readonly protocol: string;
  readonly negotiated: boolean;
  #real: RTCDataChannel | undefined;
  #state: RTCDataChannelState = 'connecting';
  #binaryType: BinaryType = 'arraybuffer';
  #lowThreshold = 0;
  #closeRequested = false;

  constructor(label: string, init: RTCDataChannelInit = {}) {
    super();
    this.label = label;
    this.ordered = init.ordered ?? true;
    this.protocol = init.protocol ?? '';
    this.negotiated = init.negotiated ?? false;
  }

  get id(): number | null {
    return this.#real?.id ?? null;
  }
  get readyState(): RTCDataChannelState {
    return this.#real?.readyState ?? this.#state;
  }
  get bufferedAmount(): number {
    return this.#real?.bufferedAmount ?? 0;
  }
  get binaryType(): BinaryType {
    return this.#binaryType;
  }
  set binaryType(v: BinaryType) {
    this.#binaryType = v;
    if (this.#real !== undefined) this.#real.binaryType = v;
  }
  get bufferedAmountLowThreshold(): number {
    return this.#lowThreshold;
  }
  set bufferedAmountLowThreshold(v: number) {
    this.#lowThreshold = v;
    if (this.#real !== undefined) this.#real.bufferedAmountLowThreshold = v;
  }

  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void {
    if (this.#real === undefined || this.#real.readyState !== 'open') {
      throw new DOMException(`RTCDataChannel.readyState is '${this.readyState}'`, 'InvalidStateError');
    }
    this.#real.send(data as ArrayBuffer);
  }

  close(): void {
    if (this.#real !== undefined) return this.#real.close();
    this.#closeRequested = true;
  }

  /** The real channel arrived (transferred from the main thread). */
  attach(real: RTCDataChannel): void {
    if (this.#real !== undefined || this.#state === 'closed') {
      real.close();
      return;
    }
    this.#real = real;
    real.binaryType = this.#binaryType;
    real.bufferedAmountLowThreshold = this.#lowThreshold;
    for (const type of FORWARDED) {
      real.addEventListener(type, (ev) => {
        this.dispatchEvent(
          type === 'message'
            ? new MessageEvent('message', { data: (ev as MessageEvent).data })
            : eventWith(type, type === 'error' ? { error: (ev as RTCErrorEvent).error } : {})
        );
      });
    }
    if (this.#closeRequested) real.close();
    // Events that fired before we listened are replayed from the state we find.
    else if (real.readyState === 'open') this.dispatchEvent(new Event('open'));
    else if (real.readyState === 'closed') this.dispatchEvent(new Event('close'));
  }

  /** Creation failed or the peer connection closed first. */
  fail(error?: Error): void {
    if (this.#real !== undefined || this.#state === 'closed') return;
    this.#state = 'closed';
    if (error !== undefined) this.dispatchEvent(eventWith('error', { error }));
    this.dispatchEvent(new Event('close'));
  }

  get onopen() {
    return this.getHandler('open');
  }
  set onopen(fn) {
    this.setHandler('open', fn);
  }
  get onclose() {
    return this.getHandler('close');
  }
  set onclose(fn) {
    this.setHandler('close', fn);
  }
  get onclosing() {
    return this.getHandler('closing');
  }
  set onclosing(fn) {
    this.setHandler('closing', fn);
  }
  get onerror() {
    return this.getHandler('error');
  }
  set onerror(fn) {
    this.setHandler('error', fn);
  }
  get onmessage() {
    return this.getHandler('message');
  }
  set onmessage(fn) {
    this.setHandler('message', fn);
  }
  get onbufferedamountlow() {
    return this.getHandler('bufferedamountlow');
  }
  set onbufferedamountlow(fn) {
    this.setHandler('bufferedamountlow', fn);
  }
}
