// The relay mesh with real relays (relay/mesh.ts): three relays started with --peer connect to
// each other, gossip (entries, beacons, discovery) published at one relay reaches clients of
// another, /api/network and /api/relays show the whole network, and a relay that restarts is
// redialled.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { publicKeyToProtobuf } from '@libp2p/crypto/keys';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { generateKeys } from '../../src/lib/core/ed25519.js';
import { encodeBeacon } from '../../src/lib/core/telemetry.js';
import { peerIdOfAuthor } from '../../src/lib/core/peer-id.js';
import { networkNames } from '../../src/lib/core/topics.js';
import { multiaddr } from '@multiformats/multiaddr';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import { parseConfig } from '../../relay/config.js';
import { exemptMeshPeers } from '../../relay/mesh.js';
import { relayAwareGater } from '../../src/lib/platform/libp2p-browser.js';
import type { NetworkReport } from '../../relay/telemetry.js';
import type { RunningRelay } from '../../relay/server.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { createRelayClient, dialRelay, waitFor, type ClientNode } from '../helpers/relay-client.js';
import { relayAddr, startTestRelay } from '../helpers/relay-fixture.js';
import { planRelays, type PlannedRelay } from '../helpers/mesh-plan.js';

const running: Array<{ stop(): void | Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

type Planned = PlannedRelay;
const plan = planRelays;

async function startPlanned(all: Planned[], i: number, peers = all.filter((_, j) => j !== i)): Promise<RunningRelay> {
  const p = all[i];
  const r = await startTestRelay({
    dataDir: p.dataDir,
    staticDir: p.dataDir,
    relayPort: p.relayPort,
    peers: peers.map((q) => q.addr)
  });
  running.push(r);
  return r;
}

async function client(r: RunningRelay, topics: string[]): Promise<ClientNode> {
  const c = await createRelayClient({ reserve: false });
  running.push(c);
  await dialRelay(c, relayAddr(r));
  for (const t of topics) c.services.pubsub.subscribe(t);
  await waitFor(
    () => topics.every((t) => c.services.pubsub.getSubscribers(t).some((p) => p.equals(r.node.peerId))),
    'the relay to be subscribed'
  );
  return c;
}

const meshUp = (r: RunningRelay, n: number): boolean => r.mesh.status().filter((p) => p.connected).length === n;

/** Collects messages `c` receives on `topic`. */
function inbox(c: ClientNode, topic: string): Uint8Array[] {
  const got: Uint8Array[] = [];
  c.services.pubsub.addEventListener('message', (ev) => {
    if (ev.detail.topic === topic) got.push(ev.detail.data);
  });
  return got;
}

describe('relay mesh', () => {
  it('three relays with --peer share entries, beacons and discovery, and each lists the others', async () => {
    const p = await plan(3);
    const relays = [await startPlanned(p, 0), await startPlanned(p, 1), await startPlanned(p, 2)];
    await waitFor(() => relays.every((r) => meshUp(r, 2)), 'a full mesh');
    const names = networkNames(relays[0].networkId);
    const topics = [names.entriesTopic, names.telemetryTopic, names.discoveryTopic];
    const c1 = await client(relays[0], topics);
    const c3 = await client(relays[2], topics);
    const entries = inbox(c3, names.entriesTopic);
    const discovery = inbox(c3, names.discoveryTopic);
    // Gossipsub needs the relays' subscriptions to each other before it forwards.
    await waitFor(
      () =>
        relays[0].node.services.pubsub.getSubscribers(names.entriesTopic).some((x) => x.equals(relays[2].node.peerId)),
      'relay 1 to see relay 3 subscribed'
    );

    const chain = await makeChain(await keysFromByte(11), 3, networkId(defaultGenesis()));
    for (const h of chain) await c1.services.pubsub.publish(names.entriesTopic, encodeEntry(h.entry));
    // A valid announcement (of c1's own key): relays drop announcements for another peer id.
    const key = publicKeyToProtobuf(c1.peerId.publicKey!);
    await c1.services.pubsub.publish(names.discoveryTopic, Uint8Array.from([0x0a, key.length, ...key]));
    await waitFor(() => entries.length === 3 && discovery.length === 1, 'entries and discovery at relay 3');

    const keys = await generateKeys();
    const author = toHex(keys.publicKey);
    const body = {
      author,
      role: 'full' as const,
      version: '0.1.0',
      peers: 1,
      entries: 3,
      headsRoot: '11'.repeat(32),
      lagEntries: null,
      lagMs: null,
      storageUsed: null,
      storageQuota: null,
      time: Date.now()
    };
    await c1.services.pubsub.publish(names.telemetryTopic, await encodeBeacon(body, keys.seed, relays[0].networkId));
    const peerId = peerIdOfAuthor(author).toString();
    for (const r of relays) {
      await waitFor(() => r.telemetry.nodes().some((n) => n.peerId === peerId), 'the beacon at every relay');
      const report = (await (await fetch(`${r.url}/api/network`)).json()) as NetworkReport;
      expect(report.nodes.map((n) => n.peerId)).toContain(peerId);
    }

    const listed = ((await (await fetch(`${relays[1].url}/api/relays`)).json()) as { relays: string[] }).relays;
    expect(listed[0]).toBe(relayAddr(relays[1]));
    expect(new Set(listed)).toEqual(new Set(p.map((q) => q.addr)));
    const health = (await (await fetch(`${relays[1].url}/healthz`)).json()) as { mesh: { connected: boolean }[] };
    expect(health.mesh.map((m) => m.connected)).toEqual([true, true]);

    // A browser that loaded the list from relay 2 may dial circuits through any relay of it,
    // and through no other.
    const gater = relayAwareGater(listed);
    const browser = c3.peerId.toString();
    for (const q of p)
      expect(gater.denyDialMultiaddr(multiaddr(`${q.addr}/p2p-circuit/webrtc/p2p/${browser}`))).toBe(false);
    const stranger = `/ip4/127.0.0.1/tcp/1/ws/p2p/${c1.peerId.toString()}/p2p-circuit/webrtc/p2p/${browser}`;
    expect(gater.denyDialMultiaddr(multiaddr(stranger))).toBe(true);
  }, 60_000);

  it('redials a mesh peer that restarts', async () => {
    const p = await plan(2);
    const a = await startPlanned(p, 0);
    let b = await startPlanned(p, 1);
    await waitFor(() => meshUp(a, 1) && meshUp(b, 1), 'the mesh');
    await b.stop();
    running.splice(running.indexOf(b), 1);
    await waitFor(() => meshUp(a, 0), 'a to see b gone');
    // Some dials fail while b is down; b comes back without --peer, so only a's redial can connect.
    await waitFor(() => a.mesh.status()[0].failures > 0, 'a failed redial', 20_000);
    const down = Date.now();
    b = await startPlanned(p, 1, []);
    await waitFor(() => meshUp(a, 1), 'a to reconnect', 20_000);
    console.log(`mesh peer redialled ${Date.now() - down} ms after its restart began`);
    expect(a.mesh.status()[0].failures).toBe(0);
  }, 60_000);

  it('--relays are listed at /api/relays after the relay itself', async () => {
    const [q] = await plan(1);
    const other = '/dns4/relay2.example.com/tcp/443/wss/p2p/12D3KooWGw7s97HRwbz16h7w3ub8kvtk9ATFLvhaZa7atjN1xeJr';
    const r = await startTestRelay({ dataDir: q.dataDir, staticDir: q.dataDir, relays: [other] });
    running.push(r);
    const listed = ((await (await fetch(`${r.url}/api/relays`)).json()) as { relays: string[] }).relays;
    expect(listed).toEqual([relayAddr(r), other]);
  });

  it('behind TLS: --announce is what /api/relays lists, on the relay and on a relay meshed over a private address', async () => {
    const p = await plan(2);
    const pub = '/dns4/ws.relay1.example.com/tcp/443/wss';
    const id = p[0].addr.split('/p2p/')[1];
    // Relay 1 announces its public wss address; relay 2 reaches it at its private (loopback) one.
    const r1 = await startTestRelay({
      dataDir: p[0].dataDir,
      staticDir: p[0].dataDir,
      relayPort: p[0].relayPort,
      announce: [pub]
    });
    running.push(r1);
    const r2 = await startPlanned(p, 1, [p[0]]);
    await waitFor(() => meshUp(r2, 1), 'relay 2 meshed with relay 1');
    const relaysOf = async (r: RunningRelay) =>
      ((await (await fetch(`${r.url}/api/relays`)).json()) as { relays: string[] }).relays;
    expect(await relaysOf(r1)).toEqual([`${pub}/p2p/${id}`]);
    // Identify carries the announced address to relay 2, which gives browsers that one, not the private one.
    await waitFor(() => r2.mesh.browserAddrs(id).includes(`${pub}/p2p/${id}`), 'identify from relay 1');
    const listed = await relaysOf(r2);
    expect(listed).toContain(`${pub}/p2p/${id}`);
    expect(listed).not.toContain(p[0].addr);
  }, 60_000);

  it('parses --peer, --relays and --announce: repeatable, comma-separated, flags replace variables', () => {
    const id = '12D3KooWGw7s97HRwbz16h7w3ub8kvtk9ATFLvhaZa7atjN1xeJr';
    const a = `/ip4/10.0.0.2/tcp/9090/ws/p2p/${id}`;
    const b = `/dns4/r3.example.com/tcp/443/wss/p2p/${id}`;
    const env = { TABULA_PEERS: `${a}, ${b}`, TABULA_RELAYS: b, TABULA_ANNOUNCE: '/dns4/r1.example.com/tcp/443/wss' };
    expect(parseConfig([], env)).toMatchObject({
      peers: [a, b],
      relays: [b],
      announce: ['/dns4/r1.example.com/tcp/443/wss']
    });
    expect(parseConfig(['--peer', b, `--peer=${a}`], env).peers).toEqual([b, a]);
    expect(parseConfig([], {})).toMatchObject({ peers: [], relays: [], announce: [] });
    expect(() => parseConfig(['--peer', '/ip4/10.0.0.2/tcp/9090/ws'], {})).toThrow(/needs \/p2p/);
    expect(() => parseConfig(['--relays', 'not-a-multiaddr'], {})).toThrow(/not a multiaddr/);
  });

  it('never rate-limits a mesh peer, and still limits everyone else', () => {
    const limited = vi.fn(() => TopicValidatorResult.Ignore);
    const validate = exemptMeshPeers(limited, new Set(['relay-2']));
    const msg = { type: 'unsigned', topic: 't', data: new Uint8Array(1) } as never;
    expect(validate({ toString: () => 'relay-2' } as never, msg)).toBe(TopicValidatorResult.Accept);
    expect(validate({ toString: () => 'browser' } as never, msg)).toBe(TopicValidatorResult.Ignore);
    expect(limited).toHaveBeenCalledTimes(1);
  });

  it('refuses a --peer without a peer id, and one naming the relay itself', async () => {
    const [q] = await plan(1);
    await expect(
      startTestRelay({ dataDir: q.dataDir, staticDir: q.dataDir, peers: ['/ip4/127.0.0.1/tcp/1/ws'] })
    ).rejects.toMatchObject({ name: 'MeshConfigError' });
    await expect(startTestRelay({ dataDir: q.dataDir, staticDir: q.dataDir, peers: [q.addr] })).rejects.toMatchObject({
      name: 'MeshConfigError'
    });
  });
});
