// A seeded simulation of clock-offset estimation: nodes with true clock offsets and drift, links
// with one-way base latencies (per direction) and random queueing jitter, and every node probing
// every other with the production filter (PeerClocks) through the wire codec, on the production
// schedule (a burst of CLOCK_BURST round trips every CLOCK_PROBE_INTERVAL_MS ± jitter).
import { mulberry32, type Rand } from '../helpers/fake-feed.js';
import { PeerClocks } from '../../src/lib/core/clock/peer-clocks.js';
import { clockSample, median } from '../../src/lib/core/clock/offset.js';
import {
  decodeTimeRequest,
  decodeTimeResponse,
  encodeTimeRequest,
  encodeTimeResponse
} from '../../src/lib/core/clock/codec.js';
import { CLOCK_BURST, CLOCK_PROBE_INTERVAL_MS, CLOCK_PROBE_JITTER } from '../../src/lib/core/clock/constants.js';

const EPOCH = 1_750_000_000_000;

export interface ClockSimOptions {
  seed: number;
  nodes: number;
  /** Virtual time simulated, ms. */
  durationMs: number;
  /** One-way base latency from node `from` to node `to`, ms (drawn once per direction). */
  baseLatency: (from: number, to: number, rand: Rand) => number;
  /** Extra delay of one packet (queueing, scheduling), ms ≥ 0. */
  jitter: (rand: Rand) => number;
  /** True offsets are uniform in ±maxOffsetMs, drifts in ±maxDriftPpm. */
  maxOffsetMs?: number;
  maxDriftPpm?: number;
  /** Clock readings are truncated to this step, ms (browsers: 0.1). */
  precisionMs?: number;
}

export interface PeerResult {
  node: number;
  peer: number;
  /** True offset (peer clock − node clock) at the end. */
  truth: number;
  estimate: number;
  uncertainty: number;
  /** Asymmetry of the link's base latencies, (to − from) / 2: the bias no round trip can see. */
  halfAsymmetry: number;
}

export interface NodeResult {
  node: number;
  truth: number;
  estimate: number;
  uncertainty: number;
}

export interface ClockSimResult {
  peers: PeerResult[];
  nodes: NodeResult[];
  samples: number;
}

export function simulateClocks(o: ClockSimOptions): ClockSimResult {
  const rand = mulberry32(o.seed);
  const n = o.nodes;
  const maxOffset = o.maxOffsetMs ?? 2000;
  const maxDrift = (o.maxDriftPpm ?? 10) * 1e-6;
  const step = o.precisionMs ?? 0.1;
  const offset = Array.from({ length: n }, () => (2 * rand() - 1) * maxOffset);
  const drift = Array.from({ length: n }, () => (2 * rand() - 1) * maxDrift);
  const trueClock = (i: number, t: number): number => t + offset[i] + drift[i] * (t - EPOCH);
  const read = (i: number, t: number): number => Math.floor(trueClock(i, t) / step) * step;
  const base = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : NaN)));
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) base[i][j] = o.baseLatency(i, j, rand);
  const clocks = Array.from({ length: n }, () => new PeerClocks());
  const end = EPOCH + o.durationMs;
  let samples = 0;

  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      for (let t = EPOCH + rand() * 1000; t < end;) {
        let at = t;
        for (let k = 0; k < CLOCK_BURST; k++) {
          const t0 = decodeTimeRequest(encodeTimeRequest(read(i, at)));
          const arrive = at + base[i][j] + o.jitter(rand);
          const leave = arrive + rand();
          const res = decodeTimeResponse(encodeTimeResponse({ t0, t1: read(j, arrive), t2: read(j, leave) }));
          at = leave + base[j][i] + o.jitter(rand);
          clocks[i].add(j.toString(), clockSample(res.t0, res.t1, res.t2, read(i, at)));
          samples++;
        }
        t += CLOCK_PROBE_INTERVAL_MS * (1 - CLOCK_PROBE_JITTER + 2 * CLOCK_PROBE_JITTER * rand());
      }
    }
  }

  const peers: PeerResult[] = [];
  const nodes: NodeResult[] = [];
  for (let i = 0; i < n; i++) {
    const now = read(i, end);
    const truths: number[] = [];
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const e = clocks[i].peer(j.toString(), now);
      if (e === null) throw new Error(`node ${i} has no estimate of ${j}`);
      const truth = trueClock(j, end) - trueClock(i, end);
      truths.push(truth);
      const halfAsymmetry = (base[i][j] - base[j][i]) / 2;
      peers.push({ node: i, peer: j, truth, estimate: e.offsetMs, uncertainty: e.uncertaintyMs, halfAsymmetry });
    }
    const e = clocks[i].node(now)!;
    nodes.push({ node: i, truth: median(truths), estimate: e.offsetMs, uncertainty: e.uncertaintyMs });
  }
  return { peers, nodes, samples };
}

/** Exponential with the given mean (inverse CDF). */
export function exponential(rand: Rand, mean: number): number {
  return -mean * Math.log(1 - rand());
}
