// Pure view models of the dashboard: formatting, the Network rows (with lag estimated from
// beacons), alert history and chart series. No DOM, no Svelte: unit-tested in Node.
import type {
  Conflict,
  NetworkNode,
  NetworkView,
  NodePhase,
  NodeStatus,
  StorageInfo,
  StoreReset
} from '$lib/client/index.js';

/** Storage use at or above this share of the quota raises the "storage near quota" alert. */
export const STORAGE_ALERT_RATIO = 0.8;
/** Connectivity alerts (offline, no peers) wait this long after the network starts, ms. */
export const ALERT_GRACE_MS = 15_000;
/** Points kept per chart series (one per DASHBOARD_SAMPLE_MS). */
export const CHART_POINTS = 60;
/** How often the dashboard samples the network view, ms. */
export const DASHBOARD_SAMPLE_MS = 2000;

/**
 * "1.5 MiB", "0 B", "—" for null: binary units, as budgets are set (`budgetMiB`, 32 MiB by
 * default); a value that rounds to 1024 of a unit is shown in the next one.
 */
export function formatBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const shown = (v: number): string => v.toFixed(v < 10 ? 1 : 0);
  let v = n;
  let i = 0;
  while ((v >= 1024 || (i > 0 && Number(shown(v)) >= 1024)) && i < units.length - 1) [v, i] = [v / 1024, i + 1];
  return `${i === 0 ? v : shown(v)} ${units[i]}`;
}

/** "just now", "12 s ago", "3 min ago", "2 h ago". */
export function formatAgo(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 2) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

/**
 * What the dashboard says of a pushed state digest's age (LedgerSummary.stateDigestStaleSince):
 * nothing while it is current, else since when it lags the state ("changes since 12 s ago").
 */
export function digestAge(staleSince: number | null, now: number): string {
  return staleSince === null ? '' : `not updated for changes since ${formatAgo(staleSince, now)}`;
}

export const shortId = (id: string, n = 12): string => (id.length > n ? `${id.slice(0, n)}…` : id);

export interface NetworkRow {
  peerId: string;
  author: string;
  self: boolean;
  role: string;
  /** Entries behind the node with the most entries; from the node's own report when it has one. */
  lagEntries: number;
  /** "reported" when the node measured its lag itself, "estimated" from beacon entry counts. */
  lagSource: 'reported' | 'estimated';
  lagText: string;
  peers: number;
  storageText: string;
  version: string;
  lastBeaconText: string;
  /** No beacon for BEACON_SILENT_MS: the node left or is cut off (its row stays until the view drops it). */
  silent: boolean;
  headsRoot: string;
}

/**
 * A node not heard for this long is marked silent, ms: three beacon intervals (worker/telemetry.ts
 * BEACON_INTERVAL_MS, 5 s ± 20%), so one or two lost beacons do not mark it.
 */
export const BEACON_SILENT_MS = 15_000;

/** Largest entry count among the nodes: the best-known replica. */
export function bestEntries(nodes: readonly NetworkNode[]): number {
  return nodes.reduce((m, n) => Math.max(m, n.entries), 0);
}

/** Entries `node` is behind the best-known replica, as it reports it or as estimated. */
export function lagOf(node: NetworkNode, best: number): { entries: number; source: 'reported' | 'estimated' } {
  return node.lagEntries !== null
    ? { entries: node.lagEntries, source: 'reported' }
    : { entries: Math.max(0, best - node.entries), source: 'estimated' };
}

export function networkRows(view: NetworkView, now: number): NetworkRow[] {
  const best = bestEntries(view.nodes);
  return view.nodes.map((n) => {
    const lag = lagOf(n, best);
    const storage =
      n.storageUsed === null && n.storageQuota === null
        ? '—'
        : `${formatBytes(n.storageUsed)} of ${formatBytes(n.storageQuota)}`;
    return {
      peerId: n.peerId,
      author: n.author,
      self: n.author === view.self,
      role: n.role,
      lagEntries: lag.entries,
      lagSource: lag.source,
      lagText: lag.entries === 0 ? 'in sync' : `${lag.entries} ${lag.entries === 1 ? 'entry' : 'entries'}`,
      peers: n.peers,
      storageText: storage,
      version: n.version,
      lastBeaconText: formatAgo(n.lastSeen, now),
      silent: n.author !== view.self && now - n.lastSeen > BEACON_SILENT_MS,
      headsRoot: n.headsRoot
    };
  });
}

// ---- records ----

/** Conflicts by key, in list order (a key has one conflict per point where its writes branched). */
export function conflictsByKey(conflicts: readonly Conflict[]): Map<string, Conflict[]> {
  const byKey = new Map<string, Conflict[]>();
  for (const c of conflicts) {
    const list = byKey.get(c.key);
    if (list === undefined) byKey.set(c.key, [c]);
    else list.push(c);
  }
  return byKey;
}

/** The conflict whose kept write is the record's current value (its author and time), if any. */
export function wonConflict(
  byKey: ReadonlyMap<string, readonly Conflict[]>,
  r: { key: string; author: string; time: number }
): Conflict | undefined {
  return byKey.get(r.key)?.findLast((c) => c.winner === r.author && c.times[0] === r.time);
}

// ---- alerts ----

export type AlertLevel = 'warning' | 'critical';

/** A condition the dashboard watches; `active` says whether it holds right now. */
export interface AlertCondition {
  id: string;
  level: AlertLevel;
  message: string;
  active: boolean;
}

export interface Alert {
  id: string;
  level: AlertLevel;
  message: string;
  /** ms since the epoch. */
  startedAt: number;
  /** null while the alert is active. */
  clearedAt: number | null;
}

/** Alerts kept (active ones and the most recent cleared ones). */
export const MAX_ALERTS = 50;

/**
 * Folds the current conditions into the alert history: a condition that becomes active opens an
 * alert (startedAt = now), one that becomes inactive clears its open alert (clearedAt = now).
 * Returns a new list, newest first, at most MAX_ALERTS.
 */
export function updateAlerts(history: readonly Alert[], conditions: readonly AlertCondition[], now: number): Alert[] {
  const next = history.map((a) => ({ ...a }));
  for (const c of conditions) {
    const open = next.find((a) => a.id === c.id && a.clearedAt === null);
    if (c.active && open === undefined) {
      next.unshift({ id: c.id, level: c.level, message: c.message, startedAt: now, clearedAt: null });
    } else if (c.active && open !== undefined) open.message = c.message;
    else if (!c.active && open !== undefined) open.clearedAt = now;
  }
  return next.slice(0, MAX_ALERTS);
}

/** What the dashboard currently knows, for alertConditions. */
export interface AlertInputs {
  status: NodeStatus | undefined;
  storage: StorageInfo | undefined;
  network: NetworkView | undefined;
  /** ms since the epoch. */
  now: number;
  /** When this page first saw the node running, ms since the epoch. */
  watchingSince: number;
  /** This node's lag that has lasted LAG_ALERT_SAMPLES samples (sustainedLag); default 0. */
  sustainedLag?: number;
}

/** Samples (DASHBOARD_SAMPLE_MS apart) a lag must last before it is an alert: entries in flight are not. */
export const LAG_ALERT_SAMPLES = 5;

/** The smallest own lag over the last `n` samples; 0 with fewer samples. */
export function sustainedLag(series: readonly Sample[], n = LAG_ALERT_SAMPLES): number {
  if (series.length < n) return 0;
  return Math.min(...series.slice(-n).map((s) => s.lagEntries));
}

/**
 * The conditions the Alerts panel watches. Offline and no-peers hold only once the network (or,
 * while it has not started, this page's watch) has been up ALERT_GRACE_MS: a node that is still
 * connecting is not an incident.
 */
/** Alerts: a catch-up this large is worth telling the operator about (entries). */
export const LARGE_GAP_ENTRIES = 1000;
/** Alerts: sync streams failed or dropped (since the node started) before it is called repeated. */
export const SYNC_FAILURE_ALERT = 3;
/** Alerts: how long a store reset by the browser stays an active alert, ms (a day). */
export const STORE_RESET_ALERT_MS = 24 * 3600_000;
/** Alerts: how long no peer may share this node's heads root while nothing is missing, ms. */
export const ROOTS_DIFFER_MS = 120_000;

/**
 * What to tell the user of a store the browser reset (status.storeReset), or null once a day has
 * passed. A reset dated more than a day ahead (the clock was wrong then) is not shown either.
 */
export function storeResetNotice(reset: StoreReset | null | undefined, now: number): string | null {
  if (!reset || Math.abs(now - reset.at) >= STORE_RESET_ALERT_MS) return null;
  const why = reset.message ? `, “${reset.message}”` : '';
  const what =
    reset.amount === 'unreported' // worker/store-reset.ts UNREPORTED_LOSS
      ? `This device's store lost data ${formatAgo(reset.at, now)} without the browser saying so (${reset.message}). `
      : `The browser reset this device's store ${formatAgo(reset.at, now)} (IndexedDB data loss: ${reset.amount}${why}). `;
  const r = reset.restored;
  if (r === undefined)
    return what + 'Entries not yet on other peers were lost; this device now writes under a new key.';
  const parts = [
    ...(r.identity ? ['its key'] : []),
    ...(r.entries > 0 ? [`${r.entries} of its own ${r.entries === 1 ? 'entry' : 'entries'}`] : [])
  ];
  const waiting = r.waiting
    ? ` ${r.waiting} more of its own ${r.waiting === 1 ? 'entry waits' : 'entries wait'} for entries from peers; writes wait for them.`
    : '';
  return `${what}Restored from this device's own copy: ${parts.join(' and ')}; entries of others come back from peers.${waiting}`;
}

/** `host:port` of a relay multiaddr (`/ip4/127.0.0.1/tcp/9090/ws/p2p/…` → `127.0.0.1:9090`), else the address. */
export function relayHost(addr: string): string {
  const m = /\/(ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)/.exec(addr);
  if (m === null) return addr;
  return m[1] === 'ip6' ? `[${m[2]}]:${m[3]}` : `${m[2]}:${m[3]}`;
}

/** The relays named in a message: the first two hosts, then how many more. */
function relayList(relays: readonly { addr: string }[]): string {
  const hosts = relays.slice(0, 2).map((r) => relayHost(r.addr));
  return relays.length > 2 ? `${hosts.join(', ')} and ${relays.length - 2} more` : hosts.join(', ');
}

/**
 * The peers of this tab's node: none before it runs (`phase` not 'running': a takeover, a
 * reload), when the last status is another node's (the closed leader's).
 */
export function runningPeers<P>(status: { peers: P[] } | undefined, phase: NodePhase): P[] {
  return phase === 'running' ? (status?.peers ?? []) : [];
}

/** The direct (non-relay) peers the status line counts (runningPeers). */
export function directPeers(status: { peers: { relay: boolean }[] } | undefined, phase: NodePhase): number {
  return runningPeers(status, phase).filter((p) => !p.relay).length;
}

/**
 * Why a node is offline, in words: the network's start error, else what its relays say (none
 * known, none reachable), else that it has no connection at all.
 */
export function offlineReason(status: Pick<NodeStatus, 'networkError' | 'relays'>): string {
  if (status.networkError) return status.networkError;
  if (status.relays.length === 0) return 'no relay address known (the site listed none)';
  if (!status.relays.some((r) => r.connected)) return `no relay reachable (${relayList(status.relays)})`;
  return 'no relay or peer connection';
}

export function alertConditions(inputs: AlertInputs): AlertCondition[] {
  const { status, storage, network, now, watchingSince, sustainedLag: lag = 0 } = inputs;
  const conditions: AlertCondition[] = [];
  if (status === undefined) return conditions;
  const browserPeers = status.peers.filter((p) => !p.relay).length;
  const settled = now - Math.min(status.startedAt, watchingSince) >= ALERT_GRACE_MS;
  conditions.push({
    id: 'offline',
    level: 'critical',
    message: `Network unavailable: ${offlineReason(status)}`,
    active: settled && !status.online
  });
  // Online through direct links only: they keep syncing, but nobody new can reach this node.
  conditions.push({
    id: 'relays-down',
    level: 'warning',
    message: `No relay connection (${relayList(status.relays)}): direct links keep syncing, but new devices cannot reach this node until a relay is back.`,
    active: settled && status.online && status.relays.length > 0 && !status.relays.some((r) => r.connected)
  });
  conditions.push({
    id: 'no-peers',
    level: 'warning',
    message: 'No peers: this node is not connected to any other browser.',
    active: settled && browserPeers === 0
  });
  const forked = status.ledger.forkedAuthors;
  conditions.push({
    id: 'forked',
    level: 'critical',
    message: `${forked} forked ${forked === 1 ? 'author' : 'authors'}: signed two different entries at one position.`,
    active: forked > 0
  });
  const reset = storeResetNotice(status.storeReset, now);
  conditions.push({ id: 'store-reset', level: 'critical', message: reset ?? '', active: reset !== null });
  const copy = status.ownCopy;
  conditions.push({
    id: 'own-copy',
    level: 'warning',
    message:
      `This device's own copy is ${copy.state} (${copy.error ?? 'no reason given'}): ` +
      'if the browser discards its store, its latest writes and its key are lost.',
    active: copy.state !== 'on'
  });
  const ratio = storage?.usage != null && storage.quota ? storage.usage / storage.quota : 0;
  conditions.push({
    id: 'storage',
    level: ratio >= 0.95 ? 'critical' : 'warning',
    message: `Storage near quota: ${Math.round(ratio * 100)}% used (${formatBytes(storage?.usage ?? null)} of ${formatBytes(storage?.quota ?? null)}).`,
    active: ratio >= STORAGE_ALERT_RATIO
  });
  const sync = status.sync;
  if (sync !== undefined) {
    conditions.push({
      id: 'large-gap',
      level: 'warning',
      message: `Large gap: ${sync.missing} entries known to be missing are being fetched.`,
      active: sync.missing >= LARGE_GAP_ENTRIES
    });
    const failures = sync.streamFailures + sync.slowPeerDrops;
    conditions.push({
      id: 'sync-failures',
      level: 'warning',
      message: `Repeated sync failures: ${failures} sync streams failed or were dropped.`,
      active: failures >= SYNC_FAILURE_ALERT
    });
    const since = sync.lastEqualRootAt ?? Math.min(status.startedAt, watchingSince);
    conditions.push({
      id: 'roots-differ',
      level: 'warning',
      message: 'Heads roots differ: no peer has had the same heads root as this node for over 2 minutes.',
      active: settled && browserPeers > 0 && sync.missing === 0 && now - since > ROOTS_DIFFER_MS
    });
    conditions.push({
      id: 'partitioned',
      level: 'critical',
      message: `Partitioned: ${sync.reachablePeers} of ${sync.knownPeers} recently known peers reachable${
        sync.partitionedSince !== null ? ` since ${formatAgo(sync.partitionedSince, now)}` : ''
      } (${sync.partitionEvents} ${sync.partitionEvents === 1 ? 'partition' : 'partitions'} since start).`,
      active: sync.partitioned
    });
    conditions.push({
      id: 'rejected-peers',
      level: 'warning',
      message: `${sync.rejectedPeers} peers refused (another network or protocol).`,
      active: sync.rejectedPeers > 0
    });
  }
  conditions.push({
    id: 'lag',
    level: 'warning',
    message: `This node is ${lag} ${lag === 1 ? 'entry' : 'entries'} behind the best-known replica.`,
    active: lag > 0
  });
  if (network !== undefined) {
    conditions.push({
      id: 'bad-beacons',
      level: 'warning',
      message: `${network.beaconsRejected} invalid telemetry ${network.beaconsRejected === 1 ? 'beacon' : 'beacons'} rejected.`,
      active: network.beaconsRejected > 0
    });
  }
  return conditions;
}

// ---- chart series ----

export interface Sample {
  /** ms since the epoch. */
  at: number;
  /** This node's entries behind the best-known replica. */
  lagEntries: number;
  /** Largest lag among all nodes seen. */
  maxLagEntries: number;
  /** Sync latency, ms; null without samples. */
  p50: number | null;
  p99: number | null;
}

export function sampleOf(view: NetworkView, at: number): Sample {
  const best = bestEntries(view.nodes);
  const lags = view.nodes.map((n) => lagOf(n, best).entries);
  const self = view.nodes.find((n) => n.author === view.self);
  return {
    at,
    lagEntries: self === undefined ? 0 : lagOf(self, best).entries,
    maxLagEntries: lags.length === 0 ? 0 : Math.max(...lags),
    p50: view.latency.p50,
    p99: view.latency.p99
  };
}

/** Appends, keeping the last CHART_POINTS. */
export function pushSample(series: readonly Sample[], s: Sample): Sample[] {
  return [...series, s].slice(-CHART_POINTS);
}

/** One line of a chart. */
export interface Series {
  name: string;
  color: string;
  /** One value per label; null = no data at that point. */
  values: (number | null)[];
}
