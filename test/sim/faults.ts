// Fault scenarios of issue 12 that run in the seeded simulation (real Ledgers and SyncEngines over
// SimNet, virtual time): S3 (3+3 partition, healed), S4 (10% loss, 10% duplication, reordering,
// many seeds) and S6 (equivocating author). Each returns a ScenarioRecorder with its figures and
// checks; test/sim/faults.test.ts runs small variants in CI, test/soak/run.ts the soak numbers.
import { Cluster } from './cluster.js';
import { equivocate } from './hostile.js';
import { compareHonest, randomScenario } from './scenario.js';
import type { LinkOptions } from './net.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { ScenarioRecorder } from '../soak/record.js';

/** A healthy link: a little loss and duplication, reordering latencies (ms). */
const LINK: LinkOptions = { loss: 0.01, dup: 0.01, latencyMin: 2, latencyMax: 60 };
/** S4's link: 10% loss, 10% duplication, latency 1..125 ms (messages overtake each other). */
export const LOSSY_LINK: LinkOptions = { loss: 0.1, dup: 0.1, latencyMin: 1, latencyMax: 125 };
/** The engine's anti-entropy period in these runs (ms): one "sync round". */
export const SYNC_PERIOD_MS = 3000;
const SIX = ['a0', 'a1', 'a2', 'b0', 'b1', 'b2'];

const sumSeq = (c: Cluster, id: string): number =>
  c.nodes
    .get(id)!
    .tl.ledger.heads()
    .reduce((n, h) => n + h.seq, 0);

/** Virtual ms until `done()` holds (checked every 50 ms), or null if not within `maxMs`. */
async function timeUntil(c: Cluster, done: () => boolean, maxMs: number): Promise<number | null> {
  const t0 = c.net.time;
  let ok = done();
  const check = (): void => {
    ok = done();
    if (!ok) c.net.schedule(50, check);
  };
  if (!ok) c.net.schedule(50, check);
  const reached = ok || (await c.net.run(() => ok, t0 + maxMs));
  return reached ? Math.round(c.net.time - t0) : null;
}

export interface PartitionOptions {
  seeds: number[];
  /** How long the sides stay apart, virtual ms (issue: 30 s). */
  partitionMs: number;
  /** Writes per second per node while split. */
  writesPerSec: number;
}

/** S3: 6 nodes split 3+3, writes on both sides, healed: equal roots within 10 s; lost = 0; conflicts listed. */
export async function partitionScenario(o: PartitionOptions): Promise<ScenarioRecorder> {
  const s = new ScenarioRecorder(
    'S3',
    '6 nodes split 3+3 with writes on both sides, then healed',
    'equal heads roots within 10 s of healing; lost = 0; conflicts listed',
    'simulation'
  );
  s.deviation = 'simulation level (6 real Ledgers + SyncEngines over SimNet, virtual time), not 6 browser tabs';
  let worst = 0;
  let lost = 0;
  let minConflicts = Infinity;
  const failed: string[] = [];
  for (const seed of o.seeds) {
    const c = new Cluster({ seed, link: LINK, gossip: true, periodMs: SYNC_PERIOD_MS });
    for (const [i, id] of SIX.entries()) await c.addNode(id, i + 1);
    c.refreshLinks();
    await c.net.run(() => false, 1000);
    c.net.partition([SIX.slice(0, 3), SIX.slice(3)]);
    c.refreshLinks();
    const r = mulberry32(seed);
    const start = c.net.time;
    const writes = Math.round((o.writesPerSec * SIX.length * o.partitionMs) / 1000);
    for (let i = 0; i < writes; i++) {
      const who = SIX[i % SIX.length];
      c.net.schedule(r() * (o.partitionMs - 100), () => c.write(who, `k${Math.floor(r() * 8)}`, `${who}-${i}`));
    }
    await c.net.run(() => false, start + o.partitionMs);
    const sides = new Set(SIX.map((id) => headsRoot(c.nodes.get(id)!.tl.ledger.heads()))).size;
    c.net.heal();
    c.refreshLinks();
    const ms = await timeUntil(c, () => c.converged(), 60_000);
    const problems = ms === null ? ['not converged within 60 s'] : compareHonest(c);
    const held = Math.min(...SIX.map((id) => sumSeq(c, id)));
    lost += writes - held;
    const conflicts = Math.min(...SIX.map((id) => c.nodes.get(id)!.tl.ledger.conflicts().length));
    minConflicts = Math.min(minConflicts, conflicts);
    worst = Math.max(worst, ms ?? Infinity);
    if (problems.length > 0 || sides < 2)
      failed.push(`SEED=${seed}: ${sides} roots before heal; ${problems.join('; ')}`);
    console.log(`S3 SEED=${seed}: ${writes} writes, converged ${ms} ms after healing, ${conflicts} conflicts listed`);
  }
  s.figure('seeds', o.seeds.length)
    .figure('partition_s', o.partitionMs / 1000)
    .figure('writes_per_node_per_s', o.writesPerSec)
    .figure('worst_converge_after_heal_ms', Number.isFinite(worst) ? worst : null)
    .figure('lost', lost)
    .figure('min_conflicts_listed', minConflicts);
  s.check('sides diverged, then identical state on all 6 after healing', failed.length === 0, failed.join(' | '));
  s.check('equal heads roots within 10 s of healing', worst <= 10_000, `worst ${worst} ms`);
  s.check('lost = 0', lost === 0, `${lost} writes missing somewhere`);
  s.check('conflicts listed on every node', minConflicts > 0, `fewest listed ${minConflicts}`);
  return s;
}

/** S4: seeded runs over a 10% loss, 10% duplication, reordering link converge after quiescence. */
export async function lossyScenario(seeds: number[]): Promise<ScenarioRecorder> {
  const s = new ScenarioRecorder(
    'S4',
    '10% drop, 10% duplication, reordering (simulation)',
    'convergence after quiescence, every seed',
    'simulation'
  );
  const t0 = performance.now();
  const failed: string[] = [];
  let maxVirtual = 0;
  let writes = 0;
  let dropped = 0;
  let delivered = 0;
  for (const [i, seed] of seeds.entries()) {
    if (i > 0 && i % 100 === 0)
      console.log(`S4: ${i} seeds done, ${failed.length} failed, ${Math.round(performance.now() - t0)} ms`);
    const out = await randomScenario(seed, LOSSY_LINK);
    if (out.problems.length > 0) failed.push(`SEED=${seed}: ${out.problems.slice(0, 2).join('; ')}`);
    maxVirtual = Math.max(maxVirtual, out.virtualMs);
    writes += out.writes;
    dropped += out.dropped;
    delivered += out.delivered;
  }
  console.log(`S4: seeds ${seeds[0]}..${seeds.at(-1)} (replay one: SEED=n with test/sim/faults.test.ts)`);
  s.figure('seeds', seeds.length)
    .figure('converged', seeds.length - failed.length)
    .figure('writes', writes)
    .figure('messages_delivered', delivered)
    .figure('messages_dropped', dropped)
    .figure('max_virtual_ms', maxVirtual)
    .figure('wall_ms', Math.round(performance.now() - t0));
  s.check(
    'every seed converged (equal heads, records, conflicts)',
    failed.length === 0,
    failed.slice(0, 5).join(' | ')
  );
  return s;
}

/** S6: an author signs two entries at one seq, one reaches each half: both kept, flagged everywhere within one sync round. */
export async function equivocationScenario(seeds: number[]): Promise<ScenarioRecorder> {
  const s = new ScenarioRecorder(
    'S6',
    'equivocating author',
    'both entries kept; author flagged on every node within one sync round',
    'simulation'
  );
  s.deviation = `simulation level; one sync round = the anti-entropy period (${SYNC_PERIOD_MS} ms)`;
  let worst = 0;
  const failed: string[] = [];
  for (const seed of seeds) {
    const c = new Cluster({ seed, link: LINK, gossip: true, periodMs: SYNC_PERIOD_MS });
    for (const [i, id] of SIX.entries()) await c.addNode(id, i + 1);
    c.net.partition([SIX.slice(0, 3), SIX.slice(3)]);
    c.refreshLinks();
    // Each variant spreads through its half first (a sync exchange carries it to the others).
    const { evil, ea, eb } = await equivocate(c, 'a0', 'b0');
    const want = [toHex(ea.hash), toHex(eb.hash)].sort().join();
    const hasOnly = (id: string) => !c.nodes.get(id)!.tl.ledger.isForked(evil);
    await timeUntil(c, () => SIX.every((id) => sumSeq(c, id) >= 1 && hasOnly(id)), 30_000);
    c.net.heal();
    c.refreshLinks();
    const flagged = (id: string) => {
      const l = c.nodes.get(id)!.tl.ledger;
      const f = l.forks().find((x) => x.author === evil && x.seq === 1);
      const both = !!f && [toHex(f.a.hash), toHex(f.b.hash)].sort().join() === want;
      return both && l.isForked(evil) && l.stats().forkedAuthors === 1;
    };
    const ms = await timeUntil(c, () => SIX.every(flagged), 60_000);
    worst = Math.max(worst, ms ?? Infinity);
    if (ms === null) failed.push(`SEED=${seed}: flagged on ${SIX.filter(flagged).length} of 6 after 60 s`);
    console.log(`S6 SEED=${seed}: both entries kept and author flagged on all 6 nodes ${ms} ms after healing`);
  }
  s.figure('seeds', seeds.length).figure('worst_flagged_after_heal_ms', Number.isFinite(worst) ? worst : null);
  s.check(
    'both entries kept as fork evidence, author flagged (isForked, stats) on every node',
    failed.length === 0,
    failed.join(' | ')
  );
  s.check(`flagged within one sync round (${SYNC_PERIOD_MS} ms)`, worst <= SYNC_PERIOD_MS, `worst ${worst} ms`);
  return s;
}
