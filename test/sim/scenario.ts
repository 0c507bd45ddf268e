// Seeded scenarios over the cluster: random writes (on few keys, so concurrent writes conflict),
// partitions and healing, then a check that every honest node converged to the same heads root,
// records and conflicts.
import { Cluster, type ClusterOptions } from './cluster.js';
import type { LinkOptions } from './net.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { mulberry32 } from '../helpers/fake-feed.js';

/** Seeds to run: SEED=n replays one; SIM_SEEDS=n sets how many (default `dflt`). */
export function seeds(dflt: number, base = 1): number[] {
  if (process.env.SEED) return [Number(process.env.SEED)];
  const n = Number(process.env.SIM_SEEDS ?? dflt);
  return Array.from({ length: n }, (_, i) => base + i);
}

export interface Outcome {
  seed: number;
  converged: boolean;
  virtualMs: number;
  roots: string[];
  writes: number;
  delivered: number;
  dropped: number;
  problems: string[];
}

/** Returns problems found when comparing honest nodes (empty = converged state is identical). */
export function compareHonest(c: Cluster): string[] {
  const hs = c.honest();
  const out: string[] = [];
  const ref = hs[0].tl.ledger;
  const refRecords = JSON.stringify(ref.records());
  const refConflicts = JSON.stringify(sortConflicts(ref.conflicts()));
  for (const n of hs.slice(1)) {
    const l = n.tl.ledger;
    if (headsRoot(l.heads()) !== headsRoot(ref.heads())) out.push(`${n.id}: heads root differs`);
    if (JSON.stringify(l.records()) !== refRecords) out.push(`${n.id}: records differ`);
    if (JSON.stringify(sortConflicts(l.conflicts())) !== refConflicts) out.push(`${n.id}: conflicts differ`);
  }
  return out;
}

function sortConflicts<T extends { key: string }>(cs: T[]): T[] {
  return [...cs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The randomized CI scenario: 3..6 nodes, random link quality, writes, maybe a partition. `link`
 * fixes the link quality instead (the fault suite's 10% loss, 10% duplication; test/sim/faults.ts).
 */
export async function randomScenario(seed: number, link?: LinkOptions): Promise<Outcome> {
  const r = mulberry32(seed ^ 0x5eed);
  const drawn = { loss: r() * 0.2, dup: r() * 0.1, latencyMin: 1, latencyMax: 5 + r() * 120 };
  const opts: ClusterOptions = { seed, gossip: r() < 0.7, link: link ?? drawn };
  const c = new Cluster(opts);
  const n = 3 + Math.floor(r() * 4);
  const ids = Array.from({ length: n }, (_, i) => `n${i}`);
  for (const [i, id] of ids.entries()) await c.addNode(id, i + 1);
  c.refreshLinks();
  const writes = 10 + Math.floor(r() * 30);
  const partitionAt = r() < 0.5 ? 200 + r() * 1500 : -1;
  const healAt = partitionAt + 500 + r() * 3000;
  const writeSpan = 3000;
  const writers = ids.slice(0, Math.max(1, Math.floor(r() * n) + 1));
  for (let i = 0; i < writes; i++) {
    const at = r() * writeSpan;
    const who = writers[Math.floor(r() * writers.length)];
    const key = `k${Math.floor(r() * 5)}`;
    const value = { w: who, i };
    c.net.schedule(at, () => c.write(who, key, value));
  }
  if (partitionAt >= 0) {
    const cut = 1 + Math.floor(r() * (n - 1));
    c.net.schedule(partitionAt, () => {
      c.net.partition([ids.slice(0, cut), ids.slice(cut)]);
      c.refreshLinks();
    });
    c.net.schedule(healAt, () => {
      c.net.heal();
      c.refreshLinks();
    });
  }
  // Nothing can converge before the last write and the heal.
  await c.net.run(() => false, Math.max(writeSpan, healAt) + 1);
  const converged = await c.settle(120_000);
  return {
    seed,
    converged,
    virtualMs: Math.round(c.net.time),
    roots: c.honest().map((x) => headsRoot(x.tl.ledger.heads())),
    writes,
    delivered: c.net.delivered,
    dropped: c.net.dropped,
    problems: converged ? compareHonest(c) : ['did not converge', ...c.honest().map(describeNode)]
  };
}

function describeNode(n: import('./cluster.js').SimNode): string {
  const st = n.engine.status();
  const heads = n.tl.ledger
    .heads()
    .map((h) => `${h.author.slice(0, 4)}:${h.seq}`)
    .join(',');
  const peers = st.peers
    .map(
      (p) =>
        `${p.peer}[sync ${p.lastSyncAt} ok ${p.exchangesCompleted} fail ${p.exchangesFailed} inflight ${p.rangesInFlight}]`
    )
    .join(' ');
  return `${n.id} heads ${heads} missing ${st.missing} links ${[...n.links.keys()]} pending ${n.tl.ledger.stats().pending} ${peers} rej ${JSON.stringify(n.rejections.slice(0, 3))}`;
}
