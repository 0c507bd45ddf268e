// Wire frames of the time protocol (PROTOCOL.md, "Time protocol"). Fixed sizes, big-endian float64 ms:
//   request  = 0x01 | t0                (9 bytes)
//   response = 0x01 | t0 | t1 | t2      (25 bytes; t0 echoed so the client pairs the answer)
// Decoders accept exactly these sizes, the version byte and finite timestamps within
// ±CLOCK_MAX_TIMESTAMP_MS; anything else is a TimeFrameError.
import { CLOCK_MAX_TIMESTAMP_MS, TIME_PROTOCOL_VERSION, TIME_REQUEST_BYTES, TIME_RESPONSE_BYTES } from './constants.js';
import { TimeFrameError } from './errors.js';

export interface TimeResponse {
  t0: number;
  t1: number;
  t2: number;
}

function writeTimes(size: number, times: number[]): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = TIME_PROTOCOL_VERSION;
  times.forEach((t, i) => {
    if (!Number.isFinite(t) || Math.abs(t) > CLOCK_MAX_TIMESTAMP_MS) throw new TimeFrameError(`bad timestamp ${t}`);
    view.setFloat64(1 + 8 * i, t, false);
  });
  return out;
}

function readTimes(bytes: Uint8Array, size: number, what: string): number[] {
  if (bytes.byteLength !== size) throw new TimeFrameError(`${what} must be ${size} bytes, got ${bytes.byteLength}`);
  if (bytes[0] !== TIME_PROTOCOL_VERSION) throw new TimeFrameError(`unknown ${what} version ${bytes[0]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const times: number[] = [];
  for (let at = 1; at < size; at += 8) {
    const t = view.getFloat64(at, false);
    if (!Number.isFinite(t) || Math.abs(t) > CLOCK_MAX_TIMESTAMP_MS)
      throw new TimeFrameError(`bad timestamp in ${what}`);
    times.push(t);
  }
  return times;
}

/** The request carrying our send time t0 (ms). Throws TimeFrameError for a non-finite time. */
export function encodeTimeRequest(t0: number): Uint8Array {
  return writeTimes(TIME_REQUEST_BYTES, [t0]);
}

/** t0 of a request. Throws TimeFrameError unless exactly one well-formed request. */
export function decodeTimeRequest(bytes: Uint8Array): number {
  return readTimes(bytes, TIME_REQUEST_BYTES, 'time request')[0];
}

export function encodeTimeResponse(r: TimeResponse): Uint8Array {
  return writeTimes(TIME_RESPONSE_BYTES, [r.t0, r.t1, r.t2]);
}

/** Throws TimeFrameError unless exactly one well-formed response. */
export function decodeTimeResponse(bytes: Uint8Array): TimeResponse {
  const [t0, t1, t2] = readTimes(bytes, TIME_RESPONSE_BYTES, 'time response');
  return { t0, t1, t2 };
}
