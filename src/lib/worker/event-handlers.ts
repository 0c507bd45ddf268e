// `onfoo` properties on top of EventTarget, as DOM objects have them: setting one replaces the
// previous handler and coexists with addEventListener listeners.
export class HandlerTarget extends EventTarget {
  #handlers = new Map<string, (ev: Event) => void>();

  protected getHandler(type: string): ((ev: Event) => void) | null {
    return this.#handlers.get(type) ?? null;
  }

  protected setHandler(type: string, fn: ((ev: never) => unknown) | null): void {
    const prev = this.#handlers.get(type);
    if (prev !== undefined) this.removeEventListener(type, prev);
    this.#handlers.delete(type);
    if (typeof fn === 'function') {
      const wrapped = (ev: Event): void => void (fn as (ev: Event) => unknown).call(this, ev);
      this.#handlers.set(type, wrapped);
      this.addEventListener(type, wrapped);
    }
  }
}

/** An Event with extra read-only fields (candidate, channel, error...). */
export function eventWith<T extends object>(type: string, fields: T): Event & T {
  const ev = new Event(type);
  for (const [k, v] of Object.entries(fields)) Object.defineProperty(ev, k, { value: v, enumerable: true });
  return ev as Event & T;
}
