// What the status API reports about connected peers: best transport and a measured RTT.
import type { Connection, Libp2p } from '@libp2p/interface';
import type { PeerStatus, Transport } from './messages.js';
import { LINK_PING_FAILURES_TO_CLOSE, LINK_PING_TIMEOUT_MS, LinkLiveness } from './link-liveness.js';

const RANK: Record<Transport, number> = { webrtc: 3, websocket: 2, relayed: 1 };

/** Direct WebRTC is the connection with no relay limits and the /webrtc muxer; the address alone lies. */
export function classify(conn: Pick<Connection, 'limits' | 'multiplexer' | 'remoteAddr'>): Transport {
  if (conn.limits != null) return 'relayed';
  if (conn.multiplexer === '/webrtc') return 'webrtc';
  return 'websocket';
}

export function peerStatuses(node: Libp2p, relayIds: Set<string>, rtts: Map<string, number>): PeerStatus[] {
  const best = new Map<string, Transport>();
  for (const conn of node.getConnections()) {
    if (conn.status !== 'open') continue;
    const id = conn.remotePeer.toString();
    const t = classify(conn);
    const prev = best.get(id);
    if (prev === undefined || RANK[t] > RANK[prev]) best.set(id, t);
  }
  return [...best]
    .map(([id, transport]) => ({ id, transport, rttMs: rtts.get(id) ?? null, relay: relayIds.has(id) }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Pings every peer with an unlimited connection, one at a time, and keeps the last RTT. A
 * connection whose pings go unanswered LINK_PING_FAILURES_TO_CLOSE times in a row is aborted
 * (link-liveness.ts; libp2p's own connection monitor is off in the browser node).
 */
export class RttProbe {
  readonly rtts = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy = false;
  readonly #liveness = new LinkLiveness();

  constructor(
    private readonly node: Libp2p<{
      ping: { ping(peer: Connection['remotePeer'], o?: { signal?: AbortSignal }): Promise<number> };
    }>,
    private readonly intervalMs: number
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.probeAll(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async probe(conn: Connection): Promise<void> {
    if (conn.limits != null) return;
    const peer = conn.remotePeer.toString();
    try {
      const rtt = await this.node.services.ping.ping(conn.remotePeer, {
        signal: AbortSignal.timeout(LINK_PING_TIMEOUT_MS)
      });
      this.rtts.set(peer, Math.round(rtt * 10) / 10);
      this.#liveness.answered(peer);
    } catch (err) {
      // An unanswered ping leaves the previous value; disconnects clear it. Several in a row: dead.
      if (this.#liveness.failed(peer, err) && conn.status === 'open')
        conn.abort(new Error(`${LINK_PING_FAILURES_TO_CLOSE} pings in a row unanswered`));
    }
  }

  async probeAll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const seen = new Set<string>();
      for (const conn of this.node.getConnections()) {
        const id = conn.remotePeer.toString();
        if (seen.has(id) || conn.limits != null) continue;
        seen.add(id);
        await this.probe(conn);
      }
      for (const id of this.rtts.keys()) if (!seen.has(id)) this.rtts.delete(id);
      this.#liveness.keepOnly(seen);
    } finally {
      this.#busy = false;
    }
  }
}
