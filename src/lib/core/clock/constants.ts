// Defaults and limits of clock-offset estimation and the time protocol (src/lib/core/clock).
// Values marked "wire" are part of the protocol (PROTOCOL.md, "Time protocol"): changing one changes what
// peers send or accept.
//
// Sources: RFC 5905 (NTPv4) §10 "Clock Filter Algorithm" (8-stage shift register, the sample of
// least delay wins, dispersion grows at PHI with the sample's age), §7.3 / Appendix A.1.1
// (PHI = 15 PPM frequency tolerance), and D. L. Mills, "Computer Network Time
// Synchronization", 2nd ed., ch. 3 (why the minimum-delay sample carries the least error).

/** Wire: libp2p protocol id template; `<net16>` is the first 16 hex chars of the network id. */
export const TIME_PROTOCOL_ID = (net16: string): string => `/tabula/${net16}/time/1.0.0`;
/** Wire: version byte leading every request and response. */
export const TIME_PROTOCOL_VERSION = 1;
/** Wire: request = version (1) + client send time t0 (float64 BE, ms). */
export const TIME_REQUEST_BYTES = 9;
/** Wire: response = version (1) + echoed t0 + server receive t1 + server send t2 (float64 BE, ms). */
export const TIME_RESPONSE_BYTES = 25;
/** Wire: requests a server answers on one stream; more closes the stream. */
export const TIME_MAX_REQUESTS_PER_STREAM = 8;

/**
 * Samples kept per peer: the clock filter's shift register. RFC 5905 §10 keeps 8 stages of one
 * sample per poll; each probe here is a burst of CLOCK_BURST round trips, so 16 samples are the
 * last 4 probes (about a minute): in the simulation (test/sim/clocks.test.ts, exponential jitter
 * of mean 5 ms) this halves the worst error of 8 samples, while drift over that minute stays
 * under 1 ms.
 */
export const CLOCK_FILTER_SAMPLES = 16;
/** Samples older than this leave the filter, ms (their dispersion would dominate anyway). */
export const CLOCK_SAMPLE_MAX_AGE_MS = 10 * 60_000;
/** Frequency tolerance: a sample's dispersion grows by PHI × its age (RFC 5905: 15 PPM). */
export const CLOCK_PHI = 15e-6;
/**
 * Timestamp precision, ms, added to every sample's dispersion. Browsers coarsen
 * `performance.now()` to 0.1 ms (5 µs when cross-origin isolated), and `Date.now()` (the
 * fallback) has 1 ms steps, so 1 ms covers every clock source used here.
 */
export const CLOCK_PRECISION_MS = 1;
/**
 * A correction of the wall clock (wall-clock.ts) larger than this, ms, counts as a step: the
 * samples measured before it are dropped. Smaller ones (NTP slewing: up to 0.5 ms/s) only move
 * the anchor; the samples age out as usual. 5 ms is the accuracy the offsets are held to.
 */
export const CLOCK_STEP_MS = 5;
/** A round trip slower than this is discarded (a stalled stream says nothing about clocks), ms. */
export const CLOCK_MAX_DELAY_MS = 10_000;
/** Timestamps beyond this magnitude are refused as malformed (ms since 1970; year ~2255). */
export const CLOCK_MAX_TIMESTAMP_MS = 9e12;

/** Mean time between probes of one peer, ms (each probe is a burst on one stream). */
export const CLOCK_PROBE_INTERVAL_MS = 15_000;
/**
 * The second probe of a new peer comes this soon, ms (like NTP's iburst: the first burst runs
 * while the node is still starting and its event loop is busy, which inflates one-way delays).
 */
export const CLOCK_STARTUP_INTERVAL_MS = 2_000;
/** Each interval is CLOCK_PROBE_INTERVAL_MS × (1 ± this) so nodes do not probe in step. */
export const CLOCK_PROBE_JITTER = 0.2;
/** Round trips per probe burst (NTP's iburst sends 8 at start-up; 4 back to back suffice here). */
export const CLOCK_BURST = 4;
/** Peers probed at once at most (the rest wait for the next round). */
export const CLOCK_MAX_PARALLEL_PROBES = 2;
/** A probe stream (open + burst) that takes longer is aborted, ms. */
export const CLOCK_PROBE_TIMEOUT_MS = 5_000;
/** A server stream idle this long is closed, ms. */
export const TIME_SERVER_IDLE_MS = 5_000;
/** Inbound time streams per connection at once (each carries at most 8 tiny requests). */
export const TIME_MAX_INBOUND_STREAMS = 2;
/** Peers whose clock filters are kept at once (the oldest is dropped beyond). */
export const CLOCK_MAX_PEERS = 256;
/** Differing authors remembered per peer from its last comparison (the largest gaps first). */
export const LAG_MAX_AUTHORS_PER_PEER = 1024;
/** Peers whose last comparison is remembered at once. */
export const LAG_MAX_PEERS = 256;
