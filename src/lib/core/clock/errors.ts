// Typed errors of clock estimation and the time protocol. Match by `name` or `code`.
import { LedgerError } from '../errors.js';

/** A time request or response that is not exactly its wire size, version and finite timestamps. */
export class TimeFrameError extends LedgerError {
  constructor(message = 'malformed time protocol frame') {
    super('TimeFrameError', 'time-frame', message);
  }
}

/** Four timestamps that cannot come from one round trip (not finite, negative span, too slow). */
export class ClockSampleError extends LedgerError {
  constructor(message = 'inconsistent clock sample') {
    super('ClockSampleError', 'clock-sample', message);
  }
}
