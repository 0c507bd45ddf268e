// The time protocol over libp2p (PROTOCOL.md, "Time protocol"), for browsers and the relay: a server that
// answers each 9-byte request with the request's t0 and its own receive and send times, and a
// client that runs a burst of round trips on one stream and returns the clock samples.
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import { byteStream } from '@libp2p/utils';
import { clockSample, type ClockSample } from '../core/clock/offset.js';
import { WallClock, type StepClock } from '../core/clock/wall-clock.js';
import { decodeTimeRequest, decodeTimeResponse, encodeTimeRequest, encodeTimeResponse } from '../core/clock/codec.js';
import { TimeFrameError } from '../core/clock/errors.js';
import {
  CLOCK_BURST,
  CLOCK_PROBE_TIMEOUT_MS,
  TIME_MAX_INBOUND_STREAMS,
  TIME_MAX_REQUESTS_PER_STREAM,
  TIME_REQUEST_BYTES,
  TIME_RESPONSE_BYTES,
  TIME_SERVER_IDLE_MS
} from '../core/clock/constants.js';

/** The wall clock with monotonic resolution (core/clock/wall-clock.ts), or Date.now() without `performance`. */
export function createClock(): StepClock {
  const p = globalThis.performance;
  if (p === undefined || typeof p.now !== 'function') return { now: () => Date.now(), steps: 0 };
  return new WallClock(
    () => Date.now(),
    () => p.now(),
    typeof p.timeOrigin === 'number' ? p.timeOrigin : undefined
  );
}

/** This process's clock (see createClock). */
export const processClock = createClock();

/**
 * This process's clock in ms since the epoch: the wall clock (as entry times are), read with
 * `performance.now()`'s resolution and moved along when the wall clock is stepped.
 */
export function clockNow(): number {
  return processClock.now();
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** Answers time requests on one stream: at most TIME_MAX_REQUESTS_PER_STREAM, each read within the idle limit. */
export async function serveTimeStream(stream: Stream, now: () => number = clockNow): Promise<void> {
  const bytes = byteStream(stream, { maxBufferSize: TIME_REQUEST_BYTES * TIME_MAX_REQUESTS_PER_STREAM });
  try {
    for (let i = 0; i < TIME_MAX_REQUESTS_PER_STREAM; i++) {
      let frame;
      try {
        frame = await bytes.read({ bytes: TIME_REQUEST_BYTES, signal: AbortSignal.timeout(TIME_SERVER_IDLE_MS) });
      } catch {
        break; // the client closed its side (or went idle): done
      }
      const t1 = now();
      const t0 = decodeTimeRequest(frame.subarray());
      await bytes.write(encodeTimeResponse({ t0, t1, t2: now() }));
    }
    await stream
      .close({ signal: AbortSignal.timeout(TIME_SERVER_IDLE_MS) })
      .catch(() => stream.abort(new Error('close timed out')));
  } catch (err) {
    stream.abort(asError(err));
  }
}

/** Registers the time protocol server (direct connections only; limited relayed hops are refused by libp2p). */
export function handleTime(
  node: Pick<Libp2p, 'handle'>,
  protocol: string,
  now: () => number = clockNow
): Promise<void> {
  return node.handle(protocol, (stream) => serveTimeStream(stream, now), {
    maxInboundStreams: TIME_MAX_INBOUND_STREAMS,
    maxOutboundStreams: TIME_MAX_INBOUND_STREAMS
  });
}

/**
 * Runs `burst` round trips with the peer on a new stream over `conn` and returns their samples
 * (samples of impossible timing are skipped). Throws on stream errors, a mismatched or malformed
 * answer (TimeFrameError), or after CLOCK_PROBE_TIMEOUT_MS.
 */
export async function probeClock(
  conn: Pick<Connection, 'newStream'>,
  protocol: string,
  burst = CLOCK_BURST,
  now: () => number = clockNow
): Promise<ClockSample[]> {
  const signal = AbortSignal.timeout(CLOCK_PROBE_TIMEOUT_MS);
  const stream = await conn.newStream(protocol, { signal });
  const bytes = byteStream(stream, { maxBufferSize: TIME_RESPONSE_BYTES * 2 });
  const samples: ClockSample[] = [];
  try {
    for (let i = 0; i < Math.min(burst, TIME_MAX_REQUESTS_PER_STREAM); i++) {
      const t0 = now();
      await bytes.write(encodeTimeRequest(t0), { signal });
      const answer = decodeTimeResponse((await bytes.read({ bytes: TIME_RESPONSE_BYTES, signal })).subarray());
      const t3 = now();
      if (answer.t0 !== t0) throw new TimeFrameError('time response does not answer our request');
      try {
        samples.push(clockSample(t0, answer.t1, answer.t2, t3));
      } catch {
        // An impossible or stalled round trip says nothing; the others still count.
      }
    }
    await stream.close({ signal }).catch(() => stream.abort(new Error('close timed out')));
    return samples;
  } catch (err) {
    stream.abort(asError(err));
    throw err;
  }
}
