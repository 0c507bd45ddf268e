// Counting join votes: one vote per author key, never per connection (PROTOCOL.md §13.5).
import type { JoinClaim } from './messages.js';
import { JOIN_QUORUM_DEN, JOIN_QUORUM_NUM } from './constants.js';

/** A verified vote: `peer` (connection) answered with `voter`'s signed claim. */
export interface Vote {
  peer: string;
  voter: string;
  claim: JoinClaim;
  /** Bytes of the snapshot the peer serves. */
  size: number;
}

export interface ClaimGroup {
  claim: JoinClaim;
  /** Distinct voter keys agreeing on the claim. */
  voters: number;
  /** Peers serving it, in the order they were asked (best first). */
  peers: string[];
}

export interface Tally {
  /** Peers asked (answered or not): the denominator. */
  asked: number;
  /** Distinct voters needed: ceil(asked × 2/3). */
  needed: number;
  /** The claim with the most distinct voters (ties: the one served by the best-ranked peer). */
  best: ClaimGroup | null;
  /** best.voters >= needed. */
  quorum: boolean;
}

/** Key of a claim: two votes agree when root, digest and entry count are equal. */
export const claimKey = (c: JoinClaim): string => `${c.headsRoot}:${c.stateDigest}:${c.entries}`;

/** Needed agreeing voters among `asked` peers. */
export function quorumOf(asked: number): number {
  return Math.ceil((asked * JOIN_QUORUM_NUM) / JOIN_QUORUM_DEN);
}

/**
 * Tallies `votes` (in ask order, best peer first) out of `asked` peers. A key voting through
 * several connections counts once; a key that voted for two different claims counts for none.
 */
export function tally(asked: number, votes: readonly Vote[]): Tally {
  const claimOf = new Map<string, string | null>();
  for (const v of votes) {
    const k = claimKey(v.claim);
    const prior = claimOf.get(v.voter);
    claimOf.set(v.voter, prior === undefined || prior === k ? k : null);
  }
  const groups = new Map<string, ClaimGroup & { keys: Set<string> }>();
  for (const v of votes) {
    const k = claimKey(v.claim);
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = { claim: v.claim, voters: 0, peers: [], keys: new Set() }));
    g.peers.push(v.peer);
    if (claimOf.get(v.voter) === k) g.keys.add(v.voter);
    g.voters = g.keys.size;
  }
  let best: ClaimGroup | null = null;
  for (const g of groups.values()) if (best === null || g.voters > best.voters) best = g;
  const needed = quorumOf(asked);
  const out = best && { claim: best.claim, voters: best.voters, peers: best.peers };
  return { asked, needed, best: out, quorum: out !== null && out.voters > 0 && out.voters >= needed };
}
