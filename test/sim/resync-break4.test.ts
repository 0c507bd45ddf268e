// Repeated exchanges by an "empty" peer: upload amplification (issue 7 red team, round 4). A peer
// that holds nothing (or says so) and starts a Merkle exchange makes the responder descend to
// every leaf and name every head it holds in full (`answer`/`final` items, ~50 bytes per head);
// that is right once, for a newcomer. Nothing limits how often one peer may begin exchanges
// (engine.ts: at most SYNC_MAX_OPEN_EXCHANGES open at once, none per unit of time), and a peer
// that never fetches anything still asks again and again. A liar running a real engine over an
// empty replica calls syncWith() every 200 ms; the victim holds 20,000 feeds. SEED=n replays.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import { SYNC_PERIOD_MS } from '../../src/lib/core/sync/constants.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };
const FEEDS = 20_000;
const RUN_MS = 20_000;

function fakeHeads(n: number, seed: number): FeedHead[] {
  const r = mulberry32(seed);
  const hex = (bytes: number): string =>
    Array.from({ length: bytes }, () =>
      Math.floor(r() * 256)
        .toString(16)
        .padStart(2, '0')
    ).join('');
  return Array.from({ length: n }, () => ({ author: hex(32), seq: 1 + Math.floor(r() * 100), hash: hex(32) }));
}

async function run(seed: number, everyMs: number | null) {
  // The production anti-entropy period (SYNC_PERIOD_MS), so the control is what a real node pays.
  const c = new Cluster({ seed, link, gossip: false, periodMs: SYNC_PERIOD_MS, timeoutMs: 1500 });
  const heads = fakeHeads(FEEDS, seed);
  // The victim's heads (a replica standing for 20,000 feeds; range requests are not part of this).
  const n = await c.addNode('n', 3, {
    wrapReplica: (base: SyncReplica): SyncReplica => ({ ...base, heads: () => heads, entryCount: () => FEEDS })
  });
  const l = await c.addNode('l', 4, { honest: false });
  c.refreshLinks();
  await c.net.run(() => false, c.net.time + 2000);
  const before = n.engine.status().peers.find((p) => p.peer === 'l')!;
  const t0 = c.net.time;
  const again = (): void => {
    l.engine.syncWith('n');
    if (everyMs !== null) c.net.schedule(everyMs, again);
  };
  if (everyMs !== null) c.net.schedule(0, again);
  await c.net.run(() => false, t0 + RUN_MS);
  const after = n.engine.status().peers.find((p) => p.peer === 'l')!;
  const out = after.bytesOut - before.bytesOut;
  const inn = after.bytesIn - before.bytesIn;
  console.log(
    `SEED=${seed} liar re-syncs every ${everyMs ?? '-'} ms: over ${RUN_MS / 1000} s n sent ${(out / 1e6).toFixed(1)} MB to l and received ${(inn / 1e3).toFixed(1)} KB (x${Math.round(out / Math.max(1, inn))}); exchanges l->n completed ${after.exchangesCompleted}`
  );
  return { out, inn };
}

describe('sync red team 4: an empty peer re-syncing back to back', () => {
  // Input: SEED=9860; victim n holds 20,000 feeds; liar l (a real engine, empty replica) links
  //   and then calls syncWith(n) every 200 ms for 20 s.
  // Expected: n's upload to one peer is bounded per unit of time, near what the periodic
  //   anti-entropy alone costs (control: l never re-syncs): within 3x of the control.
  // Actual: control (production period, 30-60 s) 0.8 MB in 20 s; with the re-syncs 19.0 MB
  //   (24x; l sent 119.6 KB: x158), i.e. ~1 MB/s of upload per hostile connection for ~6 KB/s
  //   of requests, for as long as it stays connected (no ban: every message is valid).
  // Suggested fix (engine.ts begin): rate-limit the exchanges a peer may begin (e.g. one per
  //   SYNC_PERIOD_MS / 4, refusals answered sync-busy), or remember the last exchange's result
  //   per peer and answer a repeat begin with an unchanged root cheaply.
  it('n uploads to one re-syncing peer within 3x of the periodic anti-entropy', async () => {
    const seed = seeds(1, 9860)[0];
    const control = await run(seed, null);
    const { out } = await run(seed, 200);
    expect(out, `SEED=${seed}`).toBeLessThanOrEqual(3 * control.out);
  }, 60_000);
});
