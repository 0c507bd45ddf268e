// The relay mesh: relays started with `--peer <multiaddr>` keep a connection to each other
// (redialled with exponential backoff and jitter), are gossipsub direct peers (explicit peering:
// every message on a shared topic is forwarded to them, whatever the mesh does, and they are never
// pruned or graylisted), and are exempt from the per-peer publish rate limit, since one relay
// forwards the traffic of all its browsers. Entries, telemetry beacons and discovery
// announcements thus cross the mesh, and `/api/network` on any relay shows the whole network.
import type { IdentifyResult, Libp2p, PeerId, PeerStore } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { Circuit, WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher';
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub';
import { backoffDelay, type BackoffOptions } from '../src/lib/core/backoff.js';
import './ws-global.js';

/** Redial timing of mesh peers. */
export interface MeshOptions extends BackoffOptions {
  /** One dial attempt, ms. */
  dialTimeoutMs: number;
  /** Peer store tag value that keeps mesh connections from being pruned. */
  tagValue: number;
}

export const MESH_DEFAULTS: MeshOptions = {
  baseMs: 500,
  maxMs: 15_000,
  dialTimeoutMs: 10_000,
  tagValue: 100
};

/** Peer store tag on mesh peers (the connection manager prunes low-valued peers first). */
export const MESH_TAG = 'tabula-relay-mesh';

export class MeshConfigError extends Error {
  override name = 'MeshConfigError';
}

/** One relay of the mesh: its peer id and the addresses given for it. */
export interface MeshPeer {
  id: PeerId;
  addrs: Multiaddr[];
}

/**
 * Groups `--peer` multiaddrs by peer id. Throws MeshConfigError for an address without a
 * `/p2p/<id>` or with the relay's own id.
 */
export function parseMeshPeers(addrs: string[], self?: PeerId): MeshPeer[] {
  const byId = new Map<string, MeshPeer>();
  for (const raw of addrs) {
    const ma = multiaddr(raw);
    const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
    if (id === undefined) throw new MeshConfigError(`--peer ${raw}: needs /p2p/<peer id>`);
    if (self !== undefined && id === self.toString()) throw new MeshConfigError(`--peer ${raw}: that is this relay`);
    const peer = byId.get(id) ?? { id: peerIdFromString(id), addrs: [] };
    peer.addrs.push(ma);
    byId.set(id, peer);
  }
  return [...byId.values()];
}

/** The part of the libp2p node the mesh uses. */
export type MeshNode = Pick<Libp2p, 'dial' | 'getConnections' | 'addEventListener' | 'removeEventListener'> & {
  peerStore: Pick<PeerStore, 'merge'>;
};

/** A mesh peer as /healthz-style reports show it. */
export interface MeshPeerStatus {
  id: string;
  connected: boolean;
  /** Failed dials since the last success. */
  failures: number;
}

/** Keeps a connection to every mesh peer, redialling with backoff. */
export class RelayMesh {
  readonly ids: Set<string>;
  readonly #peers: Map<string, MeshPeer>;
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #dialing = new Set<string>();
  /** Listen (or announce) addresses each mesh peer sent over identify. */
  readonly #announced = new Map<string, Multiaddr[]>();
  readonly #onIdentify = (ev: CustomEvent<IdentifyResult>): void => {
    const id = ev.detail.peerId.toString();
    if (this.#peers.has(id)) this.#announced.set(id, ev.detail.listenAddrs);
  };
  /** Connected, by our dial or theirs: the backoff starts afresh. */
  readonly #onConnect = (ev: CustomEvent<PeerId>): void => {
    const id = ev.detail.toString();
    if (!this.#peers.has(id)) return;
    this.#failures.delete(id);
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
  };
  readonly #onDisconnect = (ev: CustomEvent<PeerId>): void => {
    const id = ev.detail.toString();
    if (this.#peers.has(id)) this.#schedule(id);
  };
  #stopped = false;

  constructor(
    private readonly node: MeshNode,
    peers: MeshPeer[],
    private readonly opts: MeshOptions = MESH_DEFAULTS,
    private readonly random: () => number = Math.random
  ) {
    this.#peers = new Map(peers.map((p) => [p.id.toString(), p]));
    this.ids = new Set(this.#peers.keys());
  }

  /** Tags the mesh peers (so they are never pruned) and dials them all. */
  async start(): Promise<void> {
    this.node.addEventListener('peer:connect', this.#onConnect);
    this.node.addEventListener('peer:disconnect', this.#onDisconnect);
    this.node.addEventListener('peer:identify', this.#onIdentify);
    for (const p of this.#peers.values()) {
      await this.node.peerStore.merge(p.id, { tags: { [MESH_TAG]: { value: this.opts.tagValue } } });
    }
    for (const id of this.#peers.keys()) void this.#dial(id);
  }

  stop(): void {
    this.#stopped = true;
    this.node.removeEventListener('peer:connect', this.#onConnect);
    this.node.removeEventListener('peer:disconnect', this.#onDisconnect);
    this.node.removeEventListener('peer:identify', this.#onIdentify);
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  connected(id: string): boolean {
    return this.node.getConnections().some((c) => c.remotePeer.toString() === id && c.status === 'open');
  }

  status(): MeshPeerStatus[] {
    return [...this.#peers.keys()].map((id) => ({
      id,
      connected: this.connected(id),
      failures: this.#failures.get(id) ?? 0
    }));
  }

  /**
   * The WebSocket addresses a browser should dial for mesh peer `id`: those the peer itself
   * announced over identify (its `--announce` or listen addresses) when known, otherwise the
   * `--peer` addresses given for it; always ending in /p2p/<id>.
   */
  browserAddrs(id: string): string[] {
    const peer = this.#peers.get(id);
    if (peer === undefined) return [];
    const announced = (this.#announced.get(id) ?? []).filter(isBrowserDialable);
    const chosen = announced.length > 0 ? announced : peer.addrs.filter(isBrowserDialable);
    return chosen.map((ma) => withPeerId(ma, id));
  }

  #schedule(id: string): void {
    if (this.#stopped || this.#timers.has(id) || this.#dialing.has(id)) return;
    const wait = Math.max(backoffDelay(this.#failures.get(id) ?? 0, this.opts, this.random), this.opts.baseMs / 2);
    this.#timers.set(
      id,
      setTimeout(() => {
        this.#timers.delete(id);
        void this.#dial(id);
      }, wait)
    );
  }

  async #dial(id: string): Promise<void> {
    const peer = this.#peers.get(id);
    if (this.#stopped || peer === undefined || this.#dialing.has(id) || this.connected(id)) return;
    this.#dialing.add(id);
    try {
      await this.node.dial(peer.addrs, { signal: AbortSignal.timeout(this.opts.dialTimeoutMs) });
      this.#failures.delete(id);
    } catch {
      this.#failures.set(id, (this.#failures.get(id) ?? 0) + 1);
    } finally {
      this.#dialing.delete(id);
    }
    if (!this.connected(id)) this.#schedule(id);
  }
}

/** ws:// or wss:// and not a circuit address. */
export function isBrowserDialable(ma: Multiaddr): boolean {
  return (WebSockets.matches(ma) || WebSocketsSecure.matches(ma)) && !Circuit.matches(ma);
}

function withPeerId(ma: Multiaddr, id: string): string {
  const s = ma.toString();
  return s.endsWith(`/p2p/${id}`) ? s : `${s}/p2p/${id}`;
}

/**
 * Every relay of the network, for `/api/relays`: this relay's own addresses first, then the
 * `--relays` addresses, then the mesh peers' browser addresses; no duplicates.
 */
export function networkRelayAddrs(own: string[], listed: string[], mesh: RelayMesh | undefined): string[] {
  const out = new Set<string>([...own, ...listed]);
  for (const id of mesh?.ids ?? []) for (const a of mesh!.browserAddrs(id)) out.add(a);
  return [...out];
}

/**
 * Wraps the rate-limit validator so mesh peers are never limited: a relay forwards the messages
 * of every browser it serves. Content checks still run on them.
 */
export function exemptMeshPeers(
  validate: (peer: PeerId, msg: Message) => TopicValidatorResult,
  meshIds: ReadonlySet<string>
): (peer: PeerId, msg: Message) => TopicValidatorResult {
  return (peer, msg) => (meshIds.has(peer.toString()) ? TopicValidatorResult.Accept : validate(peer, msg));
}
