// Who may hold a gossip entry waiting for its predecessor (chain-links.ts), and how many. A run
// whose link check still waits after GOSSIP_LINK_GRACE_MS (for a predecessor never seen, up to
// LINKS_WAIT_MS, or for the verdict on one) is left out of the gossip queue's cap
// (GOSSIP_MAX_QUEUED): each peer gets a bounded share of waits instead, so a hostile direct peer
// can no longer fill the queue with validly signed gap entries or chains behind one, each
// holding a slot for the wait. Over its share, a peer's run is a gap at once (the ledger holds
// it pending and sync fills the gap). Pure: no libp2p.
import {
  GOSSIP_LINK_WAIT_BYTES_PER_PEER,
  GOSSIP_LINK_WAITS,
  GOSSIP_LINK_WAITS_PER_PEER,
  GOSSIP_MAX_QUEUED_BYTES
} from './constants.js';

export interface LinkWaitLimits {
  /** Entries waiting at once from one peer. */
  perPeer: number;
  /** Their message bytes from one peer. */
  perPeerBytes: number;
  /** Entries waiting at once from all peers. */
  total: number;
  /** Their message bytes from all peers. */
  totalBytes: number;
}

export const LINK_WAIT_DEFAULTS: LinkWaitLimits = {
  perPeer: GOSSIP_LINK_WAITS_PER_PEER,
  perPeerBytes: GOSSIP_LINK_WAIT_BYTES_PER_PEER,
  total: GOSSIP_LINK_WAITS,
  totalBytes: GOSSIP_MAX_QUEUED_BYTES
};

export class LinkWaitShares {
  private readonly lim: LinkWaitLimits;
  private readonly byPeer = new Map<string, { entries: number; bytes: number }>();
  /** Entries (and their bytes) waiting now, all peers. */
  entries = 0;
  bytes = 0;
  /** Waits refused because a peer (or all) held its share: those entries were gaps at once. */
  refused = 0;

  constructor(limits: Partial<LinkWaitLimits> = {}) {
    this.lim = { ...LINK_WAIT_DEFAULTS, ...limits };
  }

  /**
   * Takes a wait for `entries` entries of `bytes` from `peer`: true when within its share and the
   * total (give it back with give), false otherwise (counted in `refused`). A run of entries
   * waits as one (its first entry's predecessor), so it is taken whole or not at all.
   */
  take(peer: string, entries: number, bytes: number): boolean {
    const mine = this.byPeer.get(peer) ?? { entries: 0, bytes: 0 };
    const fits =
      mine.entries + entries <= this.lim.perPeer &&
      mine.bytes + bytes <= this.lim.perPeerBytes &&
      this.entries + entries <= this.lim.total &&
      this.bytes + bytes <= this.lim.totalBytes;
    if (!fits) {
      this.refused++;
      return false;
    }
    this.byPeer.set(peer, { entries: mine.entries + entries, bytes: mine.bytes + bytes });
    this.entries += entries;
    this.bytes += bytes;
    return true;
  }

  /** Gives back a wait taken with take. */
  give(peer: string, entries: number, bytes: number): void {
    const mine = this.byPeer.get(peer);
    if (mine === undefined) return;
    mine.entries -= entries;
    mine.bytes -= bytes;
    this.entries -= entries;
    this.bytes -= bytes;
    if (mine.entries <= 0) this.byPeer.delete(peer);
  }

  /** Entries waiting now from `peer`. */
  of(peer: string): number {
    return this.byPeer.get(peer)?.entries ?? 0;
  }
}
