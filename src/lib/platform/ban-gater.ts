// A libp2p connection gater and a disconnect hook driven by a ban list (src/lib/core/peers):
// while a peer is banned we neither dial it nor accept its connections (direct, WebRTC or
// through a relay), and an open connection is closed the moment the ban starts. Used by the
// browser node and the relay; each merges it with its own gater.
import type { ConnectionGater, Libp2p, PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { BanInfo, PeerBook } from '../core/peers/score.js';

/** Answers whether a peer id string is banned now. */
export type IsBanned = (peer: string) => boolean;

/** Counts refusals (for /metrics and status). */
export interface BanGateCounters {
  refused: number;
}

/**
 * Gater hooks refusing banned peers at every point libp2p names a peer: dialling it, and after
 * the handshake of inbound and outbound connections (WebRTC connections skip encryption but still
 * pass these checks), and inbound relayed connections.
 */
export function banGater(isBanned: IsBanned, counters: BanGateCounters = { refused: 0 }): ConnectionGater {
  const deny = (peer: PeerId): boolean => {
    if (!isBanned(peer.toString())) return false;
    counters.refused++;
    return true;
  };
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
    denyInboundRelayedConnection: (_relay, remote) => deny(remote),
    denyOutboundRelayedConnection: (source, destination) => deny(source) || deny(destination)
  };
}

/** Merges gaters: a hook denies when any of the gaters that define it denies. */
export function mergeGaters(...gaters: ConnectionGater[]): ConnectionGater {
  const out: Record<string, (...a: unknown[]) => Promise<boolean>> = {};
  const names = new Set(gaters.flatMap((g) => Object.keys(g)));
  for (const name of names) {
    if (name === 'filterMultiaddrForPeer') continue;
    const hooks = gaters
      .map((g) => (g as Record<string, unknown>)[name])
      .filter((f): f is (...a: unknown[]) => boolean | Promise<boolean> => typeof f === 'function');
    out[name] = async (...args) => {
      for (const h of hooks) if ((await h(...args)) === true) return true;
      return false;
    };
  }
  return out as ConnectionGater;
}

/** Hangs up on `peer` now (all its connections). Errors are ignored: it may already be gone. */
export function disconnect(node: Pick<Libp2p, 'hangUp'>, peer: PeerId): void {
  node.hangUp(peer).catch(() => undefined);
}

/**
 * Records an offence of `peer` (a peer id string) failing with `code` in `book`; a ban offence
 * bans it and hangs up on it. Returns the ban, or null when the offence did not ban.
 */
export function banOffender(
  book: Pick<PeerBook, 'offence'>,
  node: Pick<Libp2p, 'hangUp'> | undefined,
  peer: string,
  code: string | undefined
): BanInfo | null {
  const ban = book.offence(peer, code ?? 'invalid');
  if (ban !== null && node !== undefined) {
    try {
      disconnect(node, peerIdFromString(peer));
    } catch {
      // Not a valid peer id string: nothing to hang up on.
    }
  }
  return ban;
}

/** Closes any connection that opens to a banned peer (a race with the ban, or a path the gater missed). */
export function closeBannedOnOpen(node: Libp2p, isBanned: IsBanned): () => void {
  const onOpen = (ev: CustomEvent<{ remotePeer: PeerId }>): void => {
    if (isBanned(ev.detail.remotePeer.toString())) disconnect(node, ev.detail.remotePeer);
  };
  node.addEventListener('connection:open', onOpen as never);
  return () => node.removeEventListener('connection:open', onOpen as never);
}
