// Gossipsub peer-score parameters shared by the browser node and the relay (gossipsub 17,
// @libp2p/gossipsub/score). What counts:
// - P4, invalid message deliveries: each Rejected message adds 1 to a counter that decays by
//   INVALID_DECAY every second (half-life ~69 s); the penalty is INVALID_WEIGHT × counter². With
//   -10: one invalid message costs -10 (below the gossip threshold: no more IHAVE gossip to or
//   from it), three cost -90 (below the graylist: all of its RPCs are dropped). Validators
//   Reject only what the signed originator delivered itself (platform/gossip-origin.ts), so P4
//   lands on the originator and never on a relay that carried the junk.
// - P5, application score: -1 per unit the caller reports (bans, rate-limit strikes) × APP_WEIGHT.
//   A banned peer reports BANNED_APP_SCORE, i.e. -1000: graylisted at once and for as long as
//   the ban lasts (it is also disconnected and gated, this only covers the moment in between).
// - Mesh delivery (P2, P3, P3b) and time in mesh (P1) are off: browsers may be quiet for hours,
//   and a quiet peer is not a bad one.
// - IP colocation (P6) is off: browsers behind one NAT (or all on loopback) share an address
//   and gossipsub remembers disconnected peers' scores for an hour; the relay caps per-IP
//   connections itself.
import { createPeerScoreParams, createTopicScoreParams, type PeerScoreThresholds } from '@libp2p/gossipsub/score';
import type { GossipsubOpts } from '@libp2p/gossipsub';

export const INVALID_WEIGHT = -10;
export const INVALID_DECAY = 0.99;
export const APP_WEIGHT = 10;
/** P5 value of a banned peer (× APP_WEIGHT = -1000, far below the graylist). */
export const BANNED_APP_SCORE = -100;

/**
 * Thresholds (score = sum of the weighted terms above): below GOSSIP no gossip (IHAVE/IWANT) is
 * exchanged with the peer; below PUBLISH our own messages are not flood-published to it; below
 * GRAYLIST everything it sends is dropped unread.
 */
export const SCORE_THRESHOLDS: Pick<PeerScoreThresholds, 'gossipThreshold' | 'publishThreshold' | 'graylistThreshold'> =
  {
    gossipThreshold: -10,
    publishThreshold: -50,
    graylistThreshold: -80
  };

/** Score options for `topics`; `appScore(peer)` is P5 before weighting (≤ 0: strikes, bans). */
export function gossipScoring(topics: readonly string[], appScore: (peer: string) => number): Partial<GossipsubOpts> {
  const topicParams = createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0,
    firstMessageDeliveriesWeight: 0,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: INVALID_WEIGHT,
    invalidMessageDeliveriesDecay: INVALID_DECAY
  });
  return {
    scoreParams: createPeerScoreParams({
      topics: Object.fromEntries(topics.map((t) => [t, topicParams])),
      appSpecificScore: appScore,
      appSpecificWeight: APP_WEIGHT,
      IPColocationFactorWeight: 0
    }),
    scoreThresholds: { ...SCORE_THRESHOLDS }
  };
}
