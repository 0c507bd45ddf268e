// Fast variants of the simulated fault scenarios (issue 12: S3, S4, S6); `npm run soak` runs them
// with the soak numbers (test/soak/run.ts). Each prints its figures; SEED=n replays one seed.
import { describe, expect, it } from 'vitest';
import { equivocationScenario, lossyScenario, partitionScenario } from './faults.js';
import { seeds } from './scenario.js';

describe('fault suite (simulation, CI variants)', () => {
  it('S3: 3+3 partition with writes on both sides, healed: equal roots within 10 s, lost 0, conflicts listed', async () => {
    const s = await partitionScenario({ seeds: seeds(2, 6000), partitionMs: 30_000, writesPerSec: 1 });
    s.save();
    expect(s.failures()).toEqual([]);
    expect(s.outcome().status).toBe('pass');
  }, 120_000);

  it('S4: 10% loss, 10% duplication, reordering: every seed converges after quiescence', async () => {
    const s = await lossyScenario(seeds(30, 7000));
    s.save();
    expect(s.failures()).toEqual([]);
    expect(s.outcome().status).toBe('pass');
  }, 300_000);

  it('S6: equivocating author: both entries kept, flagged on every node within one sync round', async () => {
    const s = await equivocationScenario(seeds(2, 8000));
    s.save();
    expect(s.failures()).toEqual([]);
    expect(s.outcome().status).toBe('pass');
  }, 120_000);
});
