// Frees a circuit relay v2 reservation as soon as its peer has no connection left.
// @libp2p/circuit-relay-v2 4.2.13 keeps a reservation until its TTL (2 h) runs out even after the
// peer left, so with maxReservations slots the next distinct visitor within the TTL was refused.
import type { PeerId } from '@libp2p/interface';
import type { RelayNode } from './node.js';

/**
 * Listens to `peer:disconnect` (emitted once the peer's last connection closed) and removes the
 * peer's reservation. Returns a function that stops listening.
 */
export function freeReservationsOnDisconnect(node: RelayNode): () => void {
  const onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail;
    const reservations = node.services.relay.reservations;
    const reservation = reservations.get(peer);
    if (reservation === undefined) return;
    reservations.delete(peer);
    // Fire the reservation's expiry signal now: it ends any circuit still tied to it. Its own abort
    // listener deletes the peer from the map again, which is a no-op as the peer has no
    // connection left to re-reserve with within one timer tick.
    reservation.signal.reset(0);
  };
  node.addEventListener('peer:disconnect', onDisconnect);
  return () => node.removeEventListener('peer:disconnect', onDisconnect);
}
