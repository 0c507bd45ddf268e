// The ranking window against a silent over-claimer (issue 7 red team, round 4). Since round 3
// each scheduling pass ranks only the targets of READY peers, at most GAP_RANK_SCAN_PER_PEER
// (256) of each, in the order the peer's claims were learned (gap-fill.ts rankedTargets). A
// target stays in the table while ANY holder claims more than the local head. A liar announces
// every feed the newcomer lacks one seq further than it really is (fake head hash) and never
// answers a range request (its answers are dropped: timeouts). Once the newcomer holds what the
// honest peer 'a' has of the first 256 feeds 'a' claimed, those 256 still have a gap (the liar's
// +1), and they fill a's whole window on every pass: the feeds a claimed after them are never
// ranked while the liar is not ready (its 4 slots hang on silent requests, then it backs off).
// They only move in the rare pass where the liar is ready (its own window lists them), a few at a
// time, and the liar's claims are refused only after 3 rounds of timeouts each, 4 per round.
// SEED=n replays a run.
// Fixed (gap-fill.ts rankedTargets): a target takes no place in a peer's window when that peer's
// own claim is already reached; silent or busy over-claims are refused (see silentclaim-break4).
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { publicKeyFromSeed } from '../../src/lib/core/ed25519.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { yUpdateAt } from '../helpers/ledger-fixtures.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import type { FeedHead } from '../../src/lib/core/types.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };
const TIMEOUT_MS = 1500;
const FEEDS = 400;
const BUDGET_MS = Number(process.env.BUDGET_MS ?? 120_000);

/** `n` one-entry feeds of fresh keys (seq 1, a record write each), as canonical bytes. */
async function feeds(seed: number, n: number, net: Uint8Array): Promise<Uint8Array[]> {
  const r = mulberry32(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const s = new Uint8Array(32).map(() => Math.floor(r() * 256));
    const keys = { seed: s, publicKey: await publicKeyFromSeed(s) };
    const client = clientIdOf(toHex(keys.publicKey));
    const payload = yUpdateAt(`f${i}`, i, client, 0);
    const h = await createEntry(
      { keys, seq: 1, prev: new Uint8Array(32), lamport: 1, time: 1_700_000_000_000, clock: 1, payload },
      net
    );
    out.push(encodeEntry(h.entry));
  }
  return out;
}

/** A head one seq further than held, with a fake hash. */
const plusOne = (h: FeedHead): FeedHead => ({ author: h.author, seq: h.seq + 1, hash: [...h.hash].reverse().join('') });

async function run(seed: number, liar: boolean, busy = false) {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: TIMEOUT_MS });
  const a = await c.addNode('a', 1, { scoring: true });
  const bytes = await feeds(seed, FEEDS, a.tl.ledger.networkId);
  const rep = await a.tl.ledger.ingest(bytes);
  if (rep.added !== FEEDS) throw new Error(`setup: ${JSON.stringify(rep.rejected.slice(0, 2))} added ${rep.added}`);
  if (liar) {
    const l = await c.addNode('l', 4, {
      honest: false,
      // Every feed it holds, claimed one seq further (a fake head hash).
      wrapReplica: (base: SyncReplica): SyncReplica => ({
        ...base,
        heads: () => base.heads().map(plusOne),
        onHeadsChanged: (cb) => base.onHeadsChanged((hs, complete) => cb(hs.map(plusOne), complete))
      }),
      // Silent: every range answer is dropped.
      wrapSend: (_to, b) => {
        const m = decodeSyncMessage(b);
        if (m.t !== 'entries') return b;
        // busy: an immediate "sync-busy" error instead of silence.
        return busy ? encodeSyncMessage({ t: 'error', rid: m.rid, xid: 0, code: 'sync-busy', message: 'busy' }) : null;
      }
    });
    await l.tl.ledger.ingest(bytes);
  }
  const n = await c.addNode('n', 3, { scoring: true });
  c.refreshLinks();
  const t0 = c.net.time;
  const held = (): number => n.tl.ledger.heads().filter((h) => h.author !== n.tl.ledger.author).length;
  const done = await c.net.run(() => held() >= FEEDS, t0 + BUDGET_MS);
  const ms = c.net.time - t0;
  console.log(
    `SEED=${seed} liar=${liar}${busy ? ' (busy errors)' : ''}: n holds ${held()}/${FEEDS} feeds after ${ms} ms (done ${done}); missing ${n.engine.status().missing}`
  );
  return { ms, done, held: held() };
}

describe('sync red team 4: a silent over-claimer jams the ranking window', () => {
  it('control: honest only, the newcomer gets 400 feeds quickly', async () => {
    const seed = seeds(1, 9990)[0];
    const { done, ms } = await run(seed, false);
    expect(done, `SEED=${seed}`).toBe(true);
    expect(ms, `SEED=${seed}`).toBeLessThan(15_000);
  }, 60_000);

  // Input: SEED=9990; honest 'a' holds 400 one-entry feeds; liar 'l' holds them too and claims
  //   each at seq 2 (fake hash), never answering a range request; newcomer 'n' links to both.
  // Expected: n gets all 400 feeds from a at near honest speed (within 3x of honest-only).
  // Actual: honest only, 400/400 after 3.6 s. With the liar: 276/400 after 120 s, and all 400
  //   only after 868 s (BUDGET_MS=1200000), ~240x slower; a's first 256 claims come in within
  //   ~3 s, then the rest trickle in a few per liar back-off cycle. (status.missing 524 at
  //   120 s, so at least the node knows it is behind.)
  // Suggested fix (gap-fill.ts rankedTargets): skip, without counting it against the peer's
  //   window, a target that this peer cannot serve (its own claim <= the local head) -- the
  //   window should hold only targets the peer can be asked for (holders.get(peer) > local).
  it('with a silent liar claiming +1 on every feed: within 3x of honest-only', async () => {
    const seed = seeds(1, 9990)[0];
    const honest = await run(seed, false);
    const { done, ms } = await run(seed, true);
    expect(done, `SEED=${seed}`).toBe(true);
    expect(ms, `SEED=${seed}`).toBeLessThan(3 * honest.ms);
  }, 60_000);

  // Input: as above, but the liar answers every range request at once with a "sync-busy" error
  //   instead of staying silent.
  // Expected: as above.
  // Actual: 400/400 only after 814 s (BUDGET_MS=1200000). An error answer calls
  //   GapFill.fail(rid) without `timedOut`: backoff only, and the claim is NEVER refused (rule
  //   4 counts only timeouts), so the +1 claims stay in the table for as long as the liar is
  //   connected (missing stays 400 after the catch-up, too).
  // Suggested fix: as above, and count error answers to a claim like timeouts (or like "nothing").
  it('with a liar answering "sync-busy" to every request: within 3x of honest-only', async () => {
    const seed = seeds(1, 9990)[0];
    const honest = await run(seed, false);
    const { done, ms } = await run(seed, true, true);
    expect(done, `SEED=${seed}`).toBe(true);
    expect(ms, `SEED=${seed}`).toBeLessThan(3 * honest.ms);
  }, 60_000);
});
