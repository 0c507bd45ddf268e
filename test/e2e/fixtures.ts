// Each "device" is its own browser context: separate storage, separate node.
import type { Browser, BrowserContext, Page } from '@playwright/test';

export interface Device {
  context: BrowserContext;
  page: Page;
  peerId: string;
}

/**
 * Test-only: in a loopback-only namespace Chromium gathers ICE host candidates only when the
 * context holds a media permission (plus --allow-loopback-in-peer-connection). The product asks
 * for no permission; real networks have real interfaces.
 */
export async function openDevice(browser: Browser, path = '/', opts: { offline?: boolean } = {}): Promise<Device> {
  const context = await browser.newContext();
  await context.grantPermissions(['microphone']);
  // Offline: the site's relay list never answers, so the node runs alone (no gossip reaches it).
  if (opts.offline === true) await context.route('**/api/relays', (route) => route.abort('internetdisconnected'));
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto(path);
  await page.waitForFunction(() => window.tabula?.lastStatus?.peerId !== undefined);
  const peerId = await page.evaluate(() => window.tabula!.lastStatus!.peerId);
  return { context, page, peerId };
}

/** Resolves once `device` reports `peer` with the given transport. */
export async function waitForPeer(device: Device, peer: string, transport = 'webrtc', timeout = 30_000): Promise<void> {
  await device.page.waitForFunction(
    ([id, t]) => window.tabula?.lastStatus?.peers.some((p) => p.id === id && p.transport === t) === true,
    [peer, transport] as const,
    { timeout }
  );
}
