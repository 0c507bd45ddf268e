// Errors of the relay's own code (config errors live in config.ts).

/**
 * A libp2p module no longer has the internals a relay hardening step reaches into (checked at
 * start-up, so an upgrade fails loudly instead of silently dropping a limit).
 */
export class UnsupportedLibraryError extends Error {
  override name = 'UnsupportedLibraryError';
}

/** `<data-dir>/relay.key` exists but is not a libp2p private key (damaged, truncated, another file). */
export class RelayKeyError extends Error {
  override name = 'RelayKeyError';
}

/**
 * What to tell an operator when the relay could not start because an address is taken
 * (EADDRINUSE, raised by Node's listen and wrapped by libp2p's transport manager), or undefined
 * for any other error. Walks `cause` and AggregateError `errors`.
 */
export function describeAddressInUse(err: unknown, ports: { port: number; relayPort: number }): string | undefined {
  const seen = new Set<unknown>();
  const stack: unknown[] = [err];
  while (stack.length > 0) {
    const e = stack.pop();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const { code, message, cause, errors } = e as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    const text = typeof message === 'string' ? message : '';
    if (code === 'EADDRINUSE' || text.includes('EADDRINUSE')) {
      // Node: "listen EADDRINUSE: address already in use 127.0.0.1:9090" (libp2p quotes it inside its own).
      const addr = /EADDRINUSE[^\n]*?in use (\S+:\d+)/.exec(text)?.[1];
      return (
        `Cannot start: ${addr ?? 'an address'} is already in use (another relay, or another program). ` +
        `Choose free ports with --port (HTTP, now ${ports.port}) and --relay-port (libp2p, now ${ports.relayPort}).`
      );
    }
    stack.push(cause, ...(Array.isArray(errors) ? errors : []));
  }
  return undefined;
}
