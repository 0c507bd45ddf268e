// The relay's bans: the same PeerBook as the browsers (src/lib/core/peers). A peer whose gossip
// fails the relay's checks with a ban offence (bad signature, wrong network, oversized or
// malformed entry, forged discovery announcement) is hung up on, and the gater refuses its
// connections until the ban ends; repeat offenders wait longer (1, 2, 4 ... minutes, at most
// 1 h). Only the signed originator of a message is ever blamed (platform/gossip-origin.ts).
import type { ConnectionGater, Libp2p } from '@libp2p/interface';
import { PeerBook, type BanInfo } from '../src/lib/core/peers/score.js';
import { banGater, banOffender, closeBannedOnOpen, type BanGateCounters } from '../src/lib/platform/ban-gater.js';
import { BanPersister, type BanStore } from '../src/lib/core/peers/ban-persist.js';

export class RelayBans {
  readonly book: PeerBook;
  /** Connections refused because the peer was banned. */
  readonly gate: BanGateCounters = { refused: 0 };
  private node: Libp2p | undefined;
  private persister: BanPersister | undefined;

  /** `isProtected`: peers never banned (e.g. other relays of the mesh). */
  constructor(now: () => number = Date.now, isProtected?: (peer: string) => boolean) {
    this.book = new PeerBook({ now, isProtected });
  }

  gater(): ConnectionGater {
    return banGater((p) => this.book.isBanned(p), this.gate);
  }

  /** Once the node exists: connections to banned peers are closed as they open. */
  bind(node: Libp2p): void {
    this.node = node;
    closeBannedOnOpen(node, (p) => this.book.isBanned(p));
  }

  isBanned(peer: string): boolean {
    return this.book.isBanned(peer);
  }

  /** `peer` sent data failing with `code`: banned and disconnected for a ban offence. */
  offence(peer: string, code: string | undefined): BanInfo | null {
    return banOffender(this.book, this.node, peer, code);
  }

  /**
   * Keeps the bans across restarts in `store` (relay/ban-file.ts): loads the saved ones (those
   * that expired while the relay was down are not in force) and saves new ones. Call before the
   * node starts. Resolves to the bans in force.
   */
  persist(store: BanStore): Promise<number> {
    this.persister = new BanPersister(this.book, store);
    return this.persister.restore();
  }

  /** Saves pending bans now and stops saving. */
  async close(): Promise<void> {
    await this.persister?.close();
  }

  /** Bans imposed since start. */
  get total(): number {
    return this.book.bansTotal;
  }

  /** Bans in force now. */
  active(): BanInfo[] {
    return this.book.bans(Infinity);
  }
}
