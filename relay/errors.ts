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
