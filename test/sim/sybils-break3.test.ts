// Twenty slow Sybils against the "idle peer gets one slot" rule (issue 7 red team, round 3).
// Since round 2, over GAP_MAX_REQUESTS_TOTAL a peer with nothing in flight still gets one request.
// Twenty colluders, each announcing 40 fake feeds at seq 1 and answering every request with
// nothing just before it times out, each take that extra slot. The newcomer must still catch up
// with an honest peer's 600 entries near honest speed, and its requests in flight must stay
// within GAP_MAX_REQUESTS_TOTAL + one per peer (at most GAP_MAX_REQUESTS_PER_PEER per peer).
// SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { GAP_MAX_REQUESTS_PER_PEER, GAP_MAX_REQUESTS_TOTAL } from '../../src/lib/core/sync/constants.js';
import { decodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };
const TIMEOUT_MS = 1500;
const WRITES = 600;
const FAKES = 40;
const SYBILS = 20;

function fakeHeads(n: number, seed: number): FeedHead[] {
  const r = mulberry32(seed);
  const hex = (bytes: number): string =>
    Array.from({ length: bytes }, () =>
      Math.floor(r() * 256)
        .toString(16)
        .padStart(2, '0')
    ).join('');
  return Array.from({ length: n }, () => ({ author: hex(32), seq: 1, hash: hex(32) }));
}

async function catchUp(
  seed: number,
  sybils: number
): Promise<{ ms: number; done: boolean; maxInFlight: number; maxPerPeer: number }> {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: TIMEOUT_MS });
  const a = await c.addNode('a', 1, { scoring: true });
  for (let i = 0; i < WRITES; i++) await a.tl.ledger.put(`k${i}`, i);
  const n = await c.addNode('n', 3, { scoring: true });
  for (let s = 0; s < sybils; s++) {
    const id = `s${s}`;
    const fakes = fakeHeads(FAKES, seed * 10 + s);
    const fake = new Set(fakes.map((f) => f.author));
    await c.addNode(id, 70 + s, {
      honest: false,
      wrapReplica: (base: SyncReplica): SyncReplica => ({
        ...base,
        heads: () => [...base.heads(), ...fakes],
        getRange: async (author, from, to, max) => (fake.has(author) ? [] : base.getRange(author, from, to, max))
      }),
      wrapSend: (to, bytes) => {
        if (decodeSyncMessage(bytes).t !== 'entries') return bytes;
        c.net.schedule(TIMEOUT_MS - 200, () => {
          const t = c.nodes.get(to)!;
          if (t.links.has(id)) return t.engine.receive(id, bytes);
        });
        return null;
      }
    });
  }
  // The colluders are met first (as when a newcomer's first links are to them); a comes 2 s later.
  if (sybils > 0) {
    c.net.offline.add('a');
    c.refreshLinks();
    await c.net.run(() => false, c.net.time + 2000);
    c.net.offline.delete('a');
  }
  c.refreshLinks();
  const t0 = c.net.time;
  let maxInFlight = 0;
  let maxPerPeer = 0;
  const done = await c.net.run(() => {
    const st = n.engine.status();
    maxInFlight = Math.max(
      maxInFlight,
      st.peers.reduce((s, p) => s + p.rangesInFlight, 0)
    );
    maxPerPeer = Math.max(maxPerPeer, ...st.peers.map((p) => p.rangesInFlight));
    return n.tl.ledger.get(`k${WRITES - 1}`) === WRITES - 1;
  }, t0 + 300_000);
  const ms = Math.round(c.net.time - t0);
  console.log(
    `SEED=${seed} ${sybils} sybils × ${FAKES} fake feeds: ${WRITES} entries in ${ms} ms virtual, done=${done}, max in flight ${maxInFlight} (per peer ${maxPerPeer}), newcomer holds ${n.tl.ledger.heads().find((h) => h.author === a.tl.ledger.author)?.seq ?? 0}`
  );
  return { ms, done, maxInFlight, maxPerPeer };
}

describe('sync red team 3: many slow Sybils and the idle-peer slot', () => {
  it('twenty Sybils: catch-up near honest speed, in-flight requests bounded', async () => {
    const seed = seeds(1, 9900)[0];
    const base = await catchUp(seed, 0);
    const hostile = await catchUp(seed, SYBILS);
    expect(hostile.done, `SEED=${seed}`).toBe(true);
    expect(hostile.ms, `SEED=${seed}`).toBeLessThanOrEqual(3 * base.ms + 4 * TIMEOUT_MS);
    expect(hostile.maxInFlight, `SEED=${seed}`).toBeLessThanOrEqual(GAP_MAX_REQUESTS_TOTAL + SYBILS + 1);
    expect(hostile.maxPerPeer, `SEED=${seed}`).toBeLessThanOrEqual(GAP_MAX_REQUESTS_PER_PEER);
  }, 60_000);
});
