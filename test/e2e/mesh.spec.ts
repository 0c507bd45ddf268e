// Relay mesh (issue 10): three relays started with --peer, browser contexts spread over them round-robin
// (`?relays=1`, page loaded from its own relay). Each browser finds the others through the mesh
// and connects to them directly over WebRTC (dialling circuits through the other relays), writes
// converge everywhere, and /api/network on any relay lists every node.
import { expect, test } from '@playwright/test';
import { openDevice, waitForPeer, type Device } from './fixtures.js';
import { planMesh, type RelayProcess } from './relays.js';

const BASE_PORT = Number(process.env.E2E_MESH_PORT ?? 18180);
// One device per relay by default; MESH_DEVICES=6 runs two per relay (see the note in the report:
// on this shared 2-core machine under heavy load not every cross-relay pair connected in time).
const DEVICES = Number(process.env.MESH_DEVICES ?? 3);
const WAIT = Number(process.env.MESH_WAIT ?? 30_000);

let relays: RelayProcess[] = [];
const devices: Device[] = [];

test.afterEach(async () => {
  for (const d of devices.splice(0)) await d.context.close();
  for (const r of relays) await r.stop('SIGTERM');
  relays = [];
});

/** Resolves once the page reports exactly one reservation, on `relay`. */
async function waitPinned(d: Device, relay: RelayProcess): Promise<void> {
  await d.page.waitForFunction(
    (addr) => {
      const rs = window.tabula?.lastStatus?.relays ?? [];
      return (
        rs
          .filter((r) => r.reserved)
          .map((r) => r.addr)
          .join() === addr
      );
    },
    relay.addr,
    { timeout: 30_000 }
  );
}

test('three meshed relays: browsers pinned to different relays connect directly and converge', async ({ browser }) => {
  test.setTimeout(Number(process.env.MESH_TIMEOUT ?? 90_000));
  relays = await planMesh(3, BASE_PORT);
  await Promise.all(relays.map((r) => r.start()));
  // Every relay lists the whole network, its own address first.
  for (const r of relays) {
    const listed = ((await (await fetch(`${r.url}/api/relays`)).json()) as { relays: string[] }).relays;
    expect(listed[0]).toBe(r.addr);
    expect(new Set(listed)).toEqual(new Set(relays.map((q) => q.addr)));
  }

  // Devices are spread over the relays round-robin; each loads the app from its own relay and uses only that one.
  const home = (i: number): RelayProcess => relays[i % relays.length];
  for (let i = 0; i < DEVICES; i++) devices.push(await openDevice(browser, `${home(i).url}/?relays=1`));
  await Promise.all(devices.map((d, i) => waitPinned(d, home(i))));
  const reservedAt = Date.now();

  // Pairs on different relays can only have been introduced by the mesh.
  try {
    await Promise.all(
      devices.flatMap((a) => devices.filter((b) => b !== a).map((b) => waitForPeer(a, b.peerId, 'webrtc', WAIT)))
    );
  } catch (err) {
    for (const d of devices) {
      const s = await d.page.evaluate(() => window.tabula!.status());
      const peers = s.peers.map((p) => `${p.id.slice(-6)} ${p.transport}`);
      const relayState = s.relays.map(
        (r) => `${r.addr.slice(-6)} ${r.connected ? 'up' : 'down'}${r.reserved ? ' reserved' : ''}`
      );
      console.log(
        JSON.stringify({ id: s.peerId.slice(-6), peers, relays: relayState, addrs: s.addrs.length, online: s.online })
      );
    }
    for (const r of relays) console.log(r.url, await (await fetch(`${r.url}/api/network`)).text());
    for (const r of relays)
      console.log(
        r.url,
        (await (await fetch(`${r.url}/metrics`)).text())
          .split('\n')
          .filter((l) => !l.startsWith('#') && /connections|peers|subscri/.test(l))
          .join('\n')
      );
    throw err;
  }
  console.log(
    `discovery + direct WebRTC, all ${DEVICES} devices pairwise: ${Date.now() - reservedAt} ms after reservations`
  );
  // Still pinned: the circuit dials through other relays made no reservation there.
  for (const [i, d] of devices.entries()) await waitPinned(d, home(i));

  const keys = devices.map((_, i) => `mesh-${i}`);
  await Promise.all(
    devices.map((d, i) => d.page.evaluate(([k, v]) => window.tabula!.put(k, v), [keys[i], i] as const))
  );
  const written = Date.now();
  for (const d of devices) {
    await d.page.waitForFunction(
      async (want) => {
        const rs = await window.tabula!.records();
        return want.every((k) => rs.some((r) => r.key === k));
      },
      keys,
      { timeout: 20_000, polling: 200 }
    );
  }
  console.log(`writes on ${DEVICES} devices over 3 relays converged everywhere in ${Date.now() - written} ms`);

  // Beacons cross the mesh: every relay's /api/network lists every browser.
  await expect
    .poll(
      async () => {
        const views = await Promise.all(
          relays.map(
            async (r) => ((await (await fetch(`${r.url}/api/network`)).json()) as { nodes: { peerId: string }[] }).nodes
          )
        );
        return views.every((nodes) => devices.every((d) => nodes.some((n) => n.peerId === d.peerId)));
      },
      { timeout: 30_000 }
    )
    .toBe(true);
});
