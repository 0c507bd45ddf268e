// Typed errors of feed history reading. Match by `name` or `code`.
import { LedgerError } from '../errors.js';

/** Pruned history could not be fetched: no connected peer holds it, or none of their answers verified. */
export class HistoryUnavailableError extends LedgerError {
  constructor(message = 'no peer could serve this history') {
    super('HistoryUnavailableError', 'history-unavailable', message);
  }
}

/** The requested page lies too far below what this node holds or has cached (page down instead). */
export class HistoryTooFarError extends LedgerError {
  constructor(message = 'history page too far below what this node holds') {
    super('HistoryTooFarError', 'history-too-far', message);
  }
}
