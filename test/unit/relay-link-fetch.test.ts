// A plain relay that missed the start of a feed learns the missing link by fetching the
// predecessor over sync and checking its hash (relay/link-fetch.ts, relay/sync-fetch.ts), so it
// forwards that feed again at once instead of Ignoring it for good; a broken chain (valid
// signature, a prev nobody holds) is still never forwarded and costs at most one bounded fetch.
import { afterEach, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { networkNames } from '../../src/lib/core/topics.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { LinkFetcher, type FetchEntries } from '../../relay/link-fetch.js';
import { SyncFetchClient } from '../../relay/sync-fetch.js';
import { SYNC_PROTOCOL_ID } from '../../src/lib/core/sync/constants.js';
import { shortNetworkId } from '../../src/lib/core/topics.js';
import type { RunningRelay } from '../../relay/server.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { createRelayClient, dialRelay, waitFor, type ClientNode } from '../helpers/relay-client.js';
import { relayAddr, startTestRelay } from '../helpers/relay-fixture.js';
import { meshConnected, planRelays, startMeshRelay } from '../helpers/mesh-plan.js';
import { NodePeer } from '../helpers/node-peer.js';
import { pollUntil } from '../helpers/poll.js';

const genesis = defaultGenesis();
const net = networkId(genesis);
const bytes = (h: HashedEntry): Uint8Array => encodeEntry(h.entry);
const hex = (h: HashedEntry): string => toHex(h.hash);
const topicOf = (r: RunningRelay): string => networkNames(r.networkId).entriesTopic;

/** `after`'s successors signed by its author, linking to a random hash instead of `after`. */
async function broken(keyByte: number, after: HashedEntry, n = 1): Promise<HashedEntry[]> {
  const fake = { ...after, hash: crypto.getRandomValues(new Uint8Array(32)) };
  return makeChain(await keysFromByte(keyByte), n, net, fake, 'broken');
}

/** Polls the async `cond` every 100 ms until true; throws after `timeoutMs`. */
const waitForAsync = (cond: () => Promise<boolean>, what: string, timeoutMs: number) =>
  pollUntil(cond, what, timeoutMs, 100);

describe('LinkFetcher (no network)', () => {
  function fetcher(serve: FetchEntries, opts = {}) {
    const calls: string[] = [];
    const f = new LinkFetcher({
      networkId: net,
      genesis,
      peers: (via) => ['archive', ...(via ? [via] : [])],
      fetch: (peer, author, seq, signal) => {
        calls.push(`${peer}:${seq}`);
        return serve(peer, author, seq, signal);
      },
      opts
    });
    return { f, calls };
  }

  it('learns a predecessor that hashes to prev; refuses one that does not, and does not ask again', async () => {
    const chain = await makeChain(await keysFromByte(31), 3, net);
    const author = toHex(chain[0].entry.author);
    const { f, calls } = fetcher(async (_p, _a, seq) => [bytes(chain[seq - 1])]);
    expect(await f.fetch(author, 2, hex(chain[1]))).toBe(true);
    const random = toHex(crypto.getRandomValues(new Uint8Array(32)));
    expect(await f.fetch(author, 2, random, 'sender')).toBe(false); // both peers asked, neither matches
    expect(calls).toEqual(['archive:2', 'archive:2', 'sender:2']);
    expect(await f.fetch(author, 2, random)).toBe(false); // negative cache: not asked again
    expect(await f.fetch(author, 1, hex(chain[0]))).toBe(false); // the author cools down after a failure
    expect(calls).toHaveLength(3);
    expect(f.counts).toEqual({ started: 2, learnt: 1, failed: 1, skipped: 2 });
  });

  it('refuses an entry of another author, seq or network, and a tampered one', async () => {
    const chain = await makeChain(await keysFromByte(32), 2, net);
    const other = await makeChain(await keysFromByte(33), 2, net);
    const alien = await makeChain(await keysFromByte(32), 2, networkId({ ...genesis, name: 'elsewhere' }));
    const tampered = bytes(chain[1]);
    tampered[tampered.length - 3] ^= 1;
    const author = toHex(chain[0].entry.author);
    for (const served of [bytes(other[1]), bytes(chain[0]), bytes(alien[1]), tampered, new Uint8Array(50)]) {
      const { f } = fetcher(async () => [served]);
      expect(await f.fetch(author, 2, hex(chain[1]))).toBe(false);
    }
    // Another network's entry has another hash; a tampered one too: asked for the hash they claim.
    const { f } = fetcher(async () => [bytes(alien[1])]);
    expect(await f.fetch(author, 2, hex(alien[1]))).toBe(false);
  });

  it('one fetch per author and a global cap in flight; a peer that never answers costs one timeout', async () => {
    const chains = await Promise.all([34, 35, 36].map(async (b) => makeChain(await keysFromByte(b), 2, net)));
    const never: FetchEntries = (_p, _a, _s, signal) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const { f, calls } = fetcher(never, { maxInflight: 2, timeoutMs: 200 });
    const [a, b, c] = chains.map((ch) => toHex(ch[0].entry.author));
    const t0 = Date.now();
    const runs = [
      f.fetch(a, 1, hex(chains[0][0])),
      f.fetch(a, 2, hex(chains[0][1])), // same author: not fetched
      f.fetch(b, 1, hex(chains[1][0])),
      f.fetch(c, 1, hex(chains[2][0])) // over the cap: not fetched
    ];
    expect(await Promise.all(runs)).toEqual([false, false, false, false]);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(calls).toHaveLength(2); // one peer each: the timeout covers the whole fetch
    expect(f.counts).toMatchObject({ started: 2, skipped: 2, failed: 2 });
    expect(f.inflight).toBe(0);
  });

  it('starts at most perSecond fetches a second in all', async () => {
    const chains = await Promise.all([37, 38, 39].map(async (b) => makeChain(await keysFromByte(b), 1, net)));
    let now = 1_000_000;
    const f = new LinkFetcher({
      networkId: net,
      genesis,
      peers: () => ['archive'],
      fetch: async () => [],
      now: () => now,
      opts: { perSecond: 2, authorCooldownMs: 0 }
    });
    for (const ch of chains) await f.fetch(toHex(ch[0].entry.author), 1, hex(ch[0]));
    expect(f.counts).toMatchObject({ started: 2, skipped: 1 });
    now += 500; // one token back
    await f.fetch(toHex(chains[2][0].entry.author), 1, hex(chains[2][0]));
    expect(f.counts).toMatchObject({ started: 3, skipped: 1 });
  });
});

describe('a plain relay that missed the start of a feed', () => {
  const running: Array<{ stop(): void | Promise<void> }> = [];
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.stop();
  });

  async function clientOn(r: RunningRelay, topic: string): Promise<ClientNode> {
    const c = await createRelayClient({ reserve: false });
    running.push(c);
    await dialRelay(c, relayAddr(r));
    c.services.pubsub.subscribe(topic);
    await waitFor(
      () => c.services.pubsub.getSubscribers(topic).some((p) => p.equals(r.node.peerId)),
      'the relay to be subscribed'
    );
    return c;
  }

  async function metric(r: RunningRelay, name: string): Promise<number> {
    const text = await (await fetch(`${r.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  }

  it('SyncFetchClient: one entry from an archive over sync, nothing for a seq it lacks, the stream closed when idle', async () => {
    const a = await startTestRelay({ archive: true });
    running.push(a);
    const topic = topicOf(a);
    const writer = await clientOn(a, topic);
    const chain = await makeChain(await keysFromByte(44), 2, net);
    for (const h of chain) await writer.services.pubsub.publish(topic, bytes(h));
    await waitFor(() => a.archive!.status().entries === 2, 'the archive storing the feed');
    const sync = new SyncFetchClient({
      node: writer,
      protocol: SYNC_PROTOCOL_ID(shortNetworkId(a.networkId)),
      networkId: net,
      maxEntryBytes: genesis.maxEntryBytes,
      idleMs: 300
    });
    running.push({ stop: () => sync.close() });
    const archiveId = a.node.peerId.toString();
    await waitForAsync(() => sync.serves(archiveId), 'identify to show the archive serving sync', 10_000);
    const author = toHex(chain[0].entry.author);
    const got = await sync.get(archiveId, author, 2, AbortSignal.timeout(5_000));
    expect(got.map((b) => toHex(b))).toEqual([toHex(bytes(chain[1]))]);
    expect(await sync.get(archiveId, author, 3, AbortSignal.timeout(5_000))).toEqual([]);
    expect(a.archive!.status()).toMatchObject({ syncPeers: 1, syncRejectedPeers: 0 });
    await waitFor(() => a.archive!.status().syncPeers === 0, 'the idle stream closed', 5_000);
    // A new request opens a new stream.
    expect((await sync.get(archiveId, author, 1, AbortSignal.timeout(5_000))).length).toBe(1);
  });

  it('fetches the missing link from the archive: the archive gets the new entries by gossip within seconds; a broken chain is never forwarded', async () => {
    const plan = await planRelays(2);
    const a = await startMeshRelay(plan, 0, { archive: true });
    running.push(a);
    const archive = a.archive!;
    const topic = networkNames(a.networkId).entriesTopic;
    // The feed starts while the plain relay is not running: only the archive hears seq 1..3.
    const writer = await clientOn(a, topic);
    const chain = await makeChain(await keysFromByte(41), 6, net);
    for (const h of chain.slice(0, 3)) await writer.services.pubsub.publish(topic, bytes(h));
    await waitFor(() => archive.status().entries === 3, 'the archive storing seq 1..3');

    const p = await startMeshRelay(plan, 1);
    running.push(p);
    await waitFor(() => meshConnected(p) === 1, 'the plain relay meshed with the archive', 20_000);
    await waitFor(
      () => a.node.services.pubsub.getSubscribers(topic).some((x) => x.equals(p.node.peerId)),
      'the archive to see the plain relay subscribed'
    );
    // The author goes on writing through the plain relay (its client serves no sync).
    const late = await clientOn(p, topic);
    const t0 = Date.now();
    for (const h of chain.slice(3)) await late.services.pubsub.publish(topic, bytes(h));
    await waitFor(() => archive.status().entries === 6, 'the archive storing seq 4..6 by gossip', 5_000);
    console.log(`archive stored seq 4..6 ${Date.now() - t0} ms after they were published at the plain relay`);
    expect(archive.status().ingest.received).toBe(6); // all by gossip
    expect(archive.status().syncRejectedPeers).toBe(0); // the relay's hello was accepted
    expect(await metric(p, 'tabula_relay_link_fetches_learnt_total')).toBe(1); // seq 3, once
    expect(await metric(p, 'tabula_relay_unlinked_entries_total')).toBe(0);

    // A broken chain of a feed the archive holds: valid signatures, a prev nobody holds.
    const other = await makeChain(await keysFromByte(42), 3, net);
    for (const h of other) await writer.services.pubsub.publish(topic, bytes(h));
    await waitFor(() => archive.status().entries === 9, 'the archive storing the second feed');
    const heard: string[] = [];
    writer.services.pubsub.addEventListener('message', (ev) => {
      if (ev.detail.topic === topic) heard.push(toHex(ev.detail.data));
    });
    const fetches0 = await metric(p, 'tabula_relay_link_fetches_total');
    const unlinked0 = await metric(p, 'tabula_relay_unlinked_entries_total');
    const received0 = archive.status().ingest.received;
    const bad = [...(await broken(42, other[2])), ...(await broken(42, other[2])), ...(await broken(42, other[2], 3))];
    for (const h of bad) await late.services.pubsub.publish(topic, bytes(h));
    for (let t = Date.now(); (await metric(p, 'tabula_relay_unlinked_entries_total')) - unlinked0 < bad.length;) {
      if (Date.now() - t > 10_000) throw new Error('timed out waiting for the broken entries to be judged');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await metric(p, 'tabula_relay_unlinked_entries_total')).toBe(unlinked0 + bad.length);
    // One bounded fetch for the lot (the author then cools down), none learnt, nothing forwarded.
    expect(await metric(p, 'tabula_relay_link_fetches_total')).toBe(fetches0 + 1);
    expect(await metric(p, 'tabula_relay_link_fetches_learnt_total')).toBe(1);
    expect(archive.status().ingest.received).toBe(received0);
    expect(heard).toEqual([]);
    expect(p.guards.bans.total).toBe(0);
  }, 60_000);

  it('with no archive among its --peer relays, fetches the link from the peer that sent the entry when it serves sync', async () => {
    const plan = await planRelays(2);
    // The plain relay has no --peer; the sender (here an archive relay, which serves sync as a
    // browser does) dials it, so for the plain relay it is just the peer the entries come from.
    const p = await startTestRelay({
      dataDir: plan[1].dataDir,
      staticDir: plan[1].dataDir,
      relayPort: plan[1].relayPort
    });
    running.push(p);
    const topic = networkNames(p.networkId).entriesTopic;
    const reader = await clientOn(p, topic);
    const heard: string[] = [];
    reader.services.pubsub.addEventListener('message', (ev) => {
      if (ev.detail.topic === topic) heard.push(toHex(ev.detail.data));
    });
    const chain = await makeChain(await keysFromByte(43), 5, net);
    // The sender holds seq 1..2 before it meets the plain relay.
    const sender = await startTestRelay({ archive: true, dataDir: plan[0].dataDir, staticDir: plan[0].dataDir });
    running.push(sender);
    const writer = await clientOn(sender, topic);
    for (const h of chain.slice(0, 2)) await writer.services.pubsub.publish(topic, bytes(h));
    await waitFor(() => sender.archive!.status().entries === 2, 'the sender holding seq 1..2');
    await sender.node.dial(multiaddr(plan[1].addr));
    await waitFor(
      () => sender.node.services.pubsub.getSubscribers(topic).some((x) => x.equals(p.node.peerId)),
      'the sender to see the plain relay subscribed'
    );
    await waitFor(
      () => p.node.services.pubsub.getSubscribers(topic).some((x) => x.equals(sender.node.peerId)),
      'the plain relay to see the sender subscribed'
    );
    const t0 = Date.now();
    for (const h of chain.slice(2)) await writer.services.pubsub.publish(topic, bytes(h));
    await waitFor(() => heard.length === 3, 'seq 3..5 forwarded by the plain relay', 5_000);
    console.log(`plain relay forwarded seq 3..5 ${Date.now() - t0} ms after they were published`);
    expect([...heard].sort()).toEqual(
      chain
        .slice(2)
        .map((h) => toHex(bytes(h)))
        .sort()
    );
    expect(await metric(p, 'tabula_relay_link_fetches_learnt_total')).toBe(1);
  }, 60_000);

  it('a node writing through a restarted plain relay: the relay forwards its new entries again (to the archive) within seconds', async () => {
    const plan = await planRelays(2);
    const a = await startMeshRelay(plan, 0, { archive: true });
    running.push(a);
    let p = await startMeshRelay(plan, 1);
    await waitFor(() => meshConnected(p) === 1, 'a mesh', 20_000);
    const archive = a.archive!;
    // Pinned to the plain relay: the archive hears the node only through it (by gossip).
    const node = await NodePeer.start(p.url, { maxRelays: 1 });
    running.push(node);
    const viaPlain = async () => (await node.summary()).peers.some((x) => x.id === p.node.peerId.toString());
    const writeSome = async (prefix: string, n: number) => {
      const start = (await node.summary()).entries;
      await node.write(prefix, 20);
      for (let t = Date.now(); (await node.summary()).entries < start + n;) {
        if (Date.now() - t > 20_000) throw new Error(`timed out writing ${prefix}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return (await node.stopWrite()).acks.length;
    };
    const before = await writeSome('a', 5);
    await waitFor(() => archive.status().entries === before, 'the archive storing the first writes', 20_000);

    // The plain relay restarts: it has forgotten every feed.
    await p.stop();
    p = await startMeshRelay(plan, 1);
    running.push(p);
    await waitFor(() => meshConnected(p) === 1, 'the mesh again', 20_000);
    for (let t = Date.now(); !(await viaPlain());) {
      if (Date.now() - t > 40_000) throw new Error('timed out waiting for the node to reconnect');
      await new Promise((r) => setTimeout(r, 200));
    }
    const nodeId = (await node.summary()).peerId;
    await waitFor(
      () => p.node.services.pubsub.getSubscribers(topicOf(p)).some((x) => x.toString() === nodeId),
      'the restarted relay to see the node subscribed',
      20_000
    );
    const after = await writeSome('b', 5);
    const written = Date.now();
    await waitFor(
      () => archive.status().entries === before + after,
      `the archive storing all ${before + after} writes`,
      10_000
    );
    console.log(`archive stored the writes made after the restart ${Date.now() - written} ms after the last one`);
    // While the plain relay was down the node may have failed over to the archive relay too (the
    // app's relay list names both; the archive then also hears it directly): in any case the
    // restarted relay must forward the feed again, every entry after the restart.
    const direct = (await node.summary()).peers.some((x) => x.id === a.node.peerId.toString());
    console.log(`node also linked to the archive directly: ${direct}`);
    await waitForAsync(
      async () => (await metric(p, 'tabula_relay_entries_relayed_total')) >= after,
      `the restarted relay forwarding all ${after} new entries`,
      10_000
    );
    expect(await metric(p, 'tabula_relay_link_fetches_learnt_total')).toBeGreaterThanOrEqual(1);
    expect(await metric(p, 'tabula_relay_unlinked_entries_total')).toBe(0);
  }, 120_000);
});
