// Typed errors of the verified join. Match by `name` or `code` (the code also travels in `error`
// messages on the wire, PROTOCOL.md §13.6).
import { LedgerError } from '../errors.js';

/** A join message that is not a canonical encoding (truncated, bad tag, count over its bound...). */
export class JoinMalformedError extends LedgerError {
  constructor(message = 'malformed join message') {
    super('JoinMalformedError', 'join-malformed', message);
  }
}

/** A join message (or a claimed snapshot) larger than the protocol limit, refused before parsing. */
export class JoinOversizedError extends LedgerError {
  constructor(message = 'join message too large') {
    super('JoinOversizedError', 'join-oversized', message);
  }
}

/** The asker is on another network or speaks another protocol version. */
export class JoinWrongNetworkError extends LedgerError {
  constructor(message = 'peer is on another network') {
    super('JoinWrongNetworkError', 'join-wrong-network', message);
  }
}

/** A vote whose signature does not verify, answers another nonce, or is signed by a key other than the peer's. */
export class JoinBadVoteError extends LedgerError {
  constructor(message = 'join vote does not verify') {
    super('JoinBadVoteError', 'join-bad-vote', message);
  }
}

/**
 * A snapshot that does not match the claim it was served under: heads root, state digest or
 * entry count recomputed from the received bytes differ, a head entry fails verification, or
 * the state holds writes its heads do not account for.
 */
export class JoinMismatchError extends LedgerError {
  constructor(message = 'snapshot does not match its claim', options?: { cause?: unknown }) {
    super('JoinMismatchError', 'join-mismatch', message);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** A well-formed message out of place (unasked claim, chunk of another download, bad offset). */
export class JoinProtocolError extends LedgerError {
  constructor(message = 'join protocol violation') {
    super('JoinProtocolError', 'join-protocol', message);
  }
}
