// Partition detection (SPEC §5, issue 7): a partition is fewer than half of the recently known
// peers reachable. Pure: the clock is injected; the engine reports connects and disconnects and
// calls evaluate() on its tick so that peers gone for longer than the window stop counting.
import { PARTITION_MIN_KNOWN, PARTITION_WINDOW_MS } from './constants.js';

export interface PartitionOptions {
  now: () => number;
  /** A peer not seen (connected) for this long is no longer "recently known", ms. */
  windowMs?: number;
  /** Fewer known peers than this never make a partition (a lone peer leaving is churn). */
  minKnown?: number;
}

export interface PartitionStatus {
  /** Transitions into a partition since start. */
  partitionEvents: number;
  partitioned: boolean;
  /** Start of the current partition, ms (null when not partitioned). */
  partitionedSince: number | null;
  /** Recently known peers reachable now / known within the window. */
  reachablePeers: number;
  knownPeers: number;
}

/** What a connect, disconnect or evaluate() changed. */
export type PartitionChange = 'entered' | 'healed' | null;

export class PartitionMonitor {
  /** Peer → last time it was seen connected, ms (connected peers: refreshed on evaluation). */
  private readonly lastSeen = new Map<string, number>();
  private readonly connectedNow = new Set<string>();
  private events = 0;
  private since: number | null = null;

  constructor(private readonly opts: PartitionOptions) {}

  /** A peer became reachable (its hello was accepted). */
  connected(peer: string): PartitionChange {
    this.connectedNow.add(peer);
    this.lastSeen.set(peer, this.opts.now());
    return this.evaluate();
  }

  /** A peer is no longer reachable (connection closed or peer refused). */
  disconnected(peer: string): PartitionChange {
    if (!this.connectedNow.delete(peer)) return null;
    this.lastSeen.set(peer, this.opts.now());
    return this.evaluate();
  }

  /** Forgets a peer entirely (refused for another network: it was never one of ours). */
  forget(peer: string): PartitionChange {
    this.connectedNow.delete(peer);
    if (!this.lastSeen.delete(peer)) return null;
    return this.evaluate();
  }

  /** Ages out peers unseen for the window and re-evaluates; returns the transition, if any. */
  evaluate(): PartitionChange {
    const now = this.opts.now();
    const window = this.opts.windowMs ?? PARTITION_WINDOW_MS;
    for (const [peer, at] of this.lastSeen) {
      if (this.connectedNow.has(peer)) this.lastSeen.set(peer, now);
      else if (now - at > window) this.lastSeen.delete(peer);
    }
    const known = this.lastSeen.size;
    const cut = known >= (this.opts.minKnown ?? PARTITION_MIN_KNOWN) && this.connectedNow.size * 2 < known;
    if (cut && this.since === null) {
      this.since = now;
      this.events++;
      return 'entered';
    }
    if (!cut && this.since !== null) {
      this.since = null;
      return 'healed';
    }
    return null;
  }

  status(): PartitionStatus {
    return {
      partitionEvents: this.events,
      partitioned: this.since !== null,
      partitionedSince: this.since,
      reachablePeers: this.connectedNow.size,
      knownPeers: this.lastSeen.size
    };
  }
}
