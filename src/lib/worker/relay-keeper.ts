// Binds the relay list (relay-list.ts) to libp2p: keeps connections to up to `maxActive` of the
// relays the site named, moves to the others when one drops, and redials with backoff and jitter.
// Browser-to-browser WebRTC connections do not depend on it once they are up.
import type { Libp2p, PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { RelayStatus } from './messages.js';
import { groupRelays, RELAY_POOL_DEFAULTS, RelayPool, type RelayPoolOptions } from './relay-list.js';

export class RelayKeeper {
  /** Peer ids of every relay the site named. */
  readonly ids: Set<string>;
  readonly #pool: RelayPool;
  readonly #onConnect = (ev: CustomEvent<PeerId>): void => {
    const id = ev.detail.toString();
    if (this.ids.has(id)) this.#pool.onConnect(id);
  };
  readonly #onDisconnect = (ev: CustomEvent<PeerId>): void => {
    const id = ev.detail.toString();
    if (this.ids.has(id)) this.#pool.onDisconnect(id);
  };

  constructor(
    private readonly node: Libp2p,
    relays: string[],
    opts: Partial<RelayPoolOptions> = {}
  ) {
    const entries = groupRelays(relays);
    this.ids = new Set(entries.map((e) => e.id));
    this.#pool = new RelayPool(
      entries,
      {
        dial: async (relay, signal) => {
          await this.node.dial(
            relay.addrs.map((a) => multiaddr(a)),
            { signal }
          );
        },
        connected: (id) => this.connected(id),
        hangUp: (id) => {
          for (const c of this.node.getConnections()) {
            if (c.remotePeer.toString() === id) void c.close().catch(() => undefined);
          }
        }
      },
      { ...RELAY_POOL_DEFAULTS, ...opts }
    );
  }

  start(): void {
    this.node.addEventListener('peer:connect', this.#onConnect);
    this.node.addEventListener('peer:disconnect', this.#onDisconnect);
    this.#pool.start();
  }

  stop(): void {
    this.node.removeEventListener('peer:connect', this.#onConnect);
    this.node.removeEventListener('peer:disconnect', this.#onDisconnect);
    this.#pool.stop();
  }

  connected(id: string): boolean {
    return this.node.getConnections().some((c) => c.remotePeer.toString() === id && c.status === 'open');
  }

  /** Every relay in preference order; `reserved` when one of our addresses is a circuit through it. */
  list(): RelayStatus[] {
    const own = this.node.getMultiaddrs().map((ma) => ma.toString());
    return this.#pool.list().map((r) => ({
      addr: r.addr,
      connected: r.connected,
      reserved: own.some((a) => a.includes(`/p2p/${r.id}/p2p-circuit`))
    }));
  }
}
