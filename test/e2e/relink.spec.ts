// A dropped direct link comes back (S10's regression: direct links closed under load were never
// re-dialed, because libp2p announces a peer to the dialer only once). Two tabs link directly;
// one tab's RTCPeerConnections are closed under it (the page's half of the RTC bridge reports
// them closed, so the worker's libp2p drops the link as on any real failure); then both tabs
// must link directly again over a NEW peer connection, open a new sync stream, and a write made
// after the drop must reach the other tab.
import { expect, test, type Browser, type Page } from '@playwright/test';
import type { Device } from './fixtures.js';

/** How long the tabs get to link directly, first and again after the drop, ms. */
const LINK_TIMEOUT_MS = 45_000;

declare global {
  interface Window {
    /** Every RTCPeerConnection the page made (the init script below keeps them). */
    __pcs?: RTCPeerConnection[];
  }
}

/** A device whose page keeps a list of its RTCPeerConnections (window.__pcs). */
async function openTracked(browser: Browser): Promise<Device> {
  const context = await browser.newContext();
  // As fixtures.ts openDevice: with a media permission Chromium offers plain host candidates (no mDNS).
  await context.grantPermissions(['microphone']);
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const pcs: RTCPeerConnection[] = [];
    window.__pcs = pcs;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        pcs.push(this);
      }
    };
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto('/');
  await page.waitForFunction(() => window.tabula?.lastStatus?.peerId !== undefined);
  const peerId = await page.evaluate(() => window.tabula!.lastStatus!.peerId);
  return { context, page, peerId };
}

/** Resolves once `page` has a direct link to `peer` and a sync stream open. */
async function linkedAndSyncing(page: Page, peer: string): Promise<void> {
  await page
    .waitForFunction(
      (id) => {
        const s = window.tabula?.lastStatus;
        return s?.peers.some((p) => p.id === id && p.transport === 'webrtc') === true && s.sync.openStreams > 0;
      },
      peer,
      { timeout: LINK_TIMEOUT_MS, polling: 200 }
    )
    .catch(async (err: unknown) => {
      const seen = await page.evaluate(() => ({
        pcs: window.__pcs?.map((pc) => pc.connectionState),
        peers: window.tabula?.lastStatus?.peers.map((p) => `${p.id.slice(-6)}:${p.transport}`),
        streams: window.tabula?.lastStatus?.sync.openStreams
      }));
      throw new Error(`no direct link with a sync stream to ${peer}: ${JSON.stringify(seen)}`, { cause: err });
    });
}

test('a direct link closed under a tab is re-dialed, and sync runs over the new link', async ({ browser }) => {
  test.setTimeout(3 * LINK_TIMEOUT_MS);
  const a = await openTracked(browser);
  const b = await openTracked(browser);
  try {
    await linkedAndSyncing(a.page, b.peerId);
    await linkedAndSyncing(b.page, a.peerId);
    const before = await a.page.evaluate(() => ({
      pcs: window.__pcs!.length,
      streamsOpened: window.tabula!.lastStatus!.sync.streamsOpened
    }));

    // Close every live peer connection of tab A, as a network failure would.
    const closed = await a.page.evaluate(() => {
      const live = window.__pcs!.filter((pc) => pc.connectionState !== 'closed');
      for (const pc of live) {
        pc.close();
        pc.dispatchEvent(new Event('connectionstatechange'));
      }
      return live.length;
    });
    expect(closed).toBeGreaterThan(0);
    await a.page.waitForFunction(
      (id) => window.tabula!.lastStatus!.peers.every((p) => p.id !== id || p.transport !== 'webrtc'),
      b.peerId,
      { timeout: LINK_TIMEOUT_MS, polling: 100 }
    );

    // Back: a new peer connection, a direct link, a new sync stream on it.
    await linkedAndSyncing(a.page, b.peerId);
    await linkedAndSyncing(b.page, a.peerId);
    const after = await a.page.evaluate(() => ({
      pcs: window.__pcs!.length,
      streamsOpened: window.tabula!.lastStatus!.sync.streamsOpened
    }));
    expect(after.pcs).toBeGreaterThan(before.pcs);
    expect(after.streamsOpened).toBeGreaterThan(before.streamsOpened);

    // And data crosses again.
    await a.page.evaluate(() => window.tabula!.put('after-relink', 1));
    await b.page.waitForFunction(() => window.tabula!.get('after-relink').then((v) => v === 1), undefined, {
      timeout: LINK_TIMEOUT_MS,
      polling: 200
    });
  } finally {
    await a.context.close();
    await b.context.close();
  }
});
