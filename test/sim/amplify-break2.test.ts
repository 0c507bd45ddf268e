// Compare-step amplification (issue 7 red team, round 2). A hostile peer begins an exchange
// whose begin (or any later step) lists the SAME path many times: 512 empty `items` nodes at
// the root path, about 1.5 KB on the wire (up to 4,096 fit in one step), valid for the decoder
// (paths may repeat). Each one
// makes the honest responder list and fingerprint every head under the path and queue an answer
// naming them all. SEED=n replays the heads drawn.
import { describe, expect, it } from 'vitest';
import { HeadsTree } from '../../src/lib/core/sync/merkle.js';
import { Exchange } from '../../src/lib/core/sync/reconcile.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { BeginMsg, CompareNode } from '../../src/lib/core/sync/messages.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { seeds } from './scenario.js';
import type { FeedHead } from '../../src/lib/core/types.js';

/** Nodes per hostile step (the wire allows SYNC_MAX_COMPARE_ENTRIES = 4,096: measured 17 s and 26 s CPU). */
const NODES = 512;

function heads(n: number, seed: number): FeedHead[] {
  const r = mulberry32(seed);
  const hex = (bytes: number): string =>
    Array.from({ length: bytes }, () =>
      Math.floor(r() * 256)
        .toString(16)
        .padStart(2, '0')
    ).join('');
  return Array.from({ length: n }, () => ({ author: hex(32), seq: 1 + Math.floor(r() * 100), hash: hex(32) }));
}

function attack(seed: number, feeds: number, node: (i: number) => CompareNode) {
  const tree = HeadsTree.from(heads(feeds, seed));
  const r = mulberry32(seed ^ 7);
  const opts = {
    random: (n: number) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256)),
    now: () => 0
  };
  const begin: BeginMsg = {
    t: 'begin',
    xid: 1,
    salt: new Uint8Array(16).fill(1),
    root: new Uint8Array(32),
    nodes: Array.from({ length: NODES }, (_, i) => node(i))
  };
  const wire = encodeSyncMessage(begin);
  const decoded = decodeSyncMessage(wire) as BeginMsg; // the decoder accepts it
  const t0 = performance.now();
  const { exchange } = Exchange.respond(tree, decoded, new Uint8Array(16).fill(2), opts);
  const cpuMs = performance.now() - t0;
  const queue = (exchange as unknown as { queue: CompareNode[] }).queue;
  const queuedHeads = queue.reduce((s, q) => s + ('items' in q ? q.items.length : 0), 0);
  console.log(
    `SEED=${seed} ${feeds} feeds, begin of ${wire.length} B with ${decoded.nodes.length} × ${node(0).k} at "${node(0).path}": respond() took ${cpuMs.toFixed(0)} ms CPU, ${queue.length} nodes / ${queuedHeads} heads left queued`
  );
  return { cpuMs, queuedHeads, wireBytes: wire.length };
}

describe('sync red team 2: one small compare step, much work', () => {
  // Input: SEED=9900; an honest responder with 1,000 feeds; a begin (wrong root) whose nodes are
  //   512 `items` nodes at path "" with no items (~1.5 KB; the wire allows 4,096, ~12 KB).
  // Expected: work and memory proportional to the message and to the responder's own heads
  //   (repeated paths refused as malformed, or answered once): well under 100 ms and a few
  //   thousand heads queued.
  // Actual: (console line) onItems() runs once per node: 512 × 1,000 SipHash fingerprints and
  //   511 answers of 1,000 full heads each queued in the exchange (~4 s CPU on this machine,
  //   511k WireItems). With 4,096 nodes (~12 KB): 17 s CPU in one receive() and ~4M WireItems
  //   queued (~200 MB of wire at 49 B each, sent 48 KB per step for as long as the peer keeps
  //   stepping). Any connected peer can repeat it with two open exchanges at a time.
  // Fixed (reconcile.ts): a path is opened or listed once per exchange; repeats are ignored.
  // Suggested fix was: refuse (SyncMalformedError) a step that names one path twice, or a path the
  //   receiver did not ask about (children/items only under a path it reported as differing, or
  //   the root in a begin); cap the queue per exchange (e.g. 4 × SYNC_MAX_STEP_BYTES) and abort
  //   the exchange past it.
  it('512 empty listings of the root path cost little', () => {
    const seed = seeds(1, 9900)[0];
    const { queuedHeads } = attack(seed, 1000, () => ({ k: 'items', path: '', items: [] }));
    expect(queuedHeads, `SEED=${seed}`).toBeLessThanOrEqual(10_000);
  }, 60_000);

  // Same with 512 `children` nodes at "" whose 16 fingerprints are all absent: each one is "the peer
  // holds nothing here", and theyLackAll("") queues finals with every head.
  it('512 empty children of the root path cost little', () => {
    const seed = seeds(1, 9900)[0];
    const fps = Array.from({ length: 16 }, () => undefined);
    const { queuedHeads } = attack(seed, 1000, () => ({ k: 'children', path: '', fps }));
    expect(queuedHeads, `SEED=${seed}`).toBeLessThanOrEqual(10_000);
  }, 60_000);
});
