// Abusing checkLink (issue 7 red team, round 3). Since round 2, a range answer that should continue
// our head (from = local + 1) but whose first entry does not link to it makes the node ask that
// peer for its entry at our head's seq, as fork evidence; this runs on the entry's unverified
// prefix, before ingest. A liar holding an honest author's feed answers every request for it with
// the real entries, the first one's prev bytes replaced (its signature then fails). The node must
// not believe a fork of the honest author, must not keep asking for evidence, must ban only the
// liar, and must still catch up from the honest peer. SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import { peek } from '../../src/lib/core/sync/answer-shape.js';
import { fromHex, toHex } from '../../src/lib/core/bytes.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };
const WRITES = 600;
const HALF = 300;

/** `bytes` with its prev hash (in the unsigned prefix) replaced by other bytes. */
function relink(bytes: Uint8Array): Uint8Array {
  const prev = peek(bytes)!.prev;
  const at = toHex(bytes).indexOf(prev) / 2;
  const out = bytes.slice();
  out.set(fromHex(prev.replace(/./g, (ch) => (ch === 'a' ? 'b' : 'a'))), at);
  return out;
}

describe('sync red team 3: forged links for fork evidence', () => {
  it('a liar forging the link of an honest feed gets banned; no fork is believed; catch-up completes', async () => {
    for (const seed of seeds(2, 9600)) {
      const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: 1500 });
      const a = await c.addNode('a', 1, { scoring: true });
      for (let i = 0; i < WRITES; i++) await a.tl.ledger.put(`k${i}`, i);
      const author = a.tl.ledger.author;
      const forks = { asked: 0 };
      const b = await c.addNode('b', 2, { scoring: true });
      const l = await c.addNode('l', 4, {
        scoring: true,
        honest: false,
        wrapReplica: (base: SyncReplica): SyncReplica => ({
          ...base,
          getRange: async (au, from, to, max) => {
            const got = await base.getRange(au, from, to, max);
            if (au !== author || got.length === 0) return got;
            if (from === to) forks.asked++;
            return [relink(got[0]), ...got.slice(1)];
          }
        })
      });
      const n = await c.addNode('n', 3, { scoring: true });
      const src = ledgerReplica(a.tl.ledger);
      for (let f = 1; f <= WRITES; f += 64) {
        const batch = await src.getRange(author, f, f + 63, 1 << 22);
        await b.tl.ledger.ingest(batch);
        await l.tl.ledger.ingest(batch);
        if (f < HALF) await n.tl.ledger.ingest(batch.slice(0, HALF - f + 1));
      }
      await c.closeNode('a');
      c.net.offline.add('b');
      c.refreshLinks();
      const t0 = c.net.time;
      await c.net.run(() => false, t0 + 1000);
      c.net.offline.delete('b');
      c.refreshLinks();
      const done = await c.net.run(
        () => (n.tl.ledger.heads().find((h) => h.author === author)?.seq ?? 0) === WRITES,
        t0 + 60_000
      );
      const ms = Math.round(c.net.time - t0);
      await c.net.run(() => false, c.net.time + 10_000);
      const evidenceGets = forks.asked;
      const st = n.engine.status();
      console.log(
        `SEED=${seed}: done=${done} in ${ms} ms, void=${n.tl.ledger.voidFrom(author)}, evidence asks to liar ${evidenceGets}, l banned ${n.book!.isBanned('l')}, b banned ${n.book!.isBanned('b')}, missing ${st.missing} unconfirmed ${st.unconfirmed}, rej ${JSON.stringify(n.rejections.slice(0, 3))}`
      );
      expect(done, `SEED=${seed}`).toBe(true);
      expect(n.tl.ledger.voidFrom(author), `SEED=${seed}`).toBeUndefined();
      expect(n.book!.isBanned('l'), `SEED=${seed}`).toBe(true);
      expect(n.book!.isBanned('b'), `SEED=${seed}`).toBe(false);
      expect(evidenceGets, `SEED=${seed}`).toBeLessThanOrEqual(2);
      expect(st.missing, `SEED=${seed}`).toBe(0);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
    }
  }, 60_000);
});
