// NTP-style clock offset estimation (pure). One round trip gives four timestamps: t0 (we send,
// our clock), t1 (peer receives, its clock), t2 (peer sends, its clock), t3 (we receive, our
// clock). Then (RFC 5905 §8):
//   offset θ = ((t1 − t0) + (t2 − t3)) / 2    (peer clock − our clock)
//   delay  δ = (t3 − t0) − (t2 − t1)          (round trip minus the peer's processing)
// If the one-way delays are d→ and d← (both ≥ 0, d→ + d← = δ), then θ = θ_true + (d→ − d←) / 2,
// so the true offset always lies in [θ − δ/2, θ + δ/2]: round trips alone cannot tell a clock
// offset from a path asymmetry, and half the round trip bounds the error.
//
// Per peer, a clock filter (RFC 5905 §10; Mills, "Computer Network Time Synchronization" ch. 3)
// keeps the last CLOCK_FILTER_SAMPLES samples and trusts the one of least delay: queueing and
// scheduling jitter only ever add delay, so the fastest round trip has the tightest bound. Its
// uncertainty is δ/2 plus its dispersion (timestamp precision, and PHI × its age for clock drift).
// The node's offset is the median over its peers; its uncertainty interval is the median of the
// peers' lower bounds to the median of their upper bounds (the median is monotone, so if every
// peer's interval holds its true offset, this one holds the true median).
import {
  CLOCK_FILTER_SAMPLES,
  CLOCK_MAX_DELAY_MS,
  CLOCK_MAX_TIMESTAMP_MS,
  CLOCK_PHI,
  CLOCK_PRECISION_MS,
  CLOCK_SAMPLE_MAX_AGE_MS
} from './constants.js';
import { ClockSampleError } from './errors.js';

/** One round trip's estimate; all values in ms. */
export interface ClockSample {
  /** Peer clock − our clock. */
  offsetMs: number;
  /** Round trip without the peer's processing time, ≥ 0. */
  delayMs: number;
  /** Our clock when the answer arrived (t3). */
  at: number;
}

/** A peer's filtered estimate; all values in ms. */
export interface PeerClockEstimate {
  /** Peer clock − our clock, from the least-delay sample in the window. */
  offsetMs: number;
  /** The true offset lies within offsetMs ± uncertaintyMs (if one-way delays are ≥ 0). */
  uncertaintyMs: number;
  /** Delay of the chosen sample. */
  delayMs: number;
  /** RMS spread of the window's offsets around the chosen one (RFC 5905 peer jitter). */
  jitterMs: number;
  /** Samples in the window. */
  samples: number;
  /** Our clock when the chosen sample was taken. */
  at: number;
}

/** The node's offset over its peers; all values in ms. */
export interface NodeClockEstimate {
  /** Median of the peers' offsets: add it to our clock to get the network's median clock. */
  offsetMs: number;
  /** The median of the peers' true offsets lies within offsetMs ± uncertaintyMs. */
  uncertaintyMs: number;
  /** Peers with an estimate. */
  peers: number;
}

function checkTimestamp(t: number): void {
  if (!Number.isFinite(t) || Math.abs(t) > CLOCK_MAX_TIMESTAMP_MS) {
    throw new ClockSampleError(`timestamp ${t} is not a plausible ms clock reading`);
  }
}

/**
 * The sample of one round trip (timestamps in ms, see the file header). Throws ClockSampleError
 * when a timestamp is not finite or implausible, when t3 < t0 or t2 < t1, or when the round trip
 * exceeds `maxDelayMs`. A slightly negative delay (timer precision) is clamped to 0.
 */
export function clockSample(
  t0: number,
  t1: number,
  t2: number,
  t3: number,
  maxDelayMs = CLOCK_MAX_DELAY_MS
): ClockSample {
  for (const t of [t0, t1, t2, t3]) checkTimestamp(t);
  if (t3 < t0) throw new ClockSampleError('answer received before the request was sent');
  if (t2 < t1) throw new ClockSampleError('peer answered before it received the request');
  const delayMs = Math.max(0, t3 - t0 - (t2 - t1));
  if (delayMs > maxDelayMs) throw new ClockSampleError(`round trip of ${delayMs} ms is too slow to use`);
  return { offsetMs: (t1 - t0 + (t2 - t3)) / 2, delayMs, at: t3 };
}

export interface ClockFilterOptions {
  samples?: number;
  maxAgeMs?: number;
  /** Dispersion added for timestamp precision, ms (two clocks: 2 × CLOCK_PRECISION_MS). */
  precisionMs?: number;
  phi?: number;
}

/**
 * One peer's clock filter: a sliding window of samples; the sample of least distance (half its
 * delay plus its age-grown dispersion) wins (RFC 5905 §10).
 */
export class ClockFilter {
  private readonly window: ClockSample[] = [];
  private readonly size: number;
  private readonly maxAgeMs: number;
  private readonly precisionMs: number;
  private readonly phi: number;

  constructor(o: ClockFilterOptions = {}) {
    this.size = o.samples ?? CLOCK_FILTER_SAMPLES;
    this.maxAgeMs = o.maxAgeMs ?? CLOCK_SAMPLE_MAX_AGE_MS;
    this.precisionMs = o.precisionMs ?? 2 * CLOCK_PRECISION_MS;
    this.phi = o.phi ?? CLOCK_PHI;
  }

  /** Adds a sample; the oldest leaves once the window is full. */
  add(s: ClockSample): void {
    this.window.push(s);
    if (this.window.length > this.size) this.window.shift();
  }

  /** Samples in the window (before age pruning). */
  get count(): number {
    return this.window.length;
  }

  /** The estimate at our clock `now` (ms); null when no sample is young enough. */
  estimate(now: number): PeerClockEstimate | null {
    while (this.window.length > 0 && now - this.window[0].at > this.maxAgeMs) this.window.shift();
    if (this.window.length === 0) return null;
    // RFC 5905 §10: the sample of least distance δ/2 + ε, where ε grows with age (ties: the newer).
    const dispersion = (s: ClockSample): number => this.precisionMs + this.phi * Math.max(0, now - s.at);
    let best = this.window[0];
    for (const s of this.window) if (s.delayMs / 2 + dispersion(s) <= best.delayMs / 2 + dispersion(best)) best = s;
    let sq = 0;
    for (const s of this.window) sq += (s.offsetMs - best.offsetMs) ** 2;
    const jitter = this.window.length > 1 ? Math.sqrt(sq / (this.window.length - 1)) : 0;
    return {
      offsetMs: best.offsetMs,
      uncertaintyMs: best.delayMs / 2 + dispersion(best),
      delayMs: best.delayMs,
      jitterMs: jitter,
      samples: this.window.length,
      at: best.at
    };
  }
}

/** Median of a non-empty list (mean of the two middle values when even). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The node's offset: median over the peers' estimates, with a guaranteed interval; null without peers. */
export function combineOffsets(
  peers: readonly Pick<PeerClockEstimate, 'offsetMs' | 'uncertaintyMs'>[]
): NodeClockEstimate | null {
  if (peers.length === 0) return null;
  const offsetMs = median(peers.map((p) => p.offsetMs));
  const lo = median(peers.map((p) => p.offsetMs - p.uncertaintyMs));
  const hi = median(peers.map((p) => p.offsetMs + p.uncertaintyMs));
  return { offsetMs, uncertaintyMs: Math.max(offsetMs - lo, hi - offsetMs), peers: peers.length };
}
