// A newcomer's catch-up held hostage (issue 7 red team, round 2). A peer that holds the whole
// history serves range requests with a valid prefix of ONE entry, sent just before the request
// would time out (the "slow loris": every answer is useful, so it is never refused, backed off
// or scored down). Variants: it answers instantly with the evidence form of entries the asker
// already holds (one old entry, or a duplicate pair), which §11.5 lets through as 'evidence'.
// The newcomer must still catch up at close to the honest speed: "a slow or silent peer costs
// a timeout, never a stall". SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster, type SimNode } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };
const TIMEOUT_MS = 1500;
const WRITES = 600;

type Mode = 'honest' | 'slow-one' | 'old-evidence' | 'dup-pair';

function liarReplica(mode: Mode): (r: SyncReplica) => SyncReplica {
  return (base) => ({
    ...base,
    async getRange(author, from, to, maxBytes) {
      if (mode === 'slow-one') return base.getRange(author, from, from, maxBytes);
      if (mode === 'old-evidence' && from > 1) return base.getRange(author, 1, 1, maxBytes);
      if (mode === 'dup-pair' && from > 1) {
        const [e] = await base.getRange(author, from - 1, from - 1, maxBytes);
        return [e, e];
      }
      return base.getRange(author, from, to, maxBytes);
    }
  });
}

async function catchUp(seed: number, mode: Mode): Promise<{ ms: number; done: boolean; n: SimNode }> {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: TIMEOUT_MS });
  const a = await c.addNode('a', 1, { scoring: true });
  await c.addNode('b', 2, { scoring: true });
  let armed = false;
  await c.addNode('l', 66, {
    honest: mode === 'honest',
    scoring: true,
    wrapReplica: (r) =>
      mode === 'honest' ? r : { ...r, getRange: (...x) => (armed ? liarReplica(mode)(r) : r).getRange(...x) },
    wrapSend: (to, bytes) => {
      if (!armed || mode !== 'slow-one' || decodeSyncMessage(bytes).t !== 'entries') return bytes;
      // Held back until just before the asker's timeout, then sent.
      c.net.schedule(TIMEOUT_MS - 200, () => {
        const t = c.nodes.get(to)!;
        if (t.links.has('l')) return t.engine.receive('l', encodeSyncMessage(decodeSyncMessage(bytes)));
      });
      return null;
    }
  });
  const n = await c.addNode('n', 3, { scoring: true });
  c.net.offline.add('n');
  c.refreshLinks();
  for (let i = 0; i < WRITES; i++) await a.tl.ledger.put(`k${i}`, i);
  await c.net.run(
    () => compareHonest(c).length === 0 && c.nodes.get('l')!.tl.ledger.get(`k${WRITES - 1}`) === WRITES - 1,
    120_000
  );
  armed = true;
  c.net.offline.delete('n');
  c.refreshLinks();
  const t0 = c.net.time;
  const done = await c.net.run(() => n.tl.ledger.get(`k${WRITES - 1}`) === WRITES - 1, t0 + 300_000);
  return { ms: Math.round(c.net.time - t0), done, n };
}

describe('sync red team 2: a peer that drips answers', () => {
  for (const mode of ['slow-one', 'old-evidence', 'dup-pair'] as const) {
    it(`${mode}: the newcomer catches up within 3x the honest time (+ a few timeouts)`, async () => {
      for (const seed of seeds(1, 9800)) {
        const base = await catchUp(seed, 'honest');
        const hostile = await catchUp(seed, mode);
        console.log(
          `SEED=${seed} ${mode}: ${WRITES} entries in ${hostile.ms} ms virtual (honest third peer: ${base.ms} ms), done=${hostile.done}, rejections ${JSON.stringify(hostile.n.rejections.slice(0, 3))}`
        );
        expect(base.done, `SEED=${seed}`).toBe(true);
        expect(hostile.done, `SEED=${seed}`).toBe(true);
        expect(hostile.ms, `SEED=${seed}`).toBeLessThanOrEqual(3 * base.ms + 4 * TIMEOUT_MS);
      }
    }, 60_000);
  }
});
