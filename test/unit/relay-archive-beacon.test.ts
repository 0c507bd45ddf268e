// relay --archive as a node of the network: it publishes a signed telemetry beacon (role `full`,
// its entries, heads root, missing count, storage bytes, version), which its own /api/network and
// a meshed relay's list; and a sync peer with another genesis is refused and counted in /metrics
// (tabula_archive_sync_rejected_peers_total), checked with promtool where installed.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { SYNC_PROTOCOL_ID } from '../../src/lib/core/sync/constants.js';
import { shortNetworkId } from '../../src/lib/core/topics.js';
import { verifyBeacon } from '../../src/lib/core/telemetry.js';
import type { NetworkNode } from '../../src/lib/core/telemetry-table.js';
import { TABULA_VERSION } from '../../src/lib/version.js';
import { startArchiveBeacon } from '../../relay/archive/beacon.js';
import type { RunningRelay } from '../../relay/server.js';
import { missingTools } from '../helpers/cli-tools.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { createRelayClient, dialRelay, waitFor } from '../helpers/relay-client.js';
import { relayAddr, startTestRelay, tempDir } from '../helpers/relay-fixture.js';
import { startSyncPeer } from '../helpers/sync-peer.js';
import { startLedgerSync } from '../helpers/sync-wiring.js';

const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function relay(overrides: Parameters<typeof startTestRelay>[0] = {}): Promise<RunningRelay> {
  const dataDir = await tempDir();
  const r = await startTestRelay({ dataDir, staticDir: dataDir, ...overrides });
  running.push(r);
  return r;
}

async function networkNodes(r: RunningRelay): Promise<NetworkNode[]> {
  return ((await (await fetch(`${r.url}/api/network`)).json()) as { nodes: NetworkNode[] }).nodes;
}

describe('archive beacon', () => {
  it('shows the archive as a full node in /api/network on its relay and on a meshed relay', async () => {
    const archive = await relay({ archive: true });
    const other = await relay({ peers: [relayAddr(archive)] });
    const writer = await startSyncPeer(1);
    running.push(writer);
    await writer.connect(relayAddr(archive));
    for (let i = 0; i < 4; i++) await writer.tl.ledger.put(`k${i}`, i);
    await waitFor(() => archive.archive!.status().entries === 4, 'the archive storing 4 entries', 15_000);

    const status = archive.archive!.status();
    const wanted = (nodes: NetworkNode[]) =>
      nodes.find((n) => n.author === status.author && n.entries === 4 && n.headsRoot === status.headsRoot);
    for (const r of [archive, other]) {
      let found: NetworkNode | undefined;
      const end = Date.now() + 20_000;
      while ((found = wanted(await networkNodes(r))) === undefined) {
        if (Date.now() > end) throw new Error(`no archive beacon with 4 entries at ${r.url}`);
        await new Promise((res) => setTimeout(res, 200));
      }
      expect(found).toMatchObject({ role: 'full', version: TABULA_VERSION, lagEntries: 0, lagMs: null });
      expect(found.storageUsed).toBeGreaterThan(0);
      expect(found.storageQuota).toBeGreaterThanOrEqual(found.storageUsed!);
    }
  });

  it('signs with the archive identity and records each beacon it publishes', async () => {
    const archive = await relay({ archive: true });
    const published: Uint8Array[] = [];
    const recorded: string[] = [];
    const seed = (await openSeed(archive)) as Uint8Array;
    const b = startArchiveBeacon({
      pubsub: { publish: async (_t: string, data: Uint8Array) => void published.push(data) } as never,
      seed,
      networkIdHex: archive.networkId,
      topic: 't',
      status: archive.archive!.status,
      dataDir: await tempDir(),
      record: (beacon) => recorded.push(beacon.author),
      intervalMs: 60_000
    });
    const beacon = await b.beacon();
    b.stop();
    expect(published).toHaveLength(1);
    const heard = await verifyBeacon(published[0], archive.networkId);
    expect(heard).toEqual(beacon);
    expect(recorded).toEqual([archive.archive!.status().author]);
    expect(heard).toMatchObject({ author: archive.archive!.ledger.author, role: 'full' });
    // Another network does not take it.
    await expect(verifyBeacon(published[0], 'ff'.repeat(32))).rejects.toMatchObject({ name: 'BeaconNetworkError' });
  });
});

/** The archive's seed, read back from its store (the beacon's signing key). */
async function openSeed(r: RunningRelay): Promise<Uint8Array | undefined> {
  return (await r.archive!.store.loadIdentity())?.seed;
}

describe('archive sync: another network', () => {
  it('refuses a sync peer with another genesis and counts it in /metrics', async () => {
    const archive = await relay({ archive: true });
    // A peer of another network that speaks our sync protocol id (so its hello reaches the archive).
    const tl = await openLedger(memoryLocation(), 3, { genesis: { ...genesis, name: 'elsewhere' } });
    await tl.ledger.put('x', 1);
    const node = await createRelayClient({ reserve: false });
    const protocol = SYNC_PROTOCOL_ID(shortNetworkId(archive.networkId));
    const { engine, driver } = await startLedgerSync(tl.ledger, node, protocol);
    running.push({
      async stop() {
        await driver.stop();
        engine.close();
        await node.stop();
        await tl.ledger.close();
      }
    });
    const before = await (await fetch(`${archive.url}/metrics`)).text();
    expect(before).toMatch(/^tabula_archive_sync_rejected_peers_total 0$/m);

    await dialRelay(node, relayAddr(archive));
    await waitFor(() => archive.archive!.status().syncRejectedPeers > 0, 'the archive refusing the peer', 15_000);
    expect(archive.archive!.status().syncWrongNetworkDisconnects).toBeGreaterThan(0);
    expect(archive.archive!.status().entries).toBe(0);
    const metrics = await (await fetch(`${archive.url}/metrics`)).text();
    expect(metrics).toMatch(/^tabula_archive_sync_rejected_peers_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^tabula_archive_sync_wrong_network_disconnects_total [1-9]\d*$/m);
    if (missingTools(['promtool']).length === 0) {
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
    }
  });
});
