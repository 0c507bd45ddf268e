// Turns discovered peers into direct WebRTC connections, and drops the relayed hop once direct.
// Both sides discover each other at about the same time, so only the smaller peer id dials at
// once; the other waits and dials only if no direct connection has appeared by then.
//
// Peers are offered by libp2p's `peer:discovery` (raised once per peer, when it enters the peer
// store) and by offer(), which network.ts calls on every repeated discovery announcement
// (discovery-feed.ts): a failed dial is retried on a later announcement once its backoff is
// over. A direct link that closes is re-dialed on its own (after the backoff, which grows when
// links keep dropping soon after they open), then again on each announcement.
//
// Discovery is unauthenticated (anyone on the topic can announce made-up peers), so everything
// here is bounded: dials in flight count against maxDirectPeers, at most maxConcurrentDials run
// at once (the rest are skipped and retried on the peer's next discovery broadcast), at most
// maxDirectPeers peers wait for their yield timer, and the failure/backoff memory is capped.
import type { Connection, Libp2p, PeerInfo } from '@libp2p/interface';
import { WebRTC } from '@multiformats/multiaddr-matcher';
import type { Multiaddr } from '@multiformats/multiaddr';
import { DIALER_MAX_CONCURRENT_DIALS, DIALER_MAX_TRACKED_FAILURES } from '../core/constants.js';
import { classify } from './peer-status.js';

export interface DialerOptions {
  maxDirectPeers: number;
  /** How long the larger id waits for the other side's dial before dialling itself. */
  yieldMs: number;
  /** Backoff after a failed dial: base, doubled per failure, capped. */
  backoffMs: number;
  maxBackoffMs: number;
  dialTimeoutMs: number;
  /** Direct dials in flight at once, over all peers. */
  maxConcurrentDials: number;
  /** Peers whose failures are remembered; the least recently failed are forgotten first. */
  maxTrackedFailures: number;
  /**
   * A direct link that closes sooner than this after opening counts as a failed dial (its
   * re-dial backs off, doubling per drop); one that lasted longer is re-dialed at once, ms.
   */
  stableLinkMs: number;
}

export const DIALER_DEFAULTS: DialerOptions = {
  maxDirectPeers: 16,
  yieldMs: 3000,
  backoffMs: 1000,
  maxBackoffMs: 60_000,
  dialTimeoutMs: 15_000,
  maxConcurrentDials: DIALER_MAX_CONCURRENT_DIALS,
  maxTrackedFailures: DIALER_MAX_TRACKED_FAILURES,
  stableLinkMs: 30_000
};

/** The part of the libp2p node the dialer uses (a BrowserNode fits; tests pass a fake). */
export type DialerNode = Pick<
  Libp2p,
  'peerId' | 'getConnections' | 'dial' | 'addEventListener' | 'removeEventListener'
>;

interface Failure {
  count: number;
  /** No dial before this time. */
  until: number;
}

export class PeerDialer {
  readonly #node: DialerNode;
  readonly #opts: DialerOptions;
  readonly #relayIds: Set<string>;
  readonly #inflight = new Set<string>();
  /** Insertion order = least recently failed first. */
  readonly #failures = new Map<string, Failure>();
  /** Peers with a dial timer running, and the timers. */
  readonly #scheduled = new Map<string, ReturnType<typeof setTimeout>>();
  /** Last WebRTC addresses offered per peer (for re-dials); insertion order = least recent first. */
  readonly #addrs = new Map<string, Multiaddr[]>();
  readonly #onDiscoveryEvent = (ev: CustomEvent<PeerInfo>): void => this.#onDiscovery(ev.detail);
  readonly #onCloseEvent = (ev: CustomEvent<Connection>): void => this.#onClose(ev.detail);
  #stopped = false;
  /** Duration of the last successful direct dial, ms. */
  lastDialMs: number | null = null;

  constructor(node: DialerNode, relayIds: Set<string>, opts: Partial<DialerOptions> = {}) {
    this.#node = node;
    this.#relayIds = relayIds;
    const o = { ...DIALER_DEFAULTS, ...opts };
    this.#opts = { ...o, maxTrackedFailures: Math.max(1, o.maxTrackedFailures) };
  }

  start(): void {
    this.#node.addEventListener('peer:discovery', this.#onDiscoveryEvent);
    this.#node.addEventListener('connection:close', this.#onCloseEvent);
  }

  /** A peer announced itself again (discovery-feed.ts): dial it if it has no direct link yet. */
  offer(info: PeerInfo): void {
    this.#onDiscovery(info);
  }

  stop(): void {
    this.#stopped = true;
    this.#node.removeEventListener('peer:discovery', this.#onDiscoveryEvent);
    this.#node.removeEventListener('connection:close', this.#onCloseEvent);
    for (const t of this.#scheduled.values()) clearTimeout(t);
    this.#scheduled.clear();
  }

  hasDirect(peer: string): boolean {
    return this.#node
      .getConnections()
      .some((c) => c.remotePeer.toString() === peer && c.status === 'open' && classify(c) === 'webrtc');
  }

  /** Dials in flight now. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Peers currently remembered as failed (bounded by maxTrackedFailures). */
  get trackedFailures(): number {
    return this.#failures.size;
  }

  /** Peers with a direct connection or a dial in flight: both take one of maxDirectPeers. */
  #directOrDialling(): number {
    const peers = new Set(this.#inflight);
    for (const c of this.#node.getConnections()) if (classify(c) === 'webrtc') peers.add(c.remotePeer.toString());
    return peers.size;
  }

  /** Whether a new dial may start now (checked at discovery and again when the timer fires). */
  #hasRoom(): boolean {
    return this.#inflight.size < this.#opts.maxConcurrentDials && this.#directOrDialling() < this.#opts.maxDirectPeers;
  }

  #onDiscovery(info: PeerInfo): void {
    const id = info.id.toString();
    if (this.#stopped || this.#relayIds.has(id) || id === this.#node.peerId.toString()) return;
    if (this.#scheduled.has(id) || this.#inflight.has(id) || this.hasDirect(id)) return;
    // Full: skip; the peer announces itself again on every discovery interval.
    if (!this.#hasRoom() || this.#scheduled.size >= this.#opts.maxDirectPeers) return;
    if (this.#backingOff(id)) return;
    const addrs = info.multiaddrs.filter((ma) => WebRTC.exactMatch(ma));
    if (addrs.length === 0) return;
    this.#remember(id, addrs);
    this.#schedule(id, addrs, 0);
  }

  /** Dials `id` after `wait` ms, plus yieldMs when the other side (the smaller id) should dial first. */
  #schedule(id: string, addrs: Multiaddr[], wait: number): void {
    const delay = wait + (this.#node.peerId.toString() < id ? 0 : this.#opts.yieldMs);
    const t = setTimeout(() => {
      this.#scheduled.delete(id);
      if (!this.#stopped) void this.#dial(id, addrs);
    }, delay);
    this.#scheduled.set(id, t);
  }

  /** Keeps `addrs` as the peer's latest, bounded by maxTrackedFailures peers. */
  #remember(id: string, addrs: Multiaddr[]): void {
    this.#addrs.delete(id);
    while (this.#addrs.size >= this.#opts.maxTrackedFailures) this.#addrs.delete(this.#addrs.keys().next().value!);
    this.#addrs.set(id, addrs);
  }

  /**
   * A direct link closed: unless another one to that peer is still open, re-dial it once its
   * backoff is over (a link that dropped soon after opening counts as a failure first).
   */
  #onClose(conn: Connection): void {
    const id = conn.remotePeer.toString();
    if (this.#stopped || classify(conn) !== 'webrtc' || this.hasDirect(id) || this.#scheduled.has(id)) return;
    const addrs = this.#addrs.get(id);
    if (addrs === undefined) return; // it dialled us and never announced itself to us: its own dialer re-dials
    const opened = conn.timeline?.open;
    if (typeof opened === 'number' && Date.now() - opened < this.#opts.stableLinkMs) this.#recordFailure(id);
    this.#schedule(id, addrs, Math.max(0, (this.#failures.get(id)?.until ?? 0) - Date.now()));
  }

  #backingOff(id: string): boolean {
    const failure = this.#failures.get(id);
    return failure !== undefined && Date.now() < failure.until;
  }

  async #dial(id: string, addrs: Multiaddr[]): Promise<void> {
    if (this.#inflight.has(id) || this.hasDirect(id) || !this.#hasRoom() || this.#backingOff(id)) return;
    this.#inflight.add(id);
    const started = Date.now();
    try {
      const conn = await this.#node.dial(addrs, { signal: AbortSignal.timeout(this.#opts.dialTimeoutMs) });
      this.#failures.delete(id);
      if (classify(conn) === 'webrtc') {
        this.lastDialMs = Date.now() - started;
        // Only the dialler drops the relayed hop: it knows its signalling is finished.
        this.#dropRelayed(id);
      }
    } catch {
      // The next discovery broadcast will retry after the backoff.
      this.#recordFailure(id);
    } finally {
      this.#inflight.delete(id);
    }
  }

  #recordFailure(id: string): void {
    const now = Date.now();
    const count = (this.#failures.get(id)?.count ?? 0) + 1;
    const wait = Math.min(this.#opts.maxBackoffMs, this.#opts.backoffMs * 2 ** Math.min(count - 1, 30));
    this.#failures.delete(id);
    // A failure is remembered for maxBackoffMs after its backoff ends, so repeated failures
    // still double the wait; after that the peer starts afresh.
    for (const [peer, f] of this.#failures) if (now >= f.until + this.#opts.maxBackoffMs) this.#failures.delete(peer);
    while (this.#failures.size >= this.#opts.maxTrackedFailures) {
      this.#failures.delete(this.#failures.keys().next().value!);
    }
    this.#failures.set(id, { count, until: now + wait });
  }

  /** The relayed connection was only for signalling; free the relay's slot once direct. */
  #dropRelayed(peer: string): void {
    for (const conn of this.#node.getConnections()) {
      if (conn.remotePeer.toString() === peer && classify(conn) === 'relayed') {
        conn.close().catch(() => conn.abort(new Error('relayed connection superseded')));
      }
    }
  }
}
