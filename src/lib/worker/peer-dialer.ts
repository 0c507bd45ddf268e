// Turns discovered peers into direct WebRTC connections, and drops the relayed hop once direct.
// Both sides discover each other at about the same time, so only the smaller peer id dials at
// once; the other waits and dials only if no direct connection has appeared by then.
import type { Libp2p, PeerInfo } from '@libp2p/interface';
import { WebRTC } from '@multiformats/multiaddr-matcher';
import type { Multiaddr } from '@multiformats/multiaddr';
import { classify } from './peer-status.js';

export interface DialerOptions {
  maxDirectPeers: number;
  /** How long the larger id waits for the other side's dial before dialling itself. */
  yieldMs: number;
  /** Backoff after a failed dial: base, doubled per failure, capped. */
  backoffMs: number;
  maxBackoffMs: number;
  dialTimeoutMs: number;
}

export const DIALER_DEFAULTS: DialerOptions = {
  maxDirectPeers: 16,
  yieldMs: 3000,
  backoffMs: 1000,
  maxBackoffMs: 60_000,
  dialTimeoutMs: 15_000
};

export class PeerDialer {
  readonly #node: Libp2p;
  readonly #opts: DialerOptions;
  readonly #relayIds: Set<string>;
  readonly #inflight = new Set<string>();
  readonly #failures = new Map<string, { count: number; until: number }>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #stopped = false;
  /** Duration of the last successful direct dial, ms. */
  lastDialMs: number | null = null;

  constructor(node: Libp2p, relayIds: Set<string>, opts: Partial<DialerOptions> = {}) {
    this.#node = node;
    this.#relayIds = relayIds;
    this.#opts = { ...DIALER_DEFAULTS, ...opts };
  }

  start(): void {
    this.#node.addEventListener('peer:discovery', (ev) => this.#onDiscovery(ev.detail));
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  hasDirect(peer: string): boolean {
    return this.#node
      .getConnections()
      .some((c) => c.remotePeer.toString() === peer && c.status === 'open' && classify(c) === 'webrtc');
  }

  #directCount(): number {
    return new Set(
      this.#node
        .getConnections()
        .filter((c) => classify(c) === 'webrtc')
        .map((c) => c.remotePeer.toString())
    ).size;
  }

  #onDiscovery(info: PeerInfo): void {
    const id = info.id.toString();
    if (this.#stopped || this.#relayIds.has(id) || id === this.#node.peerId.toString()) return;
    const addrs = info.multiaddrs.filter((ma) => WebRTC.exactMatch(ma));
    if (addrs.length === 0) return;
    const delay = this.#node.peerId.toString() < id ? 0 : this.#opts.yieldMs;
    this.#schedule(() => void this.#dial(id, addrs), delay);
  }

  #schedule(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#stopped) fn();
    }, ms);
    this.#timers.add(t);
  }

  async #dial(id: string, addrs: Multiaddr[]): Promise<void> {
    if (this.#inflight.has(id) || this.hasDirect(id)) return;
    if (this.#directCount() >= this.#opts.maxDirectPeers) return;
    const failure = this.#failures.get(id);
    if (failure !== undefined && Date.now() < failure.until) return;
    this.#inflight.add(id);
    const started = Date.now();
    try {
      const conn = await this.#node.dial(addrs, { signal: AbortSignal.timeout(this.#opts.dialTimeoutMs) });
      this.#failures.delete(id);
      if (classify(conn) === 'webrtc') this.lastDialMs = Date.now() - started;
      // Only the dialler drops the relayed hop: it knows its signalling is finished.
      if (classify(conn) === 'webrtc') this.#dropRelayed(id);
    } catch {
      const count = (failure?.count ?? 0) + 1;
      const wait = Math.min(this.#opts.maxBackoffMs, this.#opts.backoffMs * 2 ** (count - 1));
      this.#failures.set(id, { count, until: Date.now() + wait });
      // The next discovery broadcast will retry after the backoff.
    } finally {
      this.#inflight.delete(id);
    }
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
