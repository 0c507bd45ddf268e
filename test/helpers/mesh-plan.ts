// Relays of a mesh planned before any starts (key and port fixed), so every relay's --peer list
// is known up front, as an operator configures them; started in process.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { loadOrCreateKey } from '../../relay/key.js';
import type { RelayConfig } from '../../relay/config.js';
import type { RunningRelay } from '../../relay/server.js';
import { startTestRelay, tempDir } from './relay-fixture.js';

export interface PlannedRelay {
  dataDir: string;
  relayPort: number;
  /** The libp2p WebSocket multiaddr with /p2p/<id>. */
  addr: string;
}

/** A free TCP port on loopback (closed again before it is returned). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Data dirs with keys and free ports for `n` relays. */
export async function planRelays(n: number): Promise<PlannedRelay[]> {
  const out: PlannedRelay[] = [];
  for (let i = 0; i < n; i++) {
    const dataDir = await tempDir();
    const id = peerIdFromPrivateKey(await loadOrCreateKey(join(dataDir, 'relay.key'))).toString();
    const relayPort = await freePort();
    out.push({ dataDir, relayPort, addr: `/ip4/127.0.0.1/tcp/${relayPort}/ws/p2p/${id}` });
  }
  return out;
}

/** Starts relay `i` of `all` with `--peer` for every other one (a full mesh); `extra` adds config. */
export function startMeshRelay(
  all: PlannedRelay[],
  i: number,
  extra: Partial<RelayConfig> = {}
): Promise<RunningRelay> {
  const p = all[i];
  return startTestRelay({
    dataDir: p.dataDir,
    staticDir: p.dataDir,
    relayPort: p.relayPort,
    peers: all.filter((_, j) => j !== i).map((q) => q.addr),
    ...extra
  });
}

/** Mesh peers of `r` connected now. */
export function meshConnected(r: RunningRelay): number {
  return r.mesh.status().filter((m) => m.connected).length;
}
