// Blame the originator, never the carrier. gossipsub counts a Rejected message (P4, invalid
// message deliveries) against the peer that delivered it to us, its `propagationSource`, which
// for most browsers is the relay that forwarded it. An honest relay must never pay for junk it
// carried, so a validator wrapped here only Rejects a message when its signed originator (`from`)
// delivered it itself; junk that came through anyone else is Ignored (not delivered, not
// forwarded, no penalty to the carrier) and reported against its originator instead.
//
// With gossipsub's default StrictSign policy every accepted message is signed, so `from` is the
// peer whose key signed it: nobody can make junk look like someone else's.
import { TopicValidatorResult, type Message, type TopicValidatorFn } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';

/**
 * The signed originator of a gossip message. An unsigned one (gossipsub's StrictSign policy
 * refuses those before any validator runs) has no better witness than the peer that delivered it.
 */
export function originOf(msg: Message, via: string): string {
  return msg.type === 'signed' ? msg.from.toString() : via;
}

/** A validator that also says why it rejected (a core error code), for scoring and bans. */
export type ExplainedValidator = (
  propagationSource: PeerId,
  msg: Message
) => Promise<{ verdict: TopicValidatorResult; code?: string }>;

export interface OriginBlame {
  /**
   * A message failed with `code` (undefined: no specific reason). `origin` is its signed
   * originator (see originOf), `via` the peer that delivered it.
   */
  onInvalid?: (origin: string, via: string, code: string | undefined) => void;
  /** An accepted message: its originator's score may go up. */
  onValid?: (origin: string, via: string) => void;
}

/** Wraps `validate` so Rejects land on the originator only (see the module comment). */
export function blameOrigin(validate: ExplainedValidator, blame: OriginBlame = {}): TopicValidatorFn {
  return async (source, msg) => {
    const { verdict, code } = await validate(source, msg);
    const via = source.toString();
    const origin = originOf(msg, via);
    if (verdict === TopicValidatorResult.Accept) blame.onValid?.(origin, via);
    if (verdict !== TopicValidatorResult.Reject) return verdict;
    blame.onInvalid?.(origin, via, code);
    return origin === via ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore;
  };
}

/** `blameOrigin` for a plain validator (no reason given). */
export function blameOriginOf(validate: TopicValidatorFn, blame: OriginBlame = {}): TopicValidatorFn {
  return blameOrigin(async (s, m) => ({ verdict: await validate(s, m) }), blame);
}
