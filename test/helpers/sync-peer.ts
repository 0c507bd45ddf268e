// A Node peer for archive tests: a ledger (memory store) with the browsers' entry gossip and sync
// driver on a libp2p client that dials a relay over WebSockets, as a browser tab would.
import type { SyncEngine } from '../../src/lib/core/sync/engine.js';
import { SYNC_PROTOCOL_ID } from '../../src/lib/core/sync/constants.js';
import { networkNames, shortNetworkId } from '../../src/lib/core/topics.js';
import type { SyncDriver } from '../../src/lib/worker/sync-driver.js';
import { startEntryGossip, type EntryGossip } from '../../src/lib/worker/entry-gossip.js';
import { createRelayClient, dialRelay, waitFor, type ClientNode } from './relay-client.js';
import { memoryLocation, openLedger, type TestLedger } from './ledger-nodes.js';
import { startLedgerSync } from './sync-wiring.js';

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
  const { engine, driver } = await startLedgerSync(t.ledger, node, SYNC_PROTOCOL_ID(shortNetworkId(net)));
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
