// A Node peer for archive tests: a ledger (memory store) with the browsers' entry gossip and sync
// driver on a libp2p client that dials a relay over WebSockets, as a browser tab would.
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import { SYNC_PROTOCOL_ID } from '../../src/lib/core/sync/constants.js';
import { networkNames, shortNetworkId } from '../../src/lib/core/topics.js';
import { SyncDriver } from '../../src/lib/worker/sync-driver.js';
import { startEntryGossip, type EntryGossip } from '../../src/lib/worker/entry-gossip.js';
import { createRelayClient, dialRelay, waitFor, type ClientNode } from './relay-client.js';
import { memoryLocation, openLedger, type TestLedger } from './ledger-nodes.js';

export interface SyncPeer {
  tl: TestLedger;
  node: ClientNode;
  engine: SyncEngine;
  driver: SyncDriver;
  gossip: EntryGossip;
  /** Dials the relay and waits until it is subscribed to the entries topic (so writes reach it). */
  connect(relayAddr: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startSyncPeer(keyByte: number, tl?: TestLedger): Promise<SyncPeer> {
  const t = tl ?? (await openLedger(memoryLocation(), keyByte, { now: Date.now }));
  const net = t.ledger.networkIdHex;
  const node = await createRelayClient({ reserve: false });
  const box: { driver?: SyncDriver } = {};
  const engine = new SyncEngine({
    replica: ledgerReplica(t.ledger),
    send: (peer, bytes) => box.driver?.send(peer, bytes),
    now: () => Date.now(),
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    onPeerRejected: (peer, err) => box.driver?.onPeerRejected(peer, err)
  });
  const driver = new SyncDriver({ node, engine, protocol: SYNC_PROTOCOL_ID(shortNetworkId(net)) });
  box.driver = driver;
  await driver.start();
  const topic = networkNames(net).entriesTopic;
  const gossip = startEntryGossip(node, t.ledger, topic, undefined, {}, { onPending: () => driver.pendingSeen() });
  return {
    tl: t,
    node,
    engine,
    driver,
    gossip,
    async connect(addr) {
      await dialRelay(node, addr);
      const pubsub = node.services.pubsub;
      await waitFor(() => pubsub.getSubscribers(topic).length > 0, 'the relay subscribed to entries');
    },
    async stop() {
      gossip.stop();
      await driver.stop();
      engine.close();
      await node.stop();
      await t.ledger.close();
    }
  };
}
