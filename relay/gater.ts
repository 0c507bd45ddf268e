// Per-IP admission: libp2p connections and circuit relay reservations from one address are capped,
// so one host cannot take every slot however many peer ids it makes up.
import type { Connection, ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { RelayReservation } from '@libp2p/circuit-relay-v2';

/** The IPv4/IPv6 address in a multiaddr, or undefined (e.g. a memory or circuit address). */
export function ipOf(ma: Multiaddr): string | undefined {
  return ma.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value;
}

/** What the gater reads from the running node (bound after the node exists). */
export interface GaterView {
  connections(): Connection[];
  connectionsTo(peer: PeerId): Connection[];
  reservations(): Iterable<[PeerId, RelayReservation]>;
}

export interface GaterLimits {
  maxConnectionsPerIp: number;
  maxReservationsPerIp: number;
}

/** Counts of refusals, for /metrics. */
export interface GaterCounters {
  connectionsRefused: number;
  reservationsRefused: number;
}

export interface RelayGater {
  gater: ConnectionGater;
  counters: GaterCounters;
  /** Called once the node exists; until then nothing is refused. */
  bind(view: GaterView): void;
}

/** `onRefuse(ip, kind)`: told of every refusal, e.g. to score the IP (relay/ip-abuse.ts). */
export function createRelayGater(
  limits: GaterLimits,
  onRefuse: (ip: string, kind: 'connection' | 'reservation') => void = () => undefined
): RelayGater {
  let view: GaterView | undefined;
  const counters: GaterCounters = { connectionsRefused: 0, reservationsRefused: 0 };

  function denyInboundConnection(maConn: MultiaddrConnection): boolean {
    const ip = ipOf(maConn.remoteAddr);
    if (view === undefined || ip === undefined) return false;
    const open = view.connections().filter((c) => ipOf(c.remoteAddr) === ip).length;
    if (open < limits.maxConnectionsPerIp) return false;
    counters.connectionsRefused++;
    onRefuse(ip, 'connection');
    return true;
  }

  function denyInboundRelayReservation(peer: PeerId): boolean {
    if (view === undefined) return false;
    const ips = new Set(view.connectionsTo(peer).map((c) => ipOf(c.remoteAddr)));
    let held = 0;
    for (const [holder, r] of view.reservations()) {
      // A refresh of the peer's own reservation never counts against it.
      if (!holder.equals(peer) && ips.has(ipOf(r.addr))) held++;
    }
    if (held < limits.maxReservationsPerIp) return false;
    counters.reservationsRefused++;
    for (const ip of ips) if (ip !== undefined) onRefuse(ip, 'reservation');
    return true;
  }

  return {
    gater: { denyInboundConnection, denyInboundRelayReservation },
    counters,
    bind(v) {
      view = v;
    }
  };
}
