import { expect, test } from '@playwright/test';
import { openDevice, waitForPeer } from './fixtures.js';

test('two devices meet through the relay and talk over direct WebRTC', async ({ browser }) => {
  const t0 = Date.now();
  const a = await openDevice(browser, '/');
  const b = await openDevice(browser, '/dashboard');

  await expect(a.page.getByRole('status')).toContainText('Online');
  await expect(b.page.getByRole('status')).toContainText('Online');

  await Promise.all([waitForPeer(a, b.peerId), waitForPeer(b, a.peerId)]);
  console.log(`direct WebRTC between two fresh devices after ${Date.now() - t0} ms (page loads included)`);
  for (const [name, d] of [
    ['A', a],
    ['B', b]
  ] as const) {
    // The dialler may connect before its own reservation is up; wait for that milestone too.
    await d.page.waitForFunction(() => window.tabula?.lastStatus?.timings.reservationMs != null);
    const t = await d.page.evaluate(() => window.tabula!.status().then((s) => s.timings));
    console.log(
      `timings ${name}: relay ${t.relayMs} ms, reservation ${t.reservationMs} ms, ` +
        `first webrtc ${t.firstWebrtcMs} ms, webrtc dial ${t.lastDialMs ?? '-'} ms`
    );
  }

  // The dashboard lists the other device with its transport and a measured RTT.
  const row = b.page.getByRole('table', { name: 'Peers' }).locator(`tr[data-peer="${a.peerId}"]`);
  await expect(row).toContainText('webrtc');
  await expect(row.locator('td').nth(3)).toHaveText(/\d+(\.\d+)? ms/);
  await expect(a.page.getByRole('status')).toContainText('1 peer');

  // A byte echo over a custom protocol stream, both directions, all 256 byte values.
  const sent = Array.from({ length: 1024 }, (_, i) => i % 256);
  const fromA = await a.page.evaluate(
    async ([peer, bytes]) => Array.from(await window.tabula!.echo(peer, new Uint8Array(bytes))),
    [b.peerId, sent] as const
  );
  expect(fromA).toEqual(sent);
  const fromB = await b.page.evaluate(
    async ([peer, bytes]) => Array.from(await window.tabula!.echo(peer, new Uint8Array(bytes))),
    [a.peerId, sent.slice(0, 7)] as const
  );
  expect(fromB).toEqual(sent.slice(0, 7));

  // The direct connection is not relayed: the relay hop was closed after signalling.
  const transports = await a.page.evaluate(
    (peer) => window.tabula!.lastStatus!.peers.filter((p) => p.id === peer).map((p) => p.transport),
    b.peerId
  );
  expect(transports).toEqual(['webrtc']);

  await a.context.close();
  await b.context.close();
});

test('a record written on one device appears live on the other', async ({ browser }) => {
  const a = await openDevice(browser, '/');
  const b = await openDevice(browser, '/');
  await Promise.all([waitForPeer(a, b.peerId), waitForPeer(b, a.peerId)]);
  await a.page.getByRole('textbox', { name: 'Key' }).fill('shared');
  await a.page.getByRole('textbox', { name: 'Value' }).fill('from A');
  await a.page.getByRole('button', { name: 'Save' }).click();
  const onB = b.page.getByRole('table', { name: 'Records' }).locator('tr[data-key="shared"]');
  await expect(onB).toContainText('from A');
  // And back: B overwrites having seen A's write, so this is a sequential overwrite, not a conflict.
  await b.page.evaluate(() => window.tabula!.put('shared', 'from B'));
  await expect(a.page.getByRole('table', { name: 'Records' }).locator('tr[data-key="shared"]')).toContainText('from B');
  expect(await a.page.evaluate(() => window.tabula!.conflicts())).toEqual([]);
  await a.context.close();
  await b.context.close();
});
