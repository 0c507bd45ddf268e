// Waiting in tests for something asynchronous to happen, without fixed sleeps.

/** Lets the event loop run (setImmediate turns, no timer delays) until `cond` holds; throws after `ms`. */
export async function untilImmediate(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not reached within ${ms / 1000} s`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Polls `cond` every `everyMs` until it holds; throws "timed out waiting for <what>" after `timeoutMs`. */
export async function pollUntil(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  everyMs: number
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `cond` every 5 ms for up to `ms`; whether it holds then (never throws). */
export async function holdsWithin(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  return cond();
}
