// gossipsub's fast message id: lets a node drop a copy of a message it has already validated
// before checking its signature again. Without one, gossipsub (StrictSign) verifies the
// signature of every copy it receives and only then finds it in its seen cache; in S10 a
// simulated node spent up to 47% of its busiest 10 s in that check, most of it on duplicates
// (each message reaches a node from its author, the relay and other peers).
//
// The id is the message's `from` and `seqno`, the pair StrictSign's message id is made of
// (gossipsub utils/msgIdFn.js). gossipsub records a fast id only after that message passed
// validation, signature included, so a forged first copy is never remembered; a later copy
// naming a validated (from, seqno) with other bytes is dropped as a duplicate (not delivered,
// not forwarded), where it used to be rejected.
import type { GossipsubOpts } from '@libp2p/gossipsub';
import { toHex } from '../core/bytes.js';

type RpcMessage = Parameters<GossipsubOpts['fastMsgIdFn']>[0];

/** `from` and `seqno` in hex, joined; '' when either is missing (such a message fails StrictSign). */
export function fastMsgId(msg: RpcMessage): string {
  if (msg.from == null || msg.seqno == null) return '';
  return `${toHex(msg.from)}/${toHex(msg.seqno)}`;
}
