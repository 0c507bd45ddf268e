import { describe, expect, it } from 'vitest';
import {
  storeResetNotice,
  alertConditions,
  offlineReason,
  directPeers,
  runningPeers,
  relayHost,
  CHART_POINTS,
  digestAge,
  formatAgo,
  formatBytes,
  MAX_ALERTS,
  networkRows,
  pushSample,
  sampleOf,
  sustainedLag,
  updateAlerts,
  type Alert,
  type Sample
} from '../../src/lib/components/dashboard-model.js';
import type { NetworkNode, NetworkView, NodeStatus } from '../../src/lib/worker/messages.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

function node(author: string, over: Partial<NetworkNode> = {}): NetworkNode {
  return {
    author,
    peerId: `12D3${author.slice(0, 8)}`,
    role: 'full',
    version: '0.1.0',
    peers: 2,
    entries: 10,
    headsRoot: '0'.repeat(64),
    lagEntries: null,
    lagMs: null,
    storageUsed: 2_500_000,
    storageQuota: 1_000_000_000,
    time: 1000,
    lastSeen: 10_000,
    ...over
  };
}

function view(nodes: NetworkNode[], over: Partial<NetworkView> = {}): NetworkView {
  return { nodes, self: A, latency: { p50: 40, p99: 90, count: 5 }, beaconsSeen: 3, beaconsRejected: 0, ...over };
}

function status(over: Partial<NodeStatus> = {}, ledger: Partial<NodeStatus['ledger']> = {}): NodeStatus {
  return {
    peerId: 'p',
    online: true,
    peers: [{ id: 'x', transport: 'webrtc', rttMs: 3, relay: false }],
    relays: [],
    addrs: [],
    startedAt: 0,
    timings: { relayMs: null, reservationMs: null, firstWebrtcMs: null, lastDialMs: null },
    networkId: 'n',
    networkError: null,
    storeReset: null,
    ownFeedCheck: 'not-needed',
    ownCopy: {
      state: 'on',
      firstSeq: 1,
      lastSeq: 10,
      bytes: 2000,
      cutBytes: 0,
      error: null,
      restored: null,
      appends: 10,
      appendMs: 5
    },
    author: A,
    role: 'full',
    sync: {
      root: 'r',
      feeds: 1,
      missing: 0,
      unconfirmed: 0,
      missingAuthors: 0,
      missingByAuthor: [],
      lastEqualRootAt: null,
      rejectedPeers: 0,
      partitionEvents: 0,
      partitioned: false,
      partitionedSince: null,
      reachablePeers: 0,
      knownPeers: 0,
      peers: [],
      openStreams: 0,
      streamsOpened: 0,
      streamFailures: 0,
      slowPeerDrops: 0,
      wrongNetworkDisconnects: 0
    },
    ledger: {
      entries: 1,
      authors: 1,
      forkedAuthors: 0,
      pending: 0,
      conflicts: 0,
      records: 0,
      lastCompactionAt: null,
      stateDigest: 'd',
      stateDigestStaleSince: null,
      unverified: false,
      storage: { role: 'light', budgetBytes: 1024, bytesUsed: 0, pruned: 0 },
      ...ledger
    },
    ...over
  };
}

describe('dashboard formatting', () => {
  it('bytes and ages', () => {
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(2.5 * 2 ** 20)).toBe('2.5 MiB');
    expect(formatBytes(32 * 2 ** 20)).toBe('32 MiB');
    expect(formatBytes(123 * 2 ** 30)).toBe('123 GiB');
    expect(formatBytes(1023.9 * 1024)).toBe('1.0 MiB');
    expect(formatAgo(10_000, 10_500)).toBe('just now');
    expect(formatAgo(10_000, 22_000)).toBe('12 s ago');
    expect(formatAgo(0, 3 * 60_000)).toBe('3 min ago');
    expect(formatAgo(0, 2 * 3600_000 + 5)).toBe('2 h ago');
    expect(digestAge(null, 5_000)).toBe('');
    expect(digestAge(10_000, 22_000)).toBe('not updated for changes since 12 s ago');
  });
});

describe('Network rows', () => {
  it('estimate lag from the best entry count unless the node reports it, and mark this node', () => {
    const rows = networkRows(
      view([node(A, { entries: 7 }), node(B, { entries: 10 }), node(C, { entries: 4, lagEntries: 1 })]),
      10_500
    );
    expect(rows.map((r) => [r.self, r.lagEntries, r.lagSource, r.lagText])).toEqual([
      [true, 3, 'estimated', '3 entries'],
      [false, 0, 'estimated', 'in sync'],
      [false, 1, 'reported', '1 entry']
    ]);
    expect(rows[0]).toMatchObject({ storageText: '2.4 MiB of 954 MiB', lastBeaconText: 'just now', peers: 2 });
    expect(networkRows(view([node(B, { storageUsed: null, storageQuota: null })]), 0)[0].storageText).toBe('—');
    // Not heard for over 15 s: silent (this node never is).
    const later = networkRows(view([node(A), node(B)]), 10_000 + 15_001);
    expect(later.map((r) => [r.self, r.silent])).toEqual([
      [true, false],
      [false, true]
    ]);
    expect(networkRows(view([node(B)]), 10_000 + 15_000)[0].silent).toBe(false);
  });
});

describe('alerts', () => {
  it('open when a condition holds, clear when it stops, reopen as a new alert', () => {
    const cond = (active: boolean) => [{ id: 'no-peers', level: 'warning' as const, message: 'm', active }];
    let h: Alert[] = updateAlerts([], cond(false), 1);
    expect(h).toEqual([]);
    h = updateAlerts(h, cond(true), 2);
    h = updateAlerts(h, cond(true), 3);
    expect(h).toEqual([{ id: 'no-peers', level: 'warning', message: 'm', startedAt: 2, clearedAt: null }]);
    h = updateAlerts(h, cond(false), 4);
    expect(h[0]).toMatchObject({ startedAt: 2, clearedAt: 4 });
    h = updateAlerts(h, cond(true), 5);
    expect(h.map((a) => [a.startedAt, a.clearedAt])).toEqual([
      [5, null],
      [2, 4]
    ]);
    for (let t = 6; t < 200; t += 2) h = updateAlerts(updateAlerts(h, cond(false), t), cond(true), t + 1);
    expect(h).toHaveLength(MAX_ALERTS);
  });

  it('watch offline, no peers, forks, storage near quota, own lag and invalid beacons', () => {
    const active = (c: ReturnType<typeof alertConditions>) => c.filter((x) => x.active).map((x) => x.id);
    const at = { now: 100_000, watchingSince: 100_000 };
    expect(alertConditions({ status: undefined, storage: undefined, network: undefined, ...at })).toEqual([]);
    expect(active(alertConditions({ status: status(), storage: undefined, network: view([node(A)]), ...at }))).toEqual(
      []
    );
    // Still connecting: neither offline nor alone is an alert yet.
    const starting = status({ online: false, peers: [], startedAt: 95_000 });
    expect(active(alertConditions({ status: starting, storage: undefined, network: undefined, ...at }))).toEqual([]);
    const bad = alertConditions({
      status: status({ online: false, peers: [], networkError: 'TypeError: failed' }, { forkedAuthors: 2 }),
      storage: { usage: 96, quota: 100, persisted: false, supported: true },
      network: view([node(A, { entries: 1 }), node(B, { entries: 5 })], { beaconsRejected: 1 }),
      sustainedLag: 4,
      ...at
    });
    expect(active(bad)).toEqual(['offline', 'no-peers', 'forked', 'storage', 'lag', 'bad-beacons']);
    expect(bad.find((c) => c.id === 'storage')).toMatchObject({
      level: 'critical',
      message: expect.stringContaining('96%')
    });
    expect(bad.find((c) => c.id === 'offline')!.message).toContain('TypeError: failed');
    expect(bad.find((c) => c.id === 'lag')!.message).toContain('4 entries behind');
  });

  it("counts direct peers only from this tab's running node (a takeover shows none of the old leader's)", () => {
    const peer = (id: string, relay: boolean) => ({ id, relay });
    const status = { peers: [peer('a', false), peer('r', true), peer('b', false)] };
    expect(directPeers(status, 'running')).toBe(2);
    for (const phase of ['starting', 'standby'] as const) expect(directPeers(status, phase)).toBe(0);
    expect(directPeers(undefined, 'running')).toBe(0);
    // The dashboard's Peers table likewise lists none of the old leader's.
    expect(runningPeers(status, 'running')).toHaveLength(3);
    expect(runningPeers(status, 'standby')).toEqual([]);
    expect(runningPeers(undefined, 'running')).toEqual([]);
  });

  it('says why a node is offline, and warns when only direct links are left', () => {
    const active = (c: ReturnType<typeof alertConditions>) => c.filter((x) => x.active).map((x) => x.id);
    const at = { storage: undefined, network: undefined, now: 100_000, watchingSince: 0 };
    const r1 = { addr: '/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWA', connected: false };
    const r2 = { addr: '/dns4/relay.example/tcp/443/wss/p2p/12D3KooWB', connected: false };
    const r3 = { addr: '/ip4/10.0.0.3/tcp/9090/ws', connected: false };
    expect(relayHost(r1.addr)).toBe('127.0.0.1:9090');
    expect(relayHost('/memory/x')).toBe('/memory/x');
    expect(relayHost('/ip6/::1/tcp/9090/ws')).toBe('[::1]:9090');
    expect(offlineReason({ networkError: 'TypeError: failed', relays: [r1] })).toBe('TypeError: failed');
    expect(offlineReason({ networkError: null, relays: [] })).toMatch(/no relay address known/);
    expect(offlineReason({ networkError: null, relays: [r1, r2, r3] })).toBe(
      'no relay reachable (127.0.0.1:9090, relay.example:443 and 1 more)'
    );
    expect(offlineReason({ networkError: null, relays: [{ ...r1, connected: true }] })).toBe(
      'no relay or peer connection'
    );
    const down = alertConditions({ ...at, status: status({ online: false, peers: [], relays: [r1] }) });
    expect(down.find((c) => c.id === 'offline')!.message).toBe(
      'Network unavailable: no relay reachable (127.0.0.1:9090)'
    );
    // Every relay gone, a direct link up: online, but a warning.
    const direct = alertConditions({ ...at, status: status({ relays: [r1] }) });
    expect(active(direct)).toEqual(['relays-down']);
    expect(direct.find((c) => c.id === 'relays-down')!.message).toMatch(/No relay connection \(127\.0\.0\.1:9090\)/);
    expect(active(alertConditions({ ...at, status: status({ relays: [{ ...r1, connected: true }, r2] }) }))).toEqual(
      []
    );
  });

  it("a store the browser reset is a critical alert for a day, with the browser's reason", () => {
    const active = (c: ReturnType<typeof alertConditions>) => c.filter((x) => x.active).map((x) => x.id);
    const reset = { at: 50_000, amount: 'total', message: 'Corruption detected' };
    const base = { storage: undefined, network: undefined, watchingSince: 0 };
    const now = alertConditions({ ...base, status: status({ storeReset: reset }), now: 110_000 });
    expect(active(now)).toEqual(['store-reset']);
    expect(now.find((c) => c.id === 'store-reset')).toMatchObject({
      level: 'critical',
      message: expect.stringMatching(/1 min ago .*total.*Corruption detected/)
    });
    const dayLater = alertConditions({ ...base, status: status({ storeReset: reset }), now: 50_000 + 24 * 3600_000 });
    expect(active(dayLater)).not.toContain('store-reset');
    // Dated over a day ahead (the clock was wrong when it was noted): not an alert for ever.
    const ahead = alertConditions({ ...base, status: status({ storeReset: { ...reset, at: 1e12 } }), now: 110_000 });
    expect(active(ahead)).not.toContain('store-reset');
    expect(active(alertConditions({ ...base, status: status(), now: 110_000 }))).toEqual([]);
    // Restored from the own copy: said what came back.
    const restored = { ...reset, restored: { identity: true, entries: 3 } };
    expect(storeResetNotice(restored, 110_000)).toContain(
      "Restored from this device's own copy: its key and 3 of its own entries"
    );
    const unreported = { at: 50_000, amount: 'unreported', message: 'gone', restored: { identity: false, entries: 1 } };
    const waiting = { ...reset, restored: { identity: true, entries: 0, waiting: 2 } };
    expect(storeResetNotice(waiting, 110_000)).toMatch(
      /its key; .* 2 more of its own entries wait for entries from peers; writes wait/
    );
    expect(storeResetNotice(unreported, 110_000)).toMatch(
      /lost data 1 min ago without the browser saying so.*1 of its own entry;/
    );
  });

  it('an own copy that is off or behind is a warning, with its reason', () => {
    const base = { storage: undefined, network: undefined, watchingSince: 0, now: 110_000 };
    const off = {
      state: 'behind' as const,
      firstSeq: 1,
      lastSeq: 3,
      bytes: 900,
      cutBytes: 0,
      error: 'own copy behind: no space',
      restored: null,
      appends: 0,
      appendMs: 0
    };
    const c = alertConditions({ ...base, status: status({ ownCopy: off }) }).find((x) => x.id === 'own-copy')!;
    expect(c).toMatchObject({
      active: true,
      level: 'warning',
      message: expect.stringContaining('behind (own copy behind: no space)')
    });
    expect(alertConditions({ ...base, status: status() }).find((x) => x.id === 'own-copy')!.active).toBe(false);
  });

  it('watch large gaps, repeated sync failures, heads roots that stay apart, and refused peers', () => {
    const active = (c: ReturnType<typeof alertConditions>) => c.filter((x) => x.active).map((x) => x.id);
    const base = status();
    const sync = { ...base.sync, missing: 0, lastEqualRootAt: 10_000, streamFailures: 0, slowPeerDrops: 0 };
    const at = { now: 100_000, watchingSince: 0 };
    const ok = status({ sync });
    expect(active(alertConditions({ status: ok, storage: undefined, network: undefined, ...at }))).toEqual([]);
    const badSync = { ...sync, missing: 5000, streamFailures: 2, slowPeerDrops: 1, rejectedPeers: 1 };
    const bad = status({ sync: badSync });
    expect(active(alertConditions({ status: bad, storage: undefined, network: undefined, ...at }))).toEqual([
      'large-gap',
      'sync-failures',
      'rejected-peers'
    ]);
    // Nothing missing, a peer connected, yet no equal root for over two minutes.
    const apart = status({ sync: { ...sync, lastEqualRootAt: 1_000 } });
    const later = { now: 200_000, watchingSince: 0 };
    expect(active(alertConditions({ status: apart, storage: undefined, network: undefined, ...later }))).toEqual([
      'roots-differ'
    ]);
    // Fewer than half of the recently known peers reachable: a partition, with its size and start.
    const split = status({
      sync: {
        ...sync,
        partitioned: true,
        partitionedSince: 40_000,
        partitionEvents: 2,
        reachablePeers: 1,
        knownPeers: 4
      }
    });
    const cut = alertConditions({ status: split, storage: undefined, network: undefined, ...at });
    expect(active(cut)).toEqual(['partitioned']);
    expect(cut.find((c) => c.id === 'partitioned')!.message).toBe(
      'Partitioned: 1 of 4 recently known peers reachable since 1 min ago (2 partitions since start).'
    );
  });
});

describe('chart samples', () => {
  it('sample own and largest lag and latency; keep the last CHART_POINTS', () => {
    const s = sampleOf(view([node(A, { entries: 8 }), node(B, { entries: 10 }), node(C, { entries: 2 })]), 5);
    expect(s).toEqual({ at: 5, lagEntries: 2, maxLagEntries: 8, p50: 40, p99: 90 });
    let series: Sample[] = [];
    for (let i = 0; i < CHART_POINTS + 5; i++) series = pushSample(series, { ...s, at: i });
    expect(series).toHaveLength(CHART_POINTS);
    expect(series[0].at).toBe(5);
    // Lag counts as an alert only once it lasted LAG_ALERT_SAMPLES samples.
    const lags = (xs: number[]) => xs.map((lagEntries, at) => ({ ...s, at, lagEntries }));
    expect(sustainedLag(lags([3, 3, 3, 3]))).toBe(0);
    expect(sustainedLag(lags([3, 4, 3, 2, 5]))).toBe(2);
    expect(sustainedLag(lags([3, 4, 0, 2, 5, 6]))).toBe(0);
  });
});
