// Live gossip through the relay mesh reaches the archive relay (issue 10): a node pinned to a
// plain relay writes at once, before its entry gossip runs (its verified join is still waiting,
// or its network is still starting); those first entries must still be gossiped, or every plain
// relay Ignores the rest of its feed for good (gossip carries only entries that link,
// core/chain-links.ts) and the archive gets them only at its next periodic sync, 30-60 s later.
// And an archive that hears an entry before its predecessor keeps it (held pending, sync asked)
// instead of dropping it with the Ignored message.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { networkNames } from '../../src/lib/core/topics.js';
import type { RunningRelay } from '../../relay/server.js';
import { NodePeer } from '../helpers/node-peer.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { createRelayClient, dialRelay, waitFor } from '../helpers/relay-client.js';
import { relayAddr, startTestRelay } from '../helpers/relay-fixture.js';
import { meshConnected, planRelays, startMeshRelay } from '../helpers/mesh-plan.js';
import { pollUntil } from '../helpers/poll.js';

const running: Array<{ stop(): void | Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

/** Polls the async `cond` every 100 ms until true; throws after `timeoutMs`. */
const waitForAsync = (cond: () => Promise<boolean>, what: string, timeoutMs: number) =>
  pollUntil(cond, what, timeoutMs, 100);

async function unlinkedAt(r: RunningRelay): Promise<number> {
  const text = await (await fetch(`${r.url}/metrics`)).text();
  return Number(/^tabula_relay_unlinked_entries_total (\d+)$/m.exec(text)?.[1]);
}

describe('gossip through the relay mesh to the archive', () => {
  it('carries the writes a node made before its gossip ran, so the archive gets them by gossip within seconds', async () => {
    const plan = await planRelays(3);
    // Started together, as the scale test and an operator's deploy do.
    const relays = await Promise.all([0, 1, 2].map((i) => startMeshRelay(plan, i, { archive: i === 0 })));
    running.push(...relays);
    const archive = relays[0].archive!;
    await waitFor(() => relays.every((r) => meshConnected(r) === 2), 'a full mesh', 20_000);

    // Pinned to plain relay 1 (`?relays=1`), so the archive hears it only through the mesh; it
    // writes at once: its join (no peer serves one yet) and its network are still starting.
    const node = await NodePeer.start(relays[1].url, { maxRelays: 1 });
    running.push(node);
    await node.write('w', 20);
    await waitForAsync(async () => (await node.summary()).entries >= 5, 'five writes', 20_000);
    const { acks, failures } = await node.stopWrite();
    expect(failures).toEqual([]);
    const written = Date.now();

    await waitFor(() => archive.status().entries === acks.length, `the archive storing ${acks.length} entries`, 10_000);
    console.log(`archive stored all ${acks.length} writes ${Date.now() - written} ms after the last one`);
    // By gossip through relay 1 (the node has no link to the archive, so no sync), every entry linking there.
    expect((await node.summary()).peers.map((p) => p.id)).not.toContain(relays[0].node.peerId.toString());
    expect(archive.status().ingest.receivedEntries).toBeGreaterThanOrEqual(acks.length);
    expect(await unlinkedAt(relays[1])).toBe(0);
  }, 60_000);

  it('an archive keeps an entry heard before its predecessor and stores it once the predecessor comes', async () => {
    const relay = await startTestRelay({ archive: true });
    running.push(relay);
    const archive = relay.archive!;
    const topic = networkNames(relay.networkId).entriesTopic;
    const client = await createRelayClient({ reserve: false });
    running.push(client);
    await dialRelay(client, relayAddr(relay));
    client.services.pubsub.subscribe(topic);
    await waitFor(
      () => client.services.pubsub.getSubscribers(topic).some((p) => p.equals(relay.node.peerId)),
      'the relay to be subscribed'
    );
    const chain = await makeChain(await keysFromByte(21), 2, networkId(defaultGenesis()));

    // seq 2 first: no predecessor here, so gossip Ignores it (not forwarded, not delivered)...
    await client.services.pubsub.publish(topic, encodeEntry(chain[1].entry));
    await waitFor(() => archive.status().pending === 1, 'seq 2 held pending');
    expect(archive.status().ingest).toMatchObject({ received: 0, gaps: 1 });
    // ...yet it is stored as soon as seq 1 arrives, not at the next periodic sync.
    await client.services.pubsub.publish(topic, encodeEntry(chain[0].entry));
    await waitFor(() => archive.status().entries === 2, 'both entries stored', 5_000);
    expect(archive.status()).toMatchObject({ pending: 0, ingest: { received: 1, gaps: 1 } });
  });
});
