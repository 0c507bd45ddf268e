// The catch-up scenario of the drip red-team sims (drip-break3, pairdrip-break5): a's WRITES
// entries are held by honest 'b' and by 'l'; 'a' leaves; an empty newcomer 'n' (scoring on)
// links to l first and to b 500 ms later. `liar` wraps l's replica (undefined: l is honest) and
// calls `drip()` for each answer of another author's entries it gives.
import { Cluster } from './cluster.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import type { TestLedger } from '../helpers/ledger-nodes.js';

export const DRIP_TIMEOUT_MS = 1500;
export const DRIP_WRITES = 2000;
const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };

export type DripLiar = (base: SyncReplica, tl: TestLedger, drip: () => void) => SyncReplica;

/** Runs the scenario; `ms` is virtual time from n's first link until it holds a's whole feed. */
export async function dripCatchUp(seed: number, liar: DripLiar | undefined, label: string) {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: DRIP_TIMEOUT_MS });
  const a = await c.addNode('a', 1, { scoring: true });
  for (let i = 0; i < DRIP_WRITES; i++) await a.tl.ledger.put(`k${i}`, i);
  const author = a.tl.ledger.author;
  const stats = { minted: 0 };
  const b = await c.addNode('b', 2, { scoring: true });
  const l = await c.addNode('l', 4, {
    scoring: true,
    honest: liar === undefined,
    wrapReplica: liar && ((base: SyncReplica, tl: TestLedger) => liar(base, tl, () => void stats.minted++))
  });
  // b and l hold a's feed; a leaves; the newcomer n meets b and l.
  const src = ledgerReplica(a.tl.ledger);
  for (let f = 1; f <= DRIP_WRITES; f += 64) {
    const batch = await src.getRange(author, f, f + 63, 1 << 22);
    await b.tl.ledger.ingest(batch);
    await l.tl.ledger.ingest(batch);
  }
  await c.closeNode('a');
  const n = await c.addNode('n', 3, { scoring: true });
  // n meets l first (as when its first link is to the liar), b 500 ms later.
  const t0 = c.net.time;
  c.net.offline.add('b');
  c.refreshLinks();
  await c.net.run(() => false, t0 + 500);
  c.net.offline.delete('b');
  c.refreshLinks();
  let sawZero = false;
  const done = await c.net.run(() => {
    const st = n.engine.status();
    const head = n.tl.ledger.heads().find((h) => h.author === author)?.seq ?? 0;
    if (head > 0 && head < DRIP_WRITES && st.missing === 0) sawZero = true;
    return head === DRIP_WRITES;
  }, t0 + 120_000);
  const ms = Math.round(c.net.time - t0);
  const head = n.tl.ledger.heads().find((h) => h.author === author)?.seq ?? 0;
  console.log(
    `SEED=${seed} liar=${label}: ${DRIP_WRITES} entries in ${ms} ms virtual, done=${done}, newcomer head ${head}, feeds ${n.tl.ledger.heads().length}, drips ${stats.minted}, missing-0-while-behind ${sawZero}, l banned ${n.book!.isBanned('l')} rej ${JSON.stringify(n.rejections.slice(0, 3))}`
  );
  return { ms, done, drips: stats.minted, n };
}
