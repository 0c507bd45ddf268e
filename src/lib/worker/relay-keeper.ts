// Keeps a connection to every relay the site named, redialling with exponential backoff.
// Browser-to-browser WebRTC connections do not depend on it once they are up.
import type { Libp2p } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';

export interface RelayKeeperOptions {
  backoffMs: number;
  maxBackoffMs: number;
  dialTimeoutMs: number;
}

export const RELAY_KEEPER_DEFAULTS: RelayKeeperOptions = {
  backoffMs: 500,
  maxBackoffMs: 30_000,
  dialTimeoutMs: 10_000
};

export class RelayKeeper {
  readonly ids: Set<string>;
  readonly #addrs: Map<string, Multiaddr>;
  readonly #attempts = new Map<string, number>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #stopped = false;

  constructor(
    private readonly node: Libp2p,
    relays: string[],
    private readonly opts: RelayKeeperOptions = RELAY_KEEPER_DEFAULTS
  ) {
    this.#addrs = new Map();
    for (const r of relays) {
      const ma = multiaddr(r);
      const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
      if (id !== undefined) this.#addrs.set(id, ma);
    }
    this.ids = new Set(this.#addrs.keys());
  }

  start(): void {
    this.node.addEventListener('peer:disconnect', (ev) => {
      const id = ev.detail.toString();
      if (this.#addrs.has(id)) this.#schedule(id);
    });
    for (const id of this.#addrs.keys()) void this.#dial(id);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  connected(id: string): boolean {
    return this.node.getConnections().some((c) => c.remotePeer.toString() === id && c.status === 'open');
  }

  list(): { addr: string; connected: boolean }[] {
    return [...this.#addrs].map(([id, ma]) => ({ addr: ma.toString(), connected: this.connected(id) }));
  }

  #schedule(id: string): void {
    if (this.#stopped || this.#timers.has(id)) return;
    const n = this.#attempts.get(id) ?? 0;
    const wait = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** n);
    this.#timers.set(
      id,
      setTimeout(() => {
        this.#timers.delete(id);
        void this.#dial(id);
      }, wait)
    );
  }

  async #dial(id: string): Promise<void> {
    const ma = this.#addrs.get(id);
    if (this.#stopped || ma === undefined || this.connected(id)) return;
    try {
      await this.node.dial(ma, { signal: AbortSignal.timeout(this.opts.dialTimeoutMs) });
      this.#attempts.delete(id);
    } catch {
      this.#attempts.set(id, (this.#attempts.get(id) ?? 0) + 1);
      this.#schedule(id);
    }
  }
}
