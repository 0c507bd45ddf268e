// A hostile Node libp2p peer publishes junk entries through a relay that forwards gossip without
// validating it (a plain relay node started here; the page is pointed at it by answering its
// /api/relays). The page must ban the junk's signed originator, never the relay that carried
// it, and show the ban in status() and on the dashboard.
import { expect, test } from '@playwright/test';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { createRelayNode, type RelayNode } from '../../relay/node.js';
import { createRelayClient, dialRelay, type ClientNode } from '../helpers/relay-client.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { networkNames } from '../../src/lib/core/topics.js';
import { toHex } from '../../src/lib/core/bytes.js';

const JUNK_RELAY_PORT = Number(process.env.E2E_JUNK_RELAY_PORT ?? 19190);

let relay: RelayNode | undefined;
let hostile: ClientNode | undefined;

test.afterEach(async () => {
  await hostile?.stop();
  await relay?.stop();
});

test('a hostile peer sending junk through a non-validating relay is banned; the relay is not', async ({ browser }) => {
  const names = networkNames(toHex(networkId(defaultGenesis())));
  ({ node: relay } = await createRelayNode({
    privateKey: await generateKeyPair('Ed25519'),
    host: '127.0.0.1',
    port: JUNK_RELAY_PORT,
    maxReservations: 16,
    maxReservationsPerIp: 16,
    maxConnections: 64,
    maxConnectionsPerIp: 64,
    gossipMaxFrameBytes: 256 * 1024,
    gossipRate: 1000,
    topics: [names.discoveryTopic, names.entriesTopic, names.telemetryTopic]
    // No content validators: it forwards whatever is well-framed and within the rate.
  }));
  const relayAddr = relay.getMultiaddrs()[0].toString();
  const relayId = relay.peerId.toString();

  const context = await browser.newContext();
  await context.grantPermissions(['microphone']);
  await context.route('**/api/relays', (route) => route.fulfill({ json: { relays: [relayAddr] } }));
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  // `?join=0`: gossip from the start (a fresh light replica holds gossip while it tries to join).
  await page.goto('/?join=0');
  await page.waitForFunction((id) => window.tabula?.lastStatus?.peers.some((p) => p.id === id) === true, relayId, {
    timeout: 30_000
  });
  const device = { page };
  const pageId = await page.evaluate(() => window.tabula!.lastStatus!.peerId);
  await expect.poll(() => relay!.services.pubsub.getSubscribers(names.entriesTopic).map(String)).toContain(pageId);

  hostile = await createRelayClient({ reserve: false });
  await dialRelay(hostile, relayAddr);
  hostile.services.pubsub.subscribe(names.entriesTopic);
  await expect.poll(() => hostile!.services.pubsub.getSubscribers(names.entriesTopic).map(String)).toContain(relayId);
  const hostileId = hostile.peerId.toString();

  // Junk until the page bans its originator (it should take one message); at most 10.
  let sent = 0;
  const banned = async (): Promise<boolean> =>
    device.page.evaluate(
      async (id) => (await window.tabula!.status()).bans?.some((b) => b.peer === id) === true,
      hostileId
    );
  while (sent < 10 && !(await banned())) {
    await hostile.services.pubsub.publish(names.entriesTopic, new Uint8Array(300).fill(sent + 1));
    sent++;
    await expect
      .poll(banned, { timeout: 2_000 })
      .toBe(true)
      .catch(() => undefined);
  }
  console.log(`page banned the hostile peer after ${sent} junk message(s)`);
  expect(await banned()).toBe(true);

  const status = await page.evaluate(() => window.tabula!.status());
  const ban = status.bans!.find((b) => b.peer === hostileId)!;
  expect(ban.reason).toBe('malformed-entry');
  expect(ban.until - ban.since).toBe(60_000);
  // The relay that carried the junk: still connected, not banned, its score not lowered.
  const relayPeer = status.peers.find((p) => p.id === relayId)!;
  expect(relayPeer).toBeDefined();
  expect(relayPeer.banned).toBe(false);
  expect(relayPeer.score ?? 0).toBeGreaterThanOrEqual(0);
  expect(status.online).toBe(true);

  // The dashboard (another tab of the same profile, served by the same node) lists the banned
  // peer with its reason. Bans live in the node's memory: reloading the node's tab forgets them.
  const dash = await context.newPage();
  await dash.goto('/dashboard');
  const peers = dash.getByRole('table', { name: 'Peers' });
  const row = peers.locator(`tr[data-peer="${hostileId}"]`);
  await expect(row).toContainText('banned');
  await expect(row).toContainText('malformed-entry');
  await context.close();
});
