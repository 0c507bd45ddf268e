// Typed errors of the sync protocol. Match by `name` or `code` (the code also travels in
// error messages on the wire).
import { LedgerError } from '../errors.js';

/** A sync message that is not a canonical encoding (truncated, bad tag, count over its bound...). */
export class SyncMalformedError extends LedgerError {
  constructor(message = 'malformed sync message') {
    super('SyncMalformedError', 'sync-malformed', message);
  }
}

/** A sync message larger than the protocol limit (refused before parsing). */
export class SyncOversizedError extends LedgerError {
  constructor(message = 'sync message too large') {
    super('SyncOversizedError', 'sync-oversized', message);
  }
}

/** The peer's hello names another network (genesis) or protocol version. */
export class SyncWrongNetworkError extends LedgerError {
  constructor(message = 'peer is on another network') {
    super('SyncWrongNetworkError', 'sync-wrong-network', message);
  }
}

/** A well-formed message that breaks the protocol (unexpected, out of place, inconsistent). */
export class SyncProtocolError extends LedgerError {
  constructor(message = 'sync protocol violation') {
    super('SyncProtocolError', 'sync-protocol', message);
  }
}

/**
 * A range answer that is not what was asked: an entry of another author, or seqs that are not
 * the requested range from its start (nor the fork evidence a void feed is answered with).
 * An honest node never sends one (it serves with the same code), so it bans.
 */
export class SyncRangeMismatchError extends LedgerError {
  constructor(message = 'range answer does not match the request') {
    super('SyncRangeMismatchError', 'sync-range-mismatch', message);
  }
}

/** The peer did not answer in time. */
export class SyncTimeoutError extends LedgerError {
  constructor(message = 'sync peer timed out') {
    super('SyncTimeoutError', 'sync-timeout', message);
  }
}

/** No connected peer could serve an on-demand range (none holds it, or each refused or timed out). */
export class SyncUnavailableError extends LedgerError {
  constructor(message = 'no peer can serve this range') {
    super('SyncUnavailableError', 'sync-unavailable', message);
  }
}

/** An on-demand range met fork evidence: the feed is void at or below the asked seq (now known here). */
export class SyncFeedVoidError extends LedgerError {
  constructor(message = 'the feed is void') {
    super('SyncFeedVoidError', 'sync-feed-void', message);
  }
}
