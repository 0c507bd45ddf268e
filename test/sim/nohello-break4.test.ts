// "Say hello again", on demand and without limit (issue 7 red team, round 4). engine.ts onError:
// an error with code 'sync-no-hello' ("your hello did not arrive") makes the node send its hello
// again, every time, at once. A hello carries the node's coverage (what a light replica or a
// pruned full replica holds of each feed, up to SYNC_MAX_COVERAGE = 4,096 exceptions, ~40 bytes
// each). A peer sending tiny 'sync-no-hello' errors gets a full hello back for each: for a light
// node with a full coverage list, ~150 KB per ~20-byte message. SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import { SYNC_MAX_COVERAGE } from '../../src/lib/core/sync/constants.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import type { CoverageException } from '../../src/lib/core/sync/messages.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };
const ERRORS = 200;

async function run(seed: number) {
  const r = mulberry32(seed);
  const hex = (n: number): string =>
    Array.from({ length: n }, () =>
      Math.floor(r() * 256)
        .toString(16)
        .padStart(2, '0')
    ).join('');
  const coverage: CoverageException[] = Array.from({ length: SYNC_MAX_COVERAGE }, () => ({
    author: hex(32),
    from: 1000 + Math.floor(r() * 1000)
  }));
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: 1500 });
  // A light replica that holds the tail of 4,096 feeds (its hello lists them all).
  const n = await c.addNode('n', 3, {
    wrapReplica: (base: SyncReplica): SyncReplica => ({ ...base, role: 'light', coverage: () => coverage })
  });
  await c.addNode('l', 4, { honest: false });
  c.refreshLinks();
  await c.net.run(() => false, c.net.time + 1000);
  const before = n.engine.status().peers.find((p) => p.peer === 'l')!;
  const err = encodeSyncMessage({ t: 'error', rid: 0, xid: 0, code: 'sync-no-hello', message: '' });
  for (let i = 0; i < ERRORS; i++) await n.engine.receive('l', err);
  const after = n.engine.status().peers.find((p) => p.peer === 'l')!;
  const out = after.bytesOut - before.bytesOut;
  const inn = after.bytesIn - before.bytesIn;
  console.log(
    `SEED=${seed} ${ERRORS} 'sync-no-hello' errors of ${err.length} bytes: n sent ${(out / 1e6).toFixed(1)} MB back (x${Math.round(out / inn)})`
  );
  return { out, inn };
}

describe('sync red team 4: hello on demand', () => {
  // Input: SEED=9910; light node n with 4,096 coverage exceptions; peer l (after a normal
  //   hello) sends 200 'sync-no-hello' errors of 18 bytes.
  // Expected: n sends its hello again at most once per exchange timeout (or only while it has
  //   not seen the peer's reply to its hello): under 3 hellos for the burst.
  // Actual: one full hello (~140 KB) per error: 27.9 MB sent for 3.6 KB received (x7,742).
  // Suggested fix (engine.ts onError): re-send the hello at most once per
  //   SYNC_EXCHANGE_TIMEOUT_MS per session (as tick() already does), and only while no message
  //   of the peer has shown that it has ours (it sent begin/compare/get after our hello).
  it("n's answers to a burst of 'sync-no-hello' stay under 3 hellos", async () => {
    const seed = seeds(1, 9910)[0];
    const { out } = await run(seed);
    const hello = 40 * SYNC_MAX_COVERAGE; // a hello with a full coverage list, roughly
    expect(out, `SEED=${seed}`).toBeLessThan(3 * hello);
  }, 30_000);
});
