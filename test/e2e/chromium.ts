// How every Playwright launch here starts Debian's Chromium (tests, fault suite, browser bench).

/** Debian's Chromium; CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags: no sandbox or GPU in this container, no background traffic (the machine's closed network
 * refuses it, many at a time), and ICE over loopback, needed inside the loopback-only namespace
 * (see test/e2e/fixtures.ts).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection'
];
