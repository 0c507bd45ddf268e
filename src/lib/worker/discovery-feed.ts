// Every accepted discovery announcement as a PeerInfo. libp2p raises `peer:discovery` only the
// first time a peer enters its peer store, so a dialer fed by that event alone never hears of a
// peer again: a failed dial is never retried and a dropped direct link is never re-dialed. The
// announcements themselves repeat (every DISCOVERY_INTERVAL_MS) for as long as their peer is up;
// this feed hands each one on. Only messages gossipsub accepted reach it: the discovery topic's
// validator (PeerGuard.guardDiscovery) has already bound the announced key to the signer.
import type { PeerInfo } from '@libp2p/interface';
import type { Message } from '@libp2p/gossipsub';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { decodeAnnouncement } from '../core/peers/announcement.js';

/** The part of gossipsub the feed listens to. */
export interface AnnouncementSource {
  addEventListener(type: 'message', fn: (ev: CustomEvent<Message>) => void): void;
  removeEventListener(type: 'message', fn: (ev: CustomEvent<Message>) => void): void;
}

/** Multiaddrs of an announcement; undecodable addresses are skipped. */
function addrsOf(raw: Uint8Array[]): Multiaddr[] {
  const out: Multiaddr[] = [];
  for (const bytes of raw) {
    try {
      out.push(multiaddr(bytes));
    } catch {
      /* not a multiaddr: skipped */
    }
  }
  return out;
}

/**
 * Calls `onPeer` with the signer and addresses of every signed announcement on `topic`.
 * Malformed announcements are ignored (the validator already scored them). Returns the unsubscriber.
 */
export function onAnnouncements(
  pubsub: AnnouncementSource,
  topic: string,
  onPeer: (info: PeerInfo) => void
): () => void {
  const listener = (ev: CustomEvent<Message>): void => {
    const msg = ev.detail;
    if (msg.topic !== topic || msg.type !== 'signed') return;
    let addrs: Multiaddr[];
    try {
      addrs = addrsOf(decodeAnnouncement(msg.data).addrs);
    } catch {
      return;
    }
    onPeer({ id: msg.from, multiaddrs: addrs });
  };
  pubsub.addEventListener('message', listener);
  return () => pubsub.removeEventListener('message', listener);
}
