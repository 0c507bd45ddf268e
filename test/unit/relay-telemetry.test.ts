// The relay's /api/network (verified beacons from real gossip clients) and its Prometheus
// /metrics (prom-client), checked with `promtool check metrics` where promtool is installed.
import { encodeEntry } from '../../src/lib/core/entry.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { toHex } from '../../src/lib/core/bytes.js';
import { generateKeys } from '../../src/lib/core/ed25519.js';
import { encodeBeacon, type BeaconBody } from '../../src/lib/core/telemetry.js';
import { peerIdOfAuthor } from '../../src/lib/core/peer-id.js';
import { networkNames } from '../../src/lib/core/topics.js';
import { createRelayMetrics, type RelayMetricsSource } from '../../relay/metrics.js';
import type { NetworkReport } from '../../relay/telemetry.js';
import type { RunningRelay } from '../../relay/server.js';
import { createRelayClient, dialRelay, waitFor, type ClientNode } from '../helpers/relay-client.js';
import { relayAddr, startTestRelay } from '../helpers/relay-fixture.js';
import { missingTools } from '../helpers/cli-tools.js';

const running: Array<{ stop(): void | Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function relay(): Promise<RunningRelay> {
  const r = await startTestRelay();
  running.push(r);
  return r;
}

async function client(r: RunningRelay, topic: string): Promise<ClientNode> {
  const c = await createRelayClient({ reserve: false });
  running.push(c);
  await dialRelay(c, relayAddr(r));
  c.services.pubsub.subscribe(topic);
  const relayMesh = r.node.services.pubsub as unknown as { getMeshPeers(t: string): string[] };
  await waitFor(() => relayMesh.getMeshPeers(topic).includes(c.peerId.toString()), 'client in the relay mesh');
  return c;
}

async function beacon(networkIdHex: string, over: Partial<BeaconBody> = {}) {
  const keys = await generateKeys();
  const body: BeaconBody = {
    author: toHex(keys.publicKey),
    role: 'full',
    version: '0.1.0',
    peers: 1,
    entries: 5,
    headsRoot: '11'.repeat(32),
    lagEntries: null,
    lagMs: null,
    storageUsed: null,
    storageQuota: null,
    time: Date.now(),
    ...over
  };
  return { body, bytes: await encodeBeacon(body, keys.seed, networkIdHex) };
}

const network = async (r: RunningRelay): Promise<NetworkReport> =>
  (await (await fetch(`${r.url}/api/network`)).json()) as NetworkReport;
const metricsText = async (r: RunningRelay): Promise<string> => (await fetch(`${r.url}/metrics`)).text();

describe('relay telemetry', () => {
  it('lists verified beacons at /api/network, drops forged and foreign ones, and counts them in /metrics', async () => {
    const r = await relay();
    const topic = networkNames(r.networkId).telemetryTopic;
    const c = await client(r, topic);
    expect(await network(r)).toMatchObject({ nodes: [] });

    const good = [await beacon(r.networkId, { entries: 7 }), await beacon(r.networkId, { peers: 2 })];
    const foreign = await beacon('ee'.repeat(32));
    const forged = await beacon(r.networkId);
    const forgedBytes = new TextEncoder().encode(
      new TextDecoder().decode(forged.bytes).replace('"entries":5', '"entries":6')
    );
    for (const data of [good[0].bytes, good[1].bytes, foreign.bytes, forgedBytes]) {
      await c.services.pubsub.publish(topic, data);
    }
    await waitFor(() => r.telemetry.counters.beaconsSeen + r.telemetry.counters.beaconsRejected === 4, 'four beacons');
    const report = await network(r);
    expect(report.nodes.map((n) => n.peerId).sort()).toEqual(good.map((g) => peerIdOfAuthor(g.body.author)).sort());
    const n0 = report.nodes.find((n) => n.author === good[0].body.author)!;
    expect(n0).toMatchObject({ entries: 7, role: 'full', version: '0.1.0' });
    expect(Math.abs(n0.lastSeen - report.now)).toBeLessThan(10_000);

    const text = await metricsText(r);
    expect(text).toMatch(/^tabula_relay_beacons_seen_total 2$/m);
    expect(text).toMatch(/^tabula_relay_beacons_rejected_total 2$/m);
    expect(text).toMatch(/^tabula_relay_network_nodes 2$/m);
    expect(text).toMatch(/^tabula_relay_peers 1$/m);
  });

  it('graylists a peer that keeps sending forged beacons (tabula_relay_rejected_peers)', async () => {
    const r = await relay();
    const topic = networkNames(r.networkId).telemetryTopic;
    const honest = await client(r, topic);
    const forger = await client(r, topic);
    expect(await metricsText(r)).toMatch(/^tabula_relay_rejected_peers 0$/m);
    for (let i = 0; i < 4; i++) {
      const b = await beacon(r.networkId, { entries: i });
      const text = new TextDecoder().decode(b.bytes).replace(`"entries":${i}`, `"entries":${i + 100}`);
      await forger.services.pubsub.publish(topic, new TextEncoder().encode(text));
    }
    await waitFor(() => r.telemetry.counters.beaconsRejected === 4, 'four forged beacons rejected');
    await expect.poll(() => metricsText(r), { timeout: 10_000 }).toMatch(/^tabula_relay_rejected_peers 1$/m);
    // The honest client is not affected.
    await honest.services.pubsub.publish(topic, (await beacon(r.networkId)).bytes);
    await waitFor(() => r.telemetry.counters.beaconsSeen === 1, 'the honest beacon');
  });

  it('counts entries-topic messages it forwards', async () => {
    const r = await relay();
    const topic = networkNames(r.networkId).entriesTopic;
    const c = await client(r, topic);
    // Junk is refused by the relay's entry validation and is not counted as relayed (its
    // sender is banned, so it comes from another client).
    const junk = await client(r, topic);
    await junk.services.pubsub.publish(topic, new Uint8Array([1, 2, 3]));
    await waitFor(() => r.guards.rejectedMessages.count === 1, 'junk refused');
    const chain = await makeChain(await keysFromByte(8), 2, networkId(defaultGenesis()));
    for (const h of chain) await c.services.pubsub.publish(topic, encodeEntry(h.entry));
    await waitFor(() => r.telemetry.counters.entriesRelayed === 2, 'two entries relayed');
    expect(await metricsText(r)).toMatch(/^tabula_relay_entries_relayed_total 2$/m);
    expect(await metricsText(r)).toMatch(/^tabula_relay_rejected_messages_total 1$/m);
  });
});

function source(over: Partial<RelayMetricsSource> = {}): RelayMetricsSource {
  const zero = (): number => 0;
  return {
    uptimeSeconds: () => 12,
    connections: () => 3,
    peers: () => 2,
    reservations: () => 1,
    topicSubscribers: () => [
      { topic: 'tabula/x/entries', count: 2 },
      { topic: 'a"b\\c', count: 1 }
    ],
    rejectedPeers: zero,
    networkNodes: () => 4,
    refusedConnections: () => 5,
    refusedReservations: zero,
    rateLimitedMessages: zero,
    oversizedFrames: zero,
    rejectedMessages: zero,
    beaconsSeen: () => 9,
    beaconsRejected: () => 1,
    entriesRelayed: () => 7,
    ...over
  };
}

describe('relay metrics (prom-client)', () => {
  it('renders current values with HELP/TYPE, escaped labels and counters that follow their source', async () => {
    let seen = 9;
    const m = createRelayMetrics(source({ beaconsSeen: () => seen }));
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await m.render();
    expect(text).toContain('# TYPE tabula_relay_beacons_seen_total counter');
    expect(text).toMatch(/^tabula_relay_connections 3$/m);
    expect(text).toMatch(/^tabula_relay_refused_connections_total 5$/m);
    expect(text).toContain('tabula_relay_topic_subscribers{topic="a\\"b\\\\c"} 1');
    expect(text).toMatch(/^tabula_relay_beacons_seen_total 9$/m);
    seen = 11;
    expect(await m.render()).toMatch(/^tabula_relay_beacons_seen_total 11$/m);
  });

  const promtool = missingTools(['promtool']).length === 0;
  if (!promtool) {
    console.warn(
      '\n!!! promtool is not installed: the `promtool check metrics` test is SKIPPED.\n' +
        '!!! Install it with: bash scripts/ensure-promtool.sh (apt-get install prometheus, as root)\n'
    );
  }
  it.skipIf(!promtool)('passes `promtool check metrics`, from a fake source and from a live relay', async () => {
    const check = (text: string) => spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const fake = check(await createRelayMetrics(source()).render());
    expect(fake.stdout + fake.stderr).toBe('');
    expect(fake.status).toBe(0);
    const live = check(await metricsText(await relay()));
    expect(live.stdout + live.stderr).toBe('');
    expect(live.status).toBe(0);
    // promtool really reads the text: a broken exposition fails.
    expect(check('# TYPE x counter\nx{ 1\n').status).not.toBe(0);
  });
});
