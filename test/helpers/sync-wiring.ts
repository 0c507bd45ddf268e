// A ledger's sync engine wired to the libp2p sync driver that carries its messages (each needs the
// other: the engine sends through the driver, the driver feeds the engine), as the worker does.
import type { Libp2p } from '@libp2p/interface';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import { SyncDriver } from '../../src/lib/worker/sync-driver.js';

/** Starts a SyncEngine over `ledger` (wall clock, random nonces) and its SyncDriver on `node`. */
export async function startLedgerSync(
  ledger: Ledger,
  node: Libp2p,
  protocol: string
): Promise<{ engine: SyncEngine; driver: SyncDriver }> {
  const box: { driver?: SyncDriver } = {};
  const engine = new SyncEngine({
    replica: ledgerReplica(ledger),
    send: (peer, bytes) => box.driver?.send(peer, bytes),
    now: () => Date.now(),
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    onPeerRejected: (peer, err) => box.driver?.onPeerRejected(peer, err)
  });
  const driver = new SyncDriver({ node, engine, protocol });
  box.driver = driver;
  await driver.start();
  return { engine, driver };
}
