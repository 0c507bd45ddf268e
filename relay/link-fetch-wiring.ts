// A plain relay's LinkFetcher (relay/link-fetch.ts) over its libp2p node: the peers asked for a
// missing predecessor are the mesh relays that serve sync (an archive relay: a full replica), then
// the peer that sent the entry if it serves sync (a browser holds the feeds it gossips).
import { shortNetworkId } from '../src/lib/core/topics.js';
import { SYNC_PROTOCOL_ID } from '../src/lib/core/sync/constants.js';
import type { Genesis } from '../src/lib/core/types.js';
import { LinkFetcher } from './link-fetch.js';
import { SyncFetchClient } from './sync-fetch.js';
import type { RelayNode } from './node.js';

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
  const fetcher = new LinkFetcher({
    networkId,
    genesis,
    async peers(via) {
      const c = clientOf();
      if (c === undefined) return [];
      const candidates = [...new Set([...meshIds(), ...(via === undefined ? [] : [via])])];
      const serving = await Promise.all(candidates.map((p) => c.serves(p)));
      return candidates.filter((_, i) => serving[i]);
    },
    fetch: (peer, author, seq, signal) => {
      const c = clientOf();
      return c === undefined ? Promise.resolve([]) : c.get(peer, author, seq, signal);
    }
  });
  return { fetcher, close: () => client?.close() };
}
