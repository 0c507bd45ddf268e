// The peer's listings pile up in an exchange (issue 7 red team, round 5). Each `items` node a peer
// sends queues a deferred answer holding the peer's compact items (up to 1,024 per node) until a
// step has room to build it (reconcile.ts: steps are built lazily, ~48 KB each). Round 2
// (amplify-break2) made each path answered once per exchange, but paths are many (every prefix of
// up to 16 nibbles). A peer that fills each ~1 MiB step with ~140 full listings at distinct
// paths where the node holds heads (so each answer is large and few fit in a step) makes the
// queue grow by ~100 listings (~100,000 items) per step: memory grows with everything the peer
// sent, for as long as it sends one step per exchange timeout. SEED=n replays the heads drawn.
// Fixed (reconcile.ts answerItems): a listing is matched when it arrives and only the result is
// queued (1 bit per listed item, references to my differing heads there), never the peer's
// items; the answer's wire node is still built only when a step has room for it.
import { describe, expect, it } from 'vitest';
import { HeadsTree } from '../../src/lib/core/sync/merkle.js';
import { Exchange } from '../../src/lib/core/sync/reconcile.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { BeginMsg, CompareMsg, CompareNode } from '../../src/lib/core/sync/messages.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { seeds } from './scenario.js';

const FEEDS = 100_000;
const STEPS = 10;
const PER_STEP = 140;
const HEX = '0123456789abcdef';

describe('sync red team 5: listings that pile up in an exchange', () => {
  // Input: SEED=9990; a responder holding 100,000 feeds; a plain begin, then 10 steps of 140
  //   `items` nodes (1,024 made-up items each, ~1 MiB) at distinct 3-nibble paths (~24 heads of
  //   the responder each).
  // Expected: what an exchange keeps queued is bounded (e.g. a few steps' worth: under 50,000
  //   items), whatever the peer sends.
  // Actual (measured): 1,030,144 of the peer’s items queued after 10 steps (~100k per step),
  //   in 1,006 deferred answers waiting; at ~100+ bytes per decoded item, ~100 MB per 10 MiB
  //   received, without bound (4,096 paths of 3 nibbles, 65,536 of 4...).
  // After the fix (measured): 0 of the peer's items queued; the 1,006 queued answers hold 128,768
  //   bitmap bytes and 24,526 references to my heads; the exchange's heap after the 10 MB is
  //   ~4.7 MB (0.65 MB queue, the rest differences recorded for my heads), was ~275 MB.
  // Severity: medium (memory of the sync worker per connection; the peer pays its upload).
  // Suggested fix (reconcile.ts): answer a listing when it arrives into a compact result (the
  //   unmatched bitmap, 1 bit per peer item, and references to my differing heads) and queue
  //   that, not the peer's items: memory then stays ~1/50 of what the peer sends plus my own
  //   heads. A plain cap on queued items would also cut honest exchanges short: an honest
  //   answer is up to ~5x its listing (my heads in full), so an honest backlog grows too.
  it('the peer items an exchange keeps queued are bounded', () => {
    const seed = seeds(1, 9990)[0];
    const r = mulberry32(seed);
    const hex = (n: number): string =>
      Array.from({ length: n }, () =>
        Math.floor(r() * 256)
          .toString(16)
          .padStart(2, '0')
      ).join('');
    const tree = HeadsTree.from(Array.from({ length: FEEDS }, () => ({ author: hex(32), seq: 5, hash: hex(32) })));
    const opts = { random: (n: number) => new Uint8Array(n).map(() => Math.floor(r() * 256)), now: () => 0 };
    const begin: BeginMsg = { t: 'begin', xid: 1, salt: new Uint8Array(16), root: new Uint8Array(32), nodes: [] };
    const { exchange } = Exchange.respond(tree, begin, new Uint8Array(16), opts);
    let path = 0;
    let bytes = 0;
    for (let i = 0; i < STEPS; i++) {
      const nodes: CompareNode[] = Array.from({ length: PER_STEP }, () => {
        const p = path++;
        return {
          k: 'items',
          path: HEX[(p >> 8) & 15] + HEX[(p >> 4) & 15] + HEX[p & 15],
          items: Array.from({ length: 1024 }, (_, k) => ({ tag: k, seq: 1, fp: Uint8Array.of(1, 2, 3, 4) }))
        };
      });
      const wire = encodeSyncMessage({ t: 'compare', xid: 1, step: 2 * i + 2, nodes, end: false });
      bytes += wire.length;
      exchange.receive(decodeSyncMessage(wire) as CompareMsg);
    }
    type Entry = { lazy?: string; theirs?: unknown[]; unmatched?: Uint8Array; mine?: unknown[] };
    const queue = (exchange as unknown as { queue: Entry[] }).queue;
    const deferred = queue.filter((q) => q.lazy === 'answer');
    const items = deferred.reduce((n, q) => n + (q.theirs?.length ?? 0), 0);
    const bits = deferred.reduce((n, q) => n + (q.unmatched?.length ?? 0), 0);
    const mine = deferred.reduce((n, q) => n + (q.mine?.length ?? 0), 0);
    console.log(
      `SEED=${seed} ${STEPS} steps (${(bytes / 1e6).toFixed(1)} MB) of listings: ${deferred.length} deferred answers holding ${items} of the peer's items (${bits} bitmap bytes, ${mine} references to my heads)`
    );
    expect(items, `SEED=${seed}`).toBeLessThanOrEqual(50_000);
  }, 120_000);
});
