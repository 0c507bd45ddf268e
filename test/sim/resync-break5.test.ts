// Round 4's re-sync fix, bypassed by a made-up root (issue 7 red team, round 5). resync-break4
// (an empty peer re-beginning exchanges back to back made the responder list every head it holds
// each time) was fixed in engine.ts: a begin "the same comparison again" (neither root moved since
// the last exchange this peer began completed), within half a period, is refused with sync-busy.
// But "the peer's root" is whatever its begin says. A liar that writes a different (made-up) root
// into each begin is never "the same comparison", and gets the full listing every time; its
// nodes and later steps are unchanged, so the exchange runs as before. SEED=n replays a run.
// Fixed (engine.ts begin, session.ts): the compare bytes sent in exchanges a peer begins are a
// leaky bucket of one naming of every head we hold (41 B each) plus 64 KiB per period; past it,
// its begins get sync-busy, whatever root they state (17.5 MB -> 2.2 MB in 20 s).
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import { SYNC_PERIOD_MS } from '../../src/lib/core/sync/constants.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';

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

async function run(seed: number, everyMs: number | null, vary = false) {
  // The production anti-entropy period (SYNC_PERIOD_MS), so the control is what a real node pays.
  const c = new Cluster({ seed, link, gossip: false, periodMs: SYNC_PERIOD_MS, timeoutMs: 1500 });
  const heads = fakeHeads(FEEDS, seed);
  // The victim's heads (a replica standing for 20,000 feeds; range requests are not part of this).
  const n = await c.addNode('n', 3, {
    wrapReplica: (base: SyncReplica): SyncReplica => ({ ...base, heads: () => heads, entryCount: () => FEEDS })
  });
  let k = 0;
  const l = await c.addNode('l', 4, {
    honest: false,
    // Each begin names another (made-up) root: never "the same comparison again".
    wrapSend: (_to, b) => {
      const m = decodeSyncMessage(b);
      if (m.t !== 'begin' || !vary) return b;
      k++;
      return encodeSyncMessage({ ...m, root: Uint8Array.from({ length: 32 }, (_, i) => (k * 31 + i) & 255) });
    }
  });
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

describe('sync red team 5: re-syncing with a made-up root each time', () => {
  // Input: SEED=9860; as resync-break4: victim n holds 20,000 feeds; liar l (a real engine, empty
  //   replica) calls syncWith(n) every 200 ms for 20 s, and rewrites the root of each of its
  //   begins (a counter), which costs it nothing.
  // Expected: n's upload to l within 3x of the periodic anti-entropy alone (control: 0.8 MB).
  // Actual (before the fix, measured): 17.5 MB in 20 s (22x; l sent 121 KB: x144), 24 exchanges
  //   completed, as before round 4's fix. After: 2.2 MB, 4 exchanges (the first full listing
  //   still counts: a newcomer gets it at once).
  // Severity: medium (upload amplification ~150x per hostile connection, ~0.9 MB/s, no ban).
  // Suggested fix was (engine.ts begin): do not key the rate limit on the root the peer states: allow
  //   a peer one begun exchange per SYNC_PERIOD_MS / 4 (more: sync-busy, the initiator retrying
  //   after a jittered timeout) unless OUR root moved since its last one; or budget the compare
  //   bytes uploaded to one peer per period (e.g. 2 full listings) and answer sync-busy past it.
  it('n uploads to one re-syncing peer within 3x of the periodic anti-entropy', async () => {
    const seed = seeds(1, 9860)[0];
    const control = await run(seed, null);
    const { out } = await run(seed, 200, true);
    expect(out, `SEED=${seed}`).toBeLessThanOrEqual(3 * control.out);
  }, 60_000);
});
