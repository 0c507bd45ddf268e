// A fork whose branches have different lengths (issue 7 red team, round 2). An author signs a
// common prefix (seq 1..2), then branch A (seq 3..5) given to honest node 'p' and branch B
// (seq 3..10) given to honest node 'q'. Their heads differ by seq (5 vs 10), not by hash at one
// seq, so the Merkle comparison reports "p lacks 6..10", not a fork; the entries q serves do not
// link to p's seq 5. The honest nodes must still find the fork, void the feed (from the same
// seq on every node: 5 when the evidence found is the pair at seq 5) and agree on heads roots,
// and ban nobody. Optional third honest node 'r' starts empty.
// SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { isBanOffence } from '../../src/lib/core/peers/offences.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';

const link = { loss: 0.02, dup: 0.02, latencyMin: 2, latencyMax: 40 };

async function run(seed: number, lenA: number, lenB: number) {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000 });
  const p = await c.addNode('p', 1, { scoring: true });
  const q = await c.addNode('q', 2, { scoring: true });
  const r = await c.addNode('r', 3, { scoring: true });
  const keys = await keysFromByte(99);
  const evil = toHex(keys.publicKey);
  const net = p.tl.ledger.networkId;
  const prefix = await makeChain(keys, 2, net);
  const a = await makeChain(keys, lenA, net, prefix[1], 'A');
  const b = await makeChain(keys, lenB, net, prefix[1], 'B');
  await p.tl.ledger.ingest([...prefix, ...a].map((h) => encodeEntry(h.entry)));
  await q.tl.ledger.ingest([...prefix, ...b].map((h) => encodeEntry(h.entry)));
  c.refreshLinks();
  const nodes = [p, q, r];
  const voids = () => new Set(nodes.map((n) => n.tl.ledger.voidFrom(evil)));
  const ok = () => voids().size === 1 && !voids().has(undefined) && compareHonest(c).length === 0;
  await c.net.run(ok, 60_000);
  const bans = nodes.flatMap((n) =>
    n.rejections.filter((x) => isBanOffence(x.code)).map((x) => `${n.id}<-${x.peer}:${x.code}`)
  );
  console.log(
    `SEED=${seed} branches ${lenA}/${lenB}: void from ${nodes.map((n) => n.tl.ledger.voidFrom(evil))}, heads ${nodes.map((n) => n.tl.ledger.heads().find((h) => h.author === evil)?.seq)}, roots equal ${new Set(nodes.map((n) => headsRoot(n.tl.ledger.heads()))).size === 1}, pending ${nodes.map((n) => n.tl.ledger.stats().pending)}, missing ${nodes.map((n) => n.engine.status().missing)}, bans ${JSON.stringify(bans)} at ${Math.round(c.net.time)} ms`
  );
  return { ok: ok(), bans, c };
}

describe('sync red team 2: a fork with branches of different lengths', () => {
  it('equal lengths (the Merkle exchange sees a fork): every node voids the feed (control)', async () => {
    for (const seed of seeds(1, 9600)) {
      const { ok, bans } = await run(seed, 3, 3);
      expect(ok, `SEED=${seed}`).toBe(true);
      expect(bans, `SEED=${seed}`).toEqual([]);
    }
  }, 60_000);

  // Input: SEED=9600; author key 99 signs seq 1..2, then branch A (3..5) and branch B (3..10);
  //   honest 'p' holds 1..2 + A, honest 'q' holds 1..2 + B, honest 'r' is empty; all connected,
  //   2% loss and duplication, no gossip; 60 s of virtual time.
  // Expected: as with equal lengths (the test above): every node holds fork evidence, voids the
  //   feed from one seq, and all three have the same heads root; nothing stays missing.
  // Actual: (console line) nobody finds the fork: p and r stay at A's seq 5, q at B's seq 10;
  //   p and r keep B's 7..10 (or 6..10) in the pending buffer and report 5 entries missing
  //   forever, re-asking q every period; heads roots never agree. The Merkle exchange only
  //   reports "p lacks 6..10" (different seqs, so no fork flag), and B6's broken link to A5 is
  //   scored (not a ban: right) but never turned into a request for the evidence.
  // Fixed (engine.ts checkLink): an answer for local+1 that does not link asks the peer for its
  //   entry at seq local, a fork want.
  // Suggested fix was: when an answer's first entry (seq local+1) does not link to the local head,
  //   ask the same peer for its entry at seq `local` (a fork want, like the same-seq case): its
  //   different hash there is the fork evidence (or, equivalently, let the exchange report a
  //   fork when theirs > mine and the peer's record of seq `mine` differs; that needs the
  //   entry's hash at mine, which a range request for mine..mine fetches).
  it('branch B longer: every node voids the feed and agrees', async () => {
    for (const seed of seeds(1, 9600)) {
      const { ok, bans } = await run(seed, 3, 8);
      expect(ok, `SEED=${seed}`).toBe(true);
      expect(bans, `SEED=${seed}`).toEqual([]);
    }
  }, 60_000);
});
