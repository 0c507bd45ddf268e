// The node's peer scores and bans, wired to libp2p: one PeerBook (src/lib/core/peers) fed by the
// sync driver (answers useful, empty, late, timed out, invalid) and by the gossip validators
// (invalid messages count against their signed originator, never against the relay that carried
// them). A ban disconnects the peer, and the connection gater (platform/ban-gater.ts) refuses its
// redials and inbound connections until the ban ends. The site's relays are never banned.
import { TopicValidatorResult, type GossipSub, type GossipsubOpts } from '@libp2p/gossipsub';
import type { Libp2p } from '@libp2p/interface';
import { PeerBook, type BanInfo, type PeerOutcome } from '../core/peers/score.js';
import { checkAnnouncement } from '../core/peers/announcement.js';
import { FORGED_ANNOUNCEMENT } from '../core/peers/offences.js';
import { banGater, banOffender, closeBannedOnOpen, type BanGateCounters } from '../platform/ban-gater.js';
import { blameOrigin, type OriginBlame } from '../platform/gossip-origin.js';
import { BANNED_APP_SCORE, gossipScoring } from '../platform/gossip-scoring.js';
import type { ConnectionGater } from '@libp2p/interface';
import { BanPersister, type BanStore } from '../core/peers/ban-persist.js';

/** Peer ids named by relay multiaddrs (their last /p2p/ component). */
export function relayIdsOf(relays: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const r of relays) {
    const m = /\/p2p\/([^/]+)$/.exec(r) ?? /\/p2p\/([^/]+)\/?/.exec(r);
    if (m) ids.add(m[1]);
  }
  return ids;
}

export interface PeerGuardStats {
  /** Bans imposed since start. */
  bansTotal: number;
  /** Connections the gater refused because the peer was banned. */
  refusedConnections: number;
  /** Discovery announcements dropped for naming another peer id than their signer. */
  forgedAnnouncements: number;
}

export class PeerGuard {
  readonly book: PeerBook;
  private readonly gate: BanGateCounters = { refused: 0 };
  private node: Libp2p | undefined;
  private forged = 0;
  private unbind: (() => void) | undefined;
  private persister: BanPersister | undefined;

  /** `isRelay`: the site's relays, never banned (may change at run time). */
  constructor(
    private readonly isRelay: (peer: string) => boolean,
    now: () => number = Date.now
  ) {
    this.book = new PeerBook({ now, isProtected: isRelay });
  }

  /** Gater hooks for the libp2p node (merge with its other gater rules). */
  gater(): ConnectionGater {
    return banGater((p) => this.book.isBanned(p), this.gate);
  }

  /** Gossipsub score options for `topics` (P5: banned peers far below the graylist). */
  gossipOptions(topics: readonly string[]): Partial<GossipsubOpts> {
    return gossipScoring(topics, (p) => (this.book.isBanned(p) ? BANNED_APP_SCORE : 0));
  }

  /** Call once the node exists: connections to banned peers are closed as they open. */
  bind(node: Libp2p): void {
    this.node = node;
    this.unbind = closeBannedOnOpen(node, (p) => this.book.isBanned(p));
  }

  stop(): void {
    this.unbind?.();
  }

  /**
   * Keeps the bans across reloads in `store` (core/peers/ban-persist.ts): loads the saved ones
   * (those that expired meanwhile are not in force) and saves new ones. Call before the node
   * starts, so the gater refuses banned peers from the first dial. Resolves to the bans in force.
   */
  persist(store: BanStore): Promise<number> {
    this.persister = new BanPersister(this.book, store);
    return this.persister.restore();
  }

  /** Saves pending bans now and stops saving (before the store closes). */
  async closeBans(): Promise<void> {
    await this.persister?.close();
  }

  /** One answer of `peer` went this way (sync, gossip). */
  report(peer: string, outcome: PeerOutcome): void {
    this.book.record(peer, outcome);
  }

  setRtt(peer: string, rttMs: number): void {
    this.book.setRtt(peer, rttMs);
  }

  /** `peer` sent data failing with `code`: counted, and banned + disconnected for a ban offence. */
  offence(peer: string, code: string | undefined): BanInfo | null {
    return banOffender(this.book, this.node, peer, code);
  }

  /** Gossip hooks: invalid messages are the originator's offence, accepted ones count as useful. */
  gossipBlame(): OriginBlame {
    return {
      onInvalid: (origin, _via, code) => void this.offence(origin, code),
      onValid: (origin) => this.report(origin, 'useful')
    };
  }

  /**
   * Binds discovery announcements to their sender: a validator on the discovery topic drops an
   * announcement whose key is not the signed originator's (and bans the originator), so nobody
   * can announce addresses for another peer id. Runs before pubsub-peer-discovery sees it.
   */
  guardDiscovery(pubsub: Pick<GossipSub, 'topicValidators'>, topic: string): void {
    pubsub.topicValidators.set(
      topic,
      blameOrigin(
        async (source, msg) => {
          const from = msg.type === 'signed' ? msg.from.toString() : undefined;
          const verdict = checkAnnouncement(msg.data, from);
          if (verdict === 'ok') return { verdict: TopicValidatorResult.Accept };
          if (verdict === 'unsupported-key') return { verdict: TopicValidatorResult.Ignore };
          if (verdict === FORGED_ANNOUNCEMENT) this.forged++;
          return { verdict: TopicValidatorResult.Reject, code: verdict };
          // Announcements repeat every few seconds: only failures count, or every peer would look useful.
        },
        { onInvalid: this.gossipBlame().onInvalid }
      )
    );
  }

  /** Peers best first, banned ones left out. */
  rank(peers: Iterable<string>): string[] {
    return this.book.rank(peers);
  }

  /** Per peer: score (null when never scored), whether and until when it is banned. */
  peerInfo(peer: string): { score: number | null; banned: boolean; bannedUntil: number | null } {
    const info = this.book.info(peer);
    const until = info?.bannedUntil ?? null;
    return {
      score: info === undefined ? null : Math.round(info.score * 1000) / 1000,
      banned: until !== null,
      bannedUntil: until
    };
  }

  bans(): BanInfo[] {
    return this.book.bans();
  }

  stats(): PeerGuardStats {
    return { bansTotal: this.book.bansTotal, refusedConnections: this.gate.refused, forgedAnnouncements: this.forged };
  }
}
