// Relay failover (issue 12, point 2): two meshed relays, three devices each using both. Kill one
// relay (SIGKILL by PID): the devices stay connected and keep syncing through the other and over
// their direct links; kill the other too: direct WebRTC links keep replicating; restart both: every
// device is back on both relays (connected and reserved) within 30 s, and a new device joins.
import { expect, test, type Page } from '@playwright/test';
import { openDevice, waitForPeer, type Device } from './fixtures.js';
import { planMesh, type RelayProcess } from './relays.js';

const BASE_PORT = Number(process.env.E2E_FAILOVER_PORT ?? 18280);
const REJOIN_LIMIT_MS = 30_000;

let relays: RelayProcess[] = [];
const devices: Device[] = [];

test.afterEach(async () => {
  for (const d of devices.splice(0)) await d.context.close();
  for (const r of relays) await r.stop('SIGTERM');
  relays = [];
});

/** Resolves once the page's relay list says, per relay address, connected and reserved as given. */
async function waitRelays(
  page: Page,
  want: Record<string, { connected: boolean; reserved?: boolean }>,
  timeout = 30_000
) {
  await page.waitForFunction(
    (w) => {
      const rs = window.tabula?.lastStatus?.relays ?? [];
      return Object.entries(w).every(([addr, s]) =>
        rs.some(
          (r) =>
            r.addr === addr && r.connected === s.connected && (s.reserved === undefined || r.reserved === s.reserved)
        )
      );
    },
    want,
    { timeout, polling: 100 }
  );
}

async function putAndConverge(writer: Device, key: string, all: Device[]): Promise<number> {
  await writer.page.evaluate((k) => window.tabula!.put(k, k), key);
  const start = Date.now();
  for (const d of all) {
    await d.page.waitForFunction(async (k) => (await window.tabula!.get(k)) === k, key, {
      timeout: 20_000,
      polling: 100
    });
  }
  return Date.now() - start;
}

async function directPeers(d: Device): Promise<number> {
  return d.page.evaluate(() => window.tabula!.lastStatus!.peers.filter((p) => p.transport === 'webrtc').length);
}

test('one relay dies, then both: devices keep syncing over the other and directly, and rejoin within 30 s', async ({
  browser
}) => {
  test.setTimeout(90_000);
  relays = await planMesh(2, BASE_PORT);
  const [a, b] = relays;
  await Promise.all(relays.map((r) => r.start()));
  for (let i = 0; i < 3; i++) devices.push(await openDevice(browser, `${a.url}/`));
  const both = { [a.addr]: { connected: true, reserved: true }, [b.addr]: { connected: true, reserved: true } };
  // Reservations are spread: every device holds one on each relay.
  await Promise.all(devices.map((d) => waitRelays(d.page, both)));
  await Promise.all(devices.flatMap((x) => devices.filter((y) => y !== x).map((y) => waitForPeer(x, y.peerId))));

  await a.stop();
  await Promise.all(
    devices.map((d) => waitRelays(d.page, { [a.addr]: { connected: false }, [b.addr]: { connected: true } }))
  );
  console.log(`relay A down: write converged in ${await putAndConverge(devices[0], 'after-a-died', devices)} ms`);

  await b.stop();
  await Promise.all(
    devices.map((d) => waitRelays(d.page, { [a.addr]: { connected: false }, [b.addr]: { connected: false } }))
  );
  for (const d of devices) expect(await directPeers(d)).toBe(2);
  console.log(
    `every relay down: write converged in ${await putAndConverge(devices[1], 'all-relays-down', devices)} ms`
  );
  for (const d of devices) {
    expect(await d.page.evaluate(() => window.tabula!.lastStatus!.online)).toBe(true);
  }

  const back = Date.now();
  await Promise.all(relays.map((r) => r.start()));
  const healthy = Date.now();
  await Promise.all(devices.map((d) => waitRelays(d.page, both, REJOIN_LIMIT_MS)));
  const rejoinMs = Date.now() - back;
  console.log(
    `relays back: every device connected and reserved on both ${rejoinMs} ms after the restart began, ` +
      `${Date.now() - healthy} ms after both answered /healthz`
  );
  expect(rejoinMs).toBeLessThan(REJOIN_LIMIT_MS);

  // The rejoined network introduces a newcomer, which gets everything written meanwhile.
  const late = await openDevice(browser, `${b.url}/`);
  devices.push(late);
  await waitForPeer(late, devices[0].peerId);
  for (const k of ['after-a-died', 'all-relays-down']) {
    await late.page.waitForFunction(async (key) => (await window.tabula!.get(key)) === key, k, { timeout: 20_000 });
  }
});
