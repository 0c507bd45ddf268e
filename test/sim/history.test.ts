// History on demand in the simulated network (issue 9: a light replica "fetches older history from
// full replicas on demand (range requests)"): a light replica that pruned most of a feed reads it
// whole, newest first, through the sync engine's on-demand range requests over a lossy network;
// a peer that forges the entries it serves is reported and banned, and the honest full replica
// serves instead. Nothing fetched is stored. SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster, driveOnDemand } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { FeedHistory, ledgerHistorySource, type HistoryItem } from '../../src/lib/core/history/index.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import type { SimNode } from './cluster.js';
import { isBanOffence } from '../../src/lib/core/peers/offences.js';

const WRITES = 1500;
const BUDGET = 32 * 1024;

const drive = driveOnDemand;

async function readAll(c: Cluster, light: SimNode, h: FeedHistory, author: string): Promise<HistoryItem[]> {
  const items: HistoryItem[] = [];
  let before: number | undefined;
  do {
    const page = await drive(c, light, h.page(author, { before, limit: 200 }));
    items.push(...page.items);
    before = page.next;
  } while (before !== undefined);
  return items;
}

function history(light: SimNode): FeedHistory {
  return new FeedHistory({
    source: ledgerHistorySource(light.tl.ledger),
    fetch: (a, from, to, o) => light.engine.requestRange(a, from, to, o),
    onInvalid: (peer, e) => light.engine.reportInvalid(peer, e)
  });
}

describe('sync simulation: history on demand', () => {
  it(`a light replica reads ${WRITES} entries of a feed it pruned, past a forging peer`, async () => {
    for (const seed of seeds(1, 9100)) {
      const c = new Cluster({ seed, link: { loss: 0.05, dup: 0.05, latencyMin: 2, latencyMax: 40 }, gossip: false });
      const f = await c.addNode('f', 1);
      for (let i = 0; i < WRITES; i++) await f.tl.ledger.put(`k${i % 100}`, { i });
      const light = await c.addNode('l', 3, { scoring: true, ledger: { role: 'light', budgetBytes: BUDGET } });
      c.refreshLinks();
      await c.net.run(() => compareHonest(c).length === 0, c.net.time + 120_000);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
      await light.tl.ledger.compact();
      const pruned = light.tl.ledger.stats({ digest: false }).storage.pruned;
      expect(pruned, `SEED=${seed}`).toBeGreaterThan(WRITES / 2);
      const stored = await light.tl.store.count();
      // The author goes offline. Two full replicas of its feed come: a forger ('b', met first),
      // which serves every entry with its signature bit-flipped, and an honest one ('g').
      await c.closeNode('f');
      const forger = await c.addNode('b', 2, {
        wrapReplica: (base: SyncReplica): SyncReplica => ({
          ...base,
          getRange: async (a, from, to, max) => (await base.getRange(a, from, to, max)).map(flipLast)
        })
      });
      const honest = await c.addNode('g', 4);
      for (const n of [forger, honest]) await n.tl.ledger.ingest(f.tl.log);
      c.refreshLinks();
      const ready = () => light.engine.status().peers.filter((p) => p.role === 'full').length === 2;
      await c.net.run(() => ready() && compareHonest(c).length === 0, c.net.time + 60_000);

      const t0 = c.net.time;
      const items = await readAll(c, light, history(light), f.tl.ledger.author);
      const took = Math.round(c.net.time - t0);
      expect(
        items.map((i) => i.hash),
        `SEED=${seed}`
      ).toEqual([...f.tl.log].reverse().map((h) => toHex(h.hash)));
      expect(items.filter((i) => !i.held).length, `SEED=${seed}`).toBe(pruned);
      expect(items.at(-1)!.writes, `SEED=${seed}`).toEqual([{ key: 'k0', deleted: false, value: { i: 0 } }]);
      expect(await light.tl.store.count(), `SEED=${seed}`).toBe(stored);
      const banned = light.rejections.filter((r) => r.peer === 'b').map((r) => r.code);
      console.log(
        `SEED=${seed} history: ${items.length} entries (${pruned} fetched back) in ${took} ms virtual; forger: ${banned.join(', ') || 'not reported'}`
      );
      expect(banned.length, `SEED=${seed}`).toBeGreaterThan(0);
      expect(banned.every(isBanOffence), `SEED=${seed}`).toBe(true);
      expect(
        light.book!.bans().map((b) => b.peer),
        `SEED=${seed}`
      ).toEqual(['b']);
    }
  }, 300_000);
});

/** The entry with its signature's last byte flipped. */
function flipLast(e: Uint8Array): Uint8Array {
  const b = e.slice();
  b[b.length - 1] ^= 1;
  return b;
}
