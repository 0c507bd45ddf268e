// The node's networking in the worker: libp2p plus the policies around it (relays, discovery,
// RTT probes, echo), reported as the network half of NodeStatus.
import type { PrivateKey } from '@libp2p/interface';
import { networkNames } from '../core/topics.js';
import { createBrowserNode, type BrowserNode } from '../platform/libp2p-browser.js';
import { echo, handleEcho } from './echo.js';
import type { InitConfig, NetworkStatus, NetworkTimings } from './messages.js';
import { WebRTC } from '@multiformats/multiaddr-matcher';
import { PeerDialer } from './peer-dialer.js';
import { onAnnouncements } from './discovery-feed.js';
import { classify, peerStatuses, RttProbe } from './peer-status.js';
import { RelayKeeper } from './relay-keeper.js';
import { groupRelays, RELAY_POOL_DEFAULTS } from './relay-list.js';
import { PeerGuard, relayIdsOf } from './peer-guard.js';
import type { BanStore } from '../core/peers/ban-persist.js';

const RTT_INTERVAL_MS = 5000;
const DISCOVERY_INTERVAL_MS = 2000;
const STATUS_THROTTLE_MS = 200;
const MAX_RELAY_LIST_BYTES = 64 * 1024;

export interface RunningNetwork {
  readonly node: BrowserNode;
  status(): NetworkStatus;
  echo(peerId: string, data: Uint8Array): Promise<Uint8Array>;
  /** Last measured ping RTT to a peer, ms. */
  rttOf(peerId: string): number | undefined;
  /** Peer scores and bans (gater, gossip blame, discovery check). */
  readonly guard: PeerGuard;
  stop(): Promise<void>;
}

export interface NetworkInit {
  config: InitConfig;
  privateKey: PrivateKey;
  networkIdHex: string;
  /** Called (throttled) whenever connections or addresses change. */
  onChange: () => void;
  /** Aborts start-up (e.g. while still waiting for the site's relay list). */
  signal: AbortSignal;
  /** Registers further protocols (e.g. sync) on the node before it starts. */
  setup?: (node: BrowserNode, guard: PeerGuard) => Promise<void>;
  /** Where bans are kept across reloads (the node's IndexedDB); absent: in memory only. */
  banStore?: BanStore;
  /** Each attempt to read the site's relay list: its error, or null once it answered (it is retried until then). */
  onRelayList?: (err: unknown) => void;
}

/**
 * GET /api/relays, retried with capped backoff until it answers or `signal` aborts: offline is
 * normal. `onAttempt` hears each attempt: its error, or null when it answered (the status says
 * why the node is offline).
 */
export async function fetchRelays(
  origin: string,
  signal: AbortSignal,
  maxBackoffMs = 5000,
  onAttempt?: (err: unknown) => void
): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    try {
      const res = await fetch(new URL('/api/relays', origin), {
        signal: AbortSignal.any([signal, AbortSignal.timeout(5000)])
      });
      if (!res.ok) throw new Error(`/api/relays answered ${res.status}`);
      const text = await res.text();
      if (text.length > MAX_RELAY_LIST_BYTES) throw new Error('/api/relays answer too large');
      const body = JSON.parse(text) as { relays?: unknown };
      if (!Array.isArray(body.relays) || !body.relays.every((r) => typeof r === 'string')) {
        throw new Error('/api/relays answer is malformed');
      }
      onAttempt?.(null);
      return body.relays as string[];
    } catch (err) {
      if (signal.aborted) throw err;
      onAttempt?.(err);
      const wait = Math.min(maxBackoffMs, 250 * 2 ** Math.min(attempt, 10));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  }
}

export async function startNetwork({
  config,
  privateKey,
  networkIdHex,
  onChange,
  signal,
  setup,
  banStore,
  onRelayList
}: NetworkInit): Promise<RunningNetwork> {
  const names = networkNames(networkIdHex);
  const relays = await fetchRelays(config.origin, signal, undefined, onRelayList);
  const maxActive = config.maxRelays ?? RELAY_POOL_DEFAULTS.maxActive;
  const relayIds = relayIdsOf(relays);
  const guard = new PeerGuard((p) => relayIds.has(p));
  if (banStore) await guard.persist(banStore);
  const node: BrowserNode = await createBrowserNode({
    privateKey,
    relays,
    iceServers: config.iceServers,
    discoveryTopic: names.discoveryTopic,
    discoveryIntervalMs: DISCOVERY_INTERVAL_MS,
    maxConnections: 64,
    reservations: Math.min(maxActive, groupRelays(relays).length),
    gater: guard.gater(),
    gossip: guard.gossipOptions([names.entriesTopic, names.telemetryTopic, names.discoveryTopic])
  });
  guard.bind(node);
  guard.guardDiscovery(node.services.pubsub, names.discoveryTopic);
  const keeper = new RelayKeeper(node, relays, { maxActive });
  const dialer = new PeerDialer(node, keeper.ids);
  // Repeated announcements re-offer their peer: failed dials and dropped links are retried.
  const stopFeed = onAnnouncements(node.services.pubsub, names.discoveryTopic, (info) => dialer.offer(info));
  const rtt = new RttProbe(node, RTT_INTERVAL_MS);
  const startedAt = Date.now();
  const timings: NetworkTimings = { relayMs: null, reservationMs: null, firstWebrtcMs: null, lastDialMs: null };
  const since = (): number => Date.now() - startedAt;

  const status = (): NetworkStatus => {
    const peers = peerStatuses(node, keeper.ids, rtt.rtts).map((p) => ({ ...p, ...guard.peerInfo(p.id) }));
    const relayList = keeper.list();
    return {
      peerId: node.peerId.toString(),
      online: relayList.some((r) => r.connected) || peers.some((p) => p.transport === 'webrtc'),
      peers,
      bans: guard.bans(),
      relays: relayList,
      addrs: node.getMultiaddrs().map((ma) => ma.toString()),
      startedAt,
      timings: { ...timings, lastDialMs: dialer.lastDialMs }
    };
  };

  let pending: ReturnType<typeof setTimeout> | undefined;
  const notify = (): void => {
    pending ??= setTimeout(() => {
      pending = undefined;
      onChange();
    }, STATUS_THROTTLE_MS);
  };

  await handleEcho(node, names.echoProtocol);
  await setup?.(node, guard);
  node.addEventListener('connection:open', (ev) => {
    const kind = classify(ev.detail);
    if (kind === 'websocket' && keeper.ids.has(ev.detail.remotePeer.toString())) timings.relayMs ??= since();
    if (kind === 'webrtc') timings.firstWebrtcMs ??= since();
    notify();
    void rtt.probe(ev.detail).then(notify);
  });
  node.addEventListener('connection:close', notify);
  node.addEventListener('self:peer:update', () => {
    if (node.getMultiaddrs().some((ma) => WebRTC.exactMatch(ma))) timings.reservationMs ??= since();
    notify();
  });
  await node.start();
  keeper.start();
  dialer.start();
  rtt.start();
  notify();

  return {
    node,
    status,
    echo: (peerId, data) => echo(node, names.echoProtocol, peerId, data),
    rttOf: (peerId) => rtt.rtts.get(peerId),
    guard,
    async stop() {
      clearTimeout(pending);
      guard.stop();
      await guard.closeBans();
      rtt.stop();
      stopFeed();
      dialer.stop();
      keeper.stop();
      await node.stop();
    }
  };
}
