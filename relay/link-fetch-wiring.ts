// A plain relay's LinkFetcher (relay/link-fetch.ts) over its libp2p node: the peers asked for a
// missing predecessor are the mesh relays that serve sync (an archive relay: a full replica), then
// the peer that sent the entry if it serves sync (a browser holds the feeds it gossips). A peer
// that is not a mesh relay has one fetch in flight at most (LINK_FETCH_MAX_PER_SENDER), so a
// hostile sender that answers slowly holds one of the relay's few fetch slots, not all of them.
import { shortNetworkId } from '../src/lib/core/topics.js';
import { SYNC_PROTOCOL_ID } from '../src/lib/core/sync/constants.js';
import type { Genesis } from '../src/lib/core/types.js';
import { LinkFetcher } from './link-fetch.js';
import { SyncFetchClient } from './sync-fetch.js';
import type { RelayNode } from './node.js';

/** Fetches in flight at once from one peer that is not a mesh relay. */
export const LINK_FETCH_MAX_PER_SENDER = 1;

export interface PlainRelayLinkFetch {
  fetcher: LinkFetcher;
  /** Closes the fetch streams (at relay stop). */
  close(): void;
}

/**
 * `box.node` is set once the node exists (the validator that uses the fetcher is created before
 * it); until then no peer is asked. `meshIds`: the `--peer` relays' ids, asked first.
 */
export function plainRelayLinkFetch(
  box: { node?: RelayNode },
  networkId: Uint8Array,
  genesis: Genesis,
  networkIdHex: string,
  meshIds: () => Iterable<string>
): PlainRelayLinkFetch {
  let client: SyncFetchClient | undefined;
  const clientOf = (): SyncFetchClient | undefined => {
    if (client === undefined && box.node !== undefined)
      client = new SyncFetchClient({
        node: box.node,
        protocol: SYNC_PROTOCOL_ID(shortNetworkId(networkIdHex)),
        networkId,
        maxEntryBytes: genesis.maxEntryBytes
      });
    return client;
  };
  /** Fetches in flight per peer that is not a mesh relay. */
  const senders = new Map<string, number>();
  const fetcher = new LinkFetcher({
    networkId,
    genesis,
    async peers(via) {
      const c = clientOf();
      if (c === undefined) return [];
      const mesh = [...meshIds()];
      const sender = via !== undefined && !mesh.includes(via) && (senders.get(via) ?? 0) < LINK_FETCH_MAX_PER_SENDER;
      const candidates = sender ? [...mesh, via] : mesh;
      const serving = await Promise.all(candidates.map((p) => c.serves(p)));
      return candidates.filter((_, i) => serving[i]);
    },
    async fetch(peer, author, seq, signal) {
      const c = clientOf();
      if (c === undefined) return [];
      const mesh = [...meshIds()].includes(peer);
      const busy = senders.get(peer) ?? 0;
      if (!mesh && busy >= LINK_FETCH_MAX_PER_SENDER) return [];
      if (!mesh) senders.set(peer, busy + 1);
      try {
        return await c.get(peer, author, seq, signal);
      } finally {
        if (!mesh) {
          const n = (senders.get(peer) ?? 1) - 1;
          if (n <= 0) senders.delete(peer);
          else senders.set(peer, n);
        }
      }
    }
  });
  return { fetcher, close: () => client?.close() };
}
