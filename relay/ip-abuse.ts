// Per-IP abuse score: one host that floods the relay with connections, reservations or gossip
// (however many peer ids it makes up) is scored as a whole. Each refusal the relay's limits make
// (a connection over the per-IP rate or cap, a reservation over the per-IP cap, a ban) adds points
// to the sender's IP (gossip over the per-peer rate is counted, not scored); points halve every
// `halfLifeMs`. From `threshold` points on the IP is abusive: every peer connected from it scores
// far below the gossipsub graylist (its RPCs are dropped unread), its reservations are revoked, and
// its new connections and reservations are refused, until the points decay below the threshold.
// Honest traffic earns no points: only refusals do.
//
// Behind a reverse proxy every visitor shares the proxy's IP: raise the per-IP caps to the totals
// and set the threshold to 0 (off), or one flooder gets everyone refused.
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface';
import type { RelayNode } from './node.js';
import { ipOf } from './gater.js';

export type AbuseKind = 'connection' | 'reservation' | 'gossip' | 'ban';

export interface IpAbuseLimits {
  /** Points from which an IP is abusive; 0 turns scoring off (refusals by the limits stay). */
  threshold: number;
  /** Points halve after this long, ms. */
  halfLifeMs: number;
  /** New inbound connections per second accepted from one IP (token bucket). */
  connectionsPerSecond: number;
  /** Connections one IP may open at once before the rate applies. */
  connectionBurst: number;
  /** IPs tracked; the least recently seen is forgotten first. */
  maxIps: number;
}

/**
 * Points one refusal of each kind adds to its IP. Gossip over the per-peer rate adds none: an
 * honest browser that forwards others' entries first is charged for them, so under load honest
 * peers earn strikes too; strikes already lower that one peer's gossip score (relay/gossip-guard.ts).
 */
export const ABUSE_POINTS: Record<AbuseKind, number> = { connection: 1, reservation: 1, gossip: 0, ban: 5 };

interface IpState {
  points: number;
  tokens: number;
  /** ms timestamp of the last decay and refill. */
  at: number;
}

/** What the abuse gater reads from the running node. */
export interface AbuseView {
  /** IPs the peer is connected from. */
  ipsOf(peer: PeerId): string[];
}

export class IpAbuse {
  private readonly ips = new Map<string, IpState>();
  /** Refusals scored, per kind, since start. */
  readonly events: Record<AbuseKind, number> = { connection: 0, reservation: 0, gossip: 0, ban: 0 };
  /** Connections and reservations refused because their IP was abusive, since start. */
  refusedAbusive = 0;
  /** Called when an IP becomes abusive (e.g. to revoke its reservations). */
  onAbusive: (ip: string) => void = () => undefined;

  constructor(
    readonly limits: IpAbuseLimits,
    private readonly now: () => number = Date.now
  ) {}

  private state(ip: string): IpState {
    const t = this.now();
    let s = this.ips.get(ip);
    if (s === undefined) {
      if (this.ips.size >= this.limits.maxIps) this.ips.delete(this.ips.keys().next().value!);
      s = { points: 0, tokens: this.limits.connectionBurst, at: t };
    } else {
      this.ips.delete(ip);
      const dt = Math.max(0, t - s.at);
      s.points *= 0.5 ** (dt / this.limits.halfLifeMs);
      s.tokens = Math.min(this.limits.connectionBurst, s.tokens + (dt * this.limits.connectionsPerSecond) / 1000);
      s.at = t;
    }
    this.ips.set(ip, s);
    return s;
  }

  /** A refusal of `kind` from `ip`: adds its points. */
  record(ip: string, kind: AbuseKind): void {
    this.events[kind]++;
    if (this.limits.threshold <= 0) return;
    const s = this.state(ip);
    const was = s.points >= this.limits.threshold;
    s.points += ABUSE_POINTS[kind];
    if (!was && s.points >= this.limits.threshold) this.onAbusive(ip);
  }

  /** Current (decayed) points of `ip`. */
  points(ip: string): number {
    return this.ips.has(ip) ? this.state(ip).points : 0;
  }

  isAbusive(ip: string): boolean {
    return this.limits.threshold > 0 && this.points(ip) >= this.limits.threshold;
  }

  /** Takes a connection token for `ip`; false (and a point) when over the rate. */
  admitConnection(ip: string): boolean {
    const s = this.state(ip);
    if (s.tokens >= 1) {
      s.tokens -= 1;
      return true;
    }
    this.record(ip, 'connection');
    return false;
  }

  /** IPs abusive now. */
  abusiveIps(): string[] {
    return [...this.ips.keys()].filter((ip) => this.isAbusive(ip));
  }

  /** IPs tracked now. */
  get size(): number {
    return this.ips.size;
  }
}

/**
 * Gater hooks: a connection from an abusive IP, or over the per-IP connection rate, is refused
 * before its handshake; a reservation from a peer connected from an abusive IP is refused. Each
 * such refusal scores its IP again, so a host that keeps flooding stays abusive. `onRefuse` is
 * told of each refusal (e.g. to log it, relay/refusal-log.ts).
 */
export function abuseGater(
  abuse: IpAbuse,
  view: () => AbuseView | undefined,
  onRefuse: (ip: string, reason: 'abusive-ip' | 'connection-rate' | 'abusive-reservation') => void = () => undefined
): ConnectionGater {
  return {
    denyInboundConnection(maConn: MultiaddrConnection): boolean {
      const ip = ipOf(maConn.remoteAddr);
      if (ip === undefined) return false;
      if (abuse.isAbusive(ip)) {
        abuse.refusedAbusive++;
        abuse.record(ip, 'connection');
        onRefuse(ip, 'abusive-ip');
        return true;
      }
      if (abuse.admitConnection(ip)) return false;
      onRefuse(ip, 'connection-rate');
      return true;
    },
    denyInboundRelayReservation(peer: PeerId): boolean {
      const ips = view()?.ipsOf(peer) ?? [];
      const bad = ips.filter((ip) => abuse.isAbusive(ip));
      if (bad.length === 0) return false;
      abuse.refusedAbusive++;
      for (const ip of bad) {
        abuse.record(ip, 'reservation');
        onRefuse(ip, 'abusive-reservation');
      }
      return true;
    }
  };
}

/** The abuse score bound to the running node: peer lookups and reservation revocation. */
export interface BoundAbuse extends AbuseView {
  /** Whether `peer` (id string) is connected from an abusive IP. */
  isAbusivePeer(peer: string): boolean;
  /** A refusal of `kind` for `peer`: scores each IP it is connected from. */
  recordPeer(peer: string, kind: AbuseKind): void;
  /** Connected peers from abusive IPs now. */
  abusivePeers(): number;
}

/** Binds `abuse` to `node`: when an IP turns abusive, its reservations are revoked. */
export function bindAbuse(abuse: IpAbuse, node: RelayNode): BoundAbuse {
  const ipsOfPeer = (peer: string): string[] => {
    const out = new Set<string>();
    for (const c of node.getConnections()) {
      if (c.remotePeer.toString() !== peer) continue;
      const ip = ipOf(c.remoteAddr);
      if (ip !== undefined) out.add(ip);
    }
    return [...out];
  };
  abuse.onAbusive = (ip) => {
    const reservations = node.services.relay.reservations;
    for (const [peer, r] of [...reservations.entries()]) {
      if (ipOf(r.addr) !== ip) continue;
      reservations.delete(peer);
      // Ends circuits tied to the reservation, as when its peer disconnects (relay/reservations.ts).
      r.signal.reset(0);
    }
  };
  const bound: BoundAbuse = {
    ipsOf: (peer) => ipsOfPeer(peer.toString()),
    isAbusivePeer: (peer) => abuse.limits.threshold > 0 && ipsOfPeer(peer).some((ip) => abuse.isAbusive(ip)),
    recordPeer: (peer, kind) => {
      for (const ip of ipsOfPeer(peer)) abuse.record(ip, kind);
    },
    abusivePeers: () => {
      const bad = new Set<string>();
      for (const c of node.getConnections()) {
        const ip = ipOf(c.remoteAddr);
        if (ip !== undefined && abuse.isAbusive(ip)) bad.add(c.remotePeer.toString());
      }
      return bad.size;
    }
  };
  return bound;
}
