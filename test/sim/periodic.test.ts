// Issue 7, point 5: periodic anti-entropy with jitter recovers a missed gossip message within
// about one period. Gossip is off here, so every write is "a gossip message that was lost"; a
// local write starts no exchange (engine.ts headsChanged), the peers stay connected and nothing
// is pending, so the only trigger left is the periodic one: period × (1 + jitter in [0, 1)).
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';

const PERIOD_MS = 3000;
/** Slack for the exchange and the range request themselves (a few messages of ≤ 20 ms, 250 ms ticks). */
const SLACK_MS = 1000;

describe('sync simulation: periodic anti-entropy', () => {
  it('a write whose gossip was lost reaches a connected peer within one period plus its jitter', async () => {
    const waits: number[] = [];
    for (const seed of seeds(20, 9100)) {
      const c = new Cluster({
        seed,
        link: { loss: 0, dup: 0, latencyMin: 5, latencyMax: 20 },
        gossip: false,
        periodMs: PERIOD_MS
      });
      await c.addNode('a', 1);
      await c.addNode('b', 2);
      c.refreshLinks();
      await c.write('a', 'first', 0);
      expect(await c.settle(4 * PERIOD_MS), `SEED=${seed}`).toBe(true);
      // Let the exchange that brought "first" end and the nodes go quiet.
      await c.net.run(() => false, c.net.time + 500);
      const b = c.nodes.get('b')!;
      await c.write('a', 'missed', 1);
      const t0 = c.net.time;
      const arrived = await c.net.run(() => b.tl.ledger.get('missed') === 1, t0 + 10 * PERIOD_MS);
      expect(arrived, `SEED=${seed}: the write never arrived`).toBe(true);
      const waited = c.net.time - t0;
      waits.push(waited);
      expect(waited, `SEED=${seed}`).toBeLessThanOrEqual(2 * PERIOD_MS + SLACK_MS);
    }
    console.log(
      `sim periodic: a missed write arrived ${Math.round(Math.min(...waits))}–${Math.round(Math.max(...waits))} ms (virtual) later, ` +
        `period ${PERIOD_MS} ms + jitter`
    );
  }, 120_000);
});
