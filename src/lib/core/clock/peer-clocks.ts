// The clock filters of all peers of a node (pure): samples in, per-peer and node offsets out.
import { CLOCK_MAX_PEERS } from './constants.js';
import {
  ClockFilter,
  combineOffsets,
  type ClockFilterOptions,
  type ClockSample,
  type NodeClockEstimate,
  type PeerClockEstimate
} from './offset.js';

export class PeerClocks {
  private readonly filters = new Map<string, ClockFilter>();

  constructor(
    private readonly options: ClockFilterOptions = {},
    private readonly maxPeers = CLOCK_MAX_PEERS
  ) {}

  /** Adds a sample of `peer`'s clock. */
  add(peer: string, sample: ClockSample): void {
    let f = this.filters.get(peer);
    if (f === undefined) {
      f = new ClockFilter(this.options);
      this.filters.set(peer, f);
      if (this.filters.size > this.maxPeers) this.filters.delete(this.filters.keys().next().value as string);
    }
    f.add(sample);
  }

  /** Drops a peer (disconnected): it no longer counts in the node's offset. */
  forget(peer: string): void {
    this.filters.delete(peer);
  }

  /** Drops every peer's samples (our clock was stepped: they measured the clock it left). */
  clear(): void {
    this.filters.clear();
  }

  /** Peer clock − our clock at our clock `now`, ms; null when not measured (recently). */
  peer(peer: string, now: number): PeerClockEstimate | null {
    return this.filters.get(peer)?.estimate(now) ?? null;
  }

  /** Median over every peer with an estimate; null when none has one. */
  node(now: number): NodeClockEstimate | null {
    const all: PeerClockEstimate[] = [];
    for (const f of this.filters.values()) {
      const e = f.estimate(now);
      if (e !== null) all.push(e);
    }
    return combineOffsets(all);
  }

  /** Samples held for `peer` (0 when unknown). */
  samples(peer: string): number {
    return this.filters.get(peer)?.count ?? 0;
  }

  /** Peers with a filter. */
  get size(): number {
    return this.filters.size;
  }
}
