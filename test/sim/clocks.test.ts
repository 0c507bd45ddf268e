// Clock offsets in a seeded simulation (clock-sim.ts): 6 nodes with true offsets up to ±2 s and
// drift up to ±10 ppm, links of 10 ms and 40 ms, per-packet jitter (exponential, mean 5 ms, plus
// 5% spikes of mean 100 ms), 3 minutes of probing on the production schedule.
//
// What round trips can and cannot tell: a round trip measures θ + (d→ − d←)/2, so a fixed path
// asymmetry is indistinguishable from a clock offset (see the last test). With symmetric base
// latencies (links of 10 ms and of 40 ms, jitter on every packet) the estimate comes within ±5 ms
// of the truth; with 10 ms one way and 40 ms back it is off by the half-asymmetry, 15 ms, ± 5 ms,
// and the reported uncertainty interval holds the truth in every case.
import { describe, expect, it } from 'vitest';
import { seeds } from './scenario.js';
import { exponential, simulateClocks, type ClockSimResult } from './clock-sim.js';
import { clockSample } from '../../src/lib/core/clock/offset.js';
import type { Rand } from '../helpers/fake-feed.js';

const jitter = (rand: Rand): number => exponential(rand, 5) + (rand() < 0.05 ? exponential(rand, 100) : 0);

/** Links of 10 or 40 ms: the same both ways (symmetric) or 10 one way and 40 back (asymmetric). */
function links(asymmetric: boolean) {
  const chosen = new Map<string, number>();
  return (i: number, j: number, rand: Rand): number => {
    const key = `${Math.min(i, j)}-${Math.max(i, j)}`;
    if (!chosen.has(key)) chosen.set(key, rand() < 0.5 ? 10 : 40);
    const a = chosen.get(key)!;
    return !asymmetric || i < j ? a : 50 - a;
  };
}

function run(seed: number, asymmetric: boolean): ClockSimResult {
  return simulateClocks({ seed, nodes: 6, durationMs: 180_000, baseLatency: links(asymmetric), jitter });
}

const list = seeds(20);
const range = `${list[0]}..${list[list.length - 1]}`;

describe('clock offsets in the simulation', () => {
  it(`symmetric 10 ms and 40 ms links with jitter: within ±5 ms, per peer and overall (seeds ${range}; replay with SEED=n)`, () => {
    console.log(`sim clocks (symmetric): seeds ${range} (replay: SEED=n npx vitest run test/sim/clocks.test.ts)`);
    let worst = 0;
    for (const seed of list) {
      const r = run(seed, false);
      for (const p of r.peers) {
        const err = p.estimate - p.truth;
        worst = Math.max(worst, Math.abs(err));
        expect(Math.abs(err), `SEED=${seed} node ${p.node} peer ${p.peer}`).toBeLessThanOrEqual(5);
        expect(Math.abs(err), `SEED=${seed}: truth outside the uncertainty`).toBeLessThanOrEqual(p.uncertainty);
      }
      for (const n of r.nodes) {
        expect(Math.abs(n.estimate - n.truth), `SEED=${seed} node ${n.node}`).toBeLessThanOrEqual(5);
        expect(Math.abs(n.estimate - n.truth)).toBeLessThanOrEqual(n.uncertainty);
      }
    }
    console.log(`sim clocks (symmetric): worst peer error ${worst.toFixed(2)} ms`);
  });

  it(`asymmetric 10/40 ms with jitter: off by the half-asymmetry (15 ms) ± 5 ms, truth inside the uncertainty (seeds ${range})`, () => {
    console.log(`sim clocks (asymmetric): seeds ${range} (replay: SEED=n npx vitest run test/sim/clocks.test.ts)`);
    let worst = 0;
    let worstBeyondBias = 0;
    for (const seed of list) {
      const r = run(seed, true);
      for (const p of r.peers) {
        const err = p.estimate - p.truth;
        const at = `SEED=${seed} node ${p.node} peer ${p.peer}`;
        worst = Math.max(worst, Math.abs(err));
        worstBeyondBias = Math.max(worstBeyondBias, Math.abs(err - p.halfAsymmetry));
        expect(Math.abs(p.halfAsymmetry)).toBe(15);
        expect(Math.abs(err - p.halfAsymmetry), at).toBeLessThanOrEqual(5);
        expect(Math.abs(err), at).toBeLessThanOrEqual(15 + 5);
        expect(Math.abs(err), `${at}: truth outside the uncertainty`).toBeLessThanOrEqual(p.uncertainty);
      }
      for (const n of r.nodes) expect(Math.abs(n.estimate - n.truth)).toBeLessThanOrEqual(n.uncertainty);
    }
    console.log(
      `sim clocks (asymmetric): worst peer error ${worst.toFixed(2)} ms, ${worstBeyondBias.toFixed(2)} ms beyond the half-asymmetry`
    );
  });

  it('no round-trip estimator can separate a 15 ms offset from a 10/40 ms asymmetry', () => {
    // World A: clocks equal, 10 ms out, 40 ms back. World B: peer 15 ms behind, 25 ms each way.
    const t0 = 1_750_000_000_000;
    const worldA = [t0, t0 + 10, t0 + 11, t0 + 51];
    const worldB = [t0, t0 - 15 + 25, t0 - 15 + 26, t0 + 51];
    expect(worldA).toEqual(worldB);
    const s = clockSample(worldA[0], worldA[1], worldA[2], worldA[3]);
    // The same timestamps give the same estimate: -15 ms, right in B and 15 ms off in A; the
    // uncertainty (half the 50 ms round trip) covers both.
    expect(s.offsetMs).toBe(-15);
    expect(s.delayMs / 2).toBeGreaterThanOrEqual(15);
  });
});
