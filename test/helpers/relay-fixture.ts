// Starts a relay on free ports with a temporary data and static directory, for relay tests.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, type RelayConfig } from '../../relay/config.js';
import { startRelay, type RunningRelay } from '../../relay/server.js';

export async function tempDir(prefix = 'tabula-relay-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A relay on 127.0.0.1 with free ports; `overrides` replace the defaults. */
export async function startTestRelay(overrides: Partial<RelayConfig> = {}): Promise<RunningRelay> {
  const dataDir = await tempDir();
  return startRelay({ ...DEFAULTS, port: 0, relayPort: 0, dataDir, staticDir: dataDir, ...overrides });
}

/** The relay's first WebSocket multiaddr, with its peer id. */
export function relayAddr(relay: RunningRelay): string {
  return relay.node.getMultiaddrs()[0].toString();
}
