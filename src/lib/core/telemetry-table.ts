// The latest verified beacon of every node heard from, bounded and expiring. Used by the relay
// (/api/network) and by every browser node (the dashboard's Network table). Pure.
import { peerIdOfAuthor } from './peer-id.js';
import type { Beacon, BeaconBody } from './telemetry.js';

/** Nodes tracked at most; the least recently heard one is dropped for a new one. */
export const BEACON_TABLE_MAX_NODES = 1024;
/** A node not heard from for this long is dropped, ms (beacons come every ~5 s). */
export const BEACON_TABLE_EXPIRY_MS = 60_000;

/** One node as a beacon table lists it. */
export interface NetworkNode extends BeaconBody {
  /** libp2p PeerId derived from `author`. */
  peerId: string;
  /** When this table last accepted a beacon of the node (receiver's clock), ms since the epoch. */
  lastSeen: number;
}

export interface BeaconTableOptions {
  maxNodes?: number;
  expiryMs?: number;
  now?: () => number;
}

export class BeaconTable {
  /** By author; Map order = least recently heard first. */
  private readonly nodes = new Map<string, NetworkNode>();
  private readonly maxNodes: number;
  private readonly expiryMs: number;
  private readonly now: () => number;

  constructor(opts: BeaconTableOptions = {}) {
    this.maxNodes = opts.maxNodes ?? BEACON_TABLE_MAX_NODES;
    this.expiryMs = opts.expiryMs ?? BEACON_TABLE_EXPIRY_MS;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Records a verified beacon. Returns false (and keeps the old one) when the table already holds
   * a beacon of the author with the same or a later `time`: replays and reordering do not win.
   */
  add(b: Beacon): boolean {
    const old = this.nodes.get(b.author);
    if (old !== undefined && old.time >= b.time) return false;
    this.nodes.delete(b.author);
    if (this.nodes.size >= this.maxNodes) this.nodes.delete(this.nodes.keys().next().value!);
    const { v: _v, network: _n, sig: _s, ...body } = b;
    this.nodes.set(b.author, { ...body, peerId: old?.peerId ?? peerIdOfAuthor(b.author), lastSeen: this.now() });
    return true;
  }

  /** Drops nodes not heard from within the expiry. */
  prune(): void {
    const cutoff = this.now() - this.expiryMs;
    for (const [author, n] of this.nodes) if (n.lastSeen < cutoff) this.nodes.delete(author);
  }

  /** Live nodes (expired ones pruned first), sorted by PeerId. Copies. */
  list(): NetworkNode[] {
    this.prune();
    return [...this.nodes.values()].map((n) => ({ ...n })).sort((a, b) => (a.peerId < b.peerId ? -1 : 1));
  }

  get size(): number {
    this.prune();
    return this.nodes.size;
  }
}
