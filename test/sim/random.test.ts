import { describe, expect, it } from 'vitest';
import { randomScenario, seeds } from './scenario.js';

describe('sync simulation: random seeds (loss, duplication, reordering, latency, partitions)', () => {
  const list = seeds(200);
  it(`converges for seeds ${list[0]}..${list[list.length - 1]} (replay one with SEED=n)`, async () => {
    const t0 = performance.now();
    console.log(
      `sim random: seeds ${list[0]}..${list[list.length - 1]} (replay: SEED=n npx vitest run test/sim/random.test.ts)`
    );
    let maxVirtual = 0;
    for (const seed of list) {
      const o = await randomScenario(seed);
      expect(o.problems, `SEED=${seed}: ${o.problems.join('; ')}`).toEqual([]);
      maxVirtual = Math.max(maxVirtual, o.virtualMs);
    }
    console.log(
      `sim random: ${list.length} seeds converged in ${Math.round(performance.now() - t0)} ms wall, max ${maxVirtual} ms virtual`
    );
  }, 600_000);
});
