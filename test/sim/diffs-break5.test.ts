// An exchange's differences grow without bound (issue 7 red team, round 5). Every `final` item a
// peer sends names an author and its seq; the receiving Exchange records one Difference per
// author it does not hold (reconcile.ts record) and keeps them all until the exchange ends, when
// they go to gap fill, which tracks at most GAP_MAX_TARGETS (100,000) authors and drops the rest
// ("found again by a later exchange"). Nothing bounds the map itself: a peer that keeps an
// exchange going (one step per exchange timeout is enough) and fills each ~1 MiB step with
// ~25,000 made-up heads makes the node hold ~25,000 more Differences (an object and a 64-char
// key each, several times the 41 wire bytes) per step, for as long as it likes, and then hands
// them all to gap fill at once. SEED=n replays the heads drawn.
// Fixed (reconcile.ts record): an exchange records at most GAP_MAX_TARGETS differences of authors
// it does not hold (the most gap fill would keep); further ones are dropped as gap fill would.
import { describe, expect, it } from 'vitest';
import { HeadsTree } from '../../src/lib/core/sync/merkle.js';
import { Exchange } from '../../src/lib/core/sync/reconcile.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { BeginMsg, CompareMsg, CompareNode } from '../../src/lib/core/sync/messages.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { GAP_MAX_TARGETS, SYNC_MAX_MESSAGE_BYTES } from '../../src/lib/core/sync/constants.js';
import { seeds } from './scenario.js';

const STEPS = 8;

describe('sync red team 5: an exchange that never stops naming heads', () => {
  // Input: SEED=9980; a responder holding 1,000 feeds; a peer begins an exchange (plain begin),
  //   then sends 8 even steps, each of 24 `final` nodes of 1,024 made-up heads (~1 MiB).
  // Expected: the exchange holds at most GAP_MAX_TARGETS differences of authors it does not
  //   hold (gap fill keeps no more), plus its own heads.
  // Actual (before the fix, measured): 196,608 differences after 8 steps (24,576 per step, no
  //   bound); heap grows with every step for as long as the peer goes on.
  // Severity: medium (memory of the sync worker, unbounded per connection; the peer pays
  //   about 1/4 of the memory in upload).
  it('the differences an exchange holds are bounded', () => {
    const seed = seeds(1, 9980)[0];
    const r = mulberry32(seed);
    const hex = (n: number): string =>
      Array.from({ length: n }, () =>
        Math.floor(r() * 256)
          .toString(16)
          .padStart(2, '0')
      ).join('');
    const tree = HeadsTree.from(Array.from({ length: 1000 }, () => ({ author: hex(32), seq: 5, hash: hex(32) })));
    const opts = { random: (n: number) => new Uint8Array(n).map(() => Math.floor(r() * 256)), now: () => 0 };
    const begin: BeginMsg = { t: 'begin', xid: 1, salt: new Uint8Array(16), root: new Uint8Array(32), nodes: [] };
    const { exchange } = Exchange.respond(tree, begin, new Uint8Array(16), opts);
    let bytes = 0;
    for (let i = 0; i < STEPS; i++) {
      const nodes: CompareNode[] = Array.from({ length: 24 }, () => ({
        k: 'final',
        path: '',
        items: Array.from({ length: 1024 }, () => ({ author: hex(32), seq: 1, fp: Uint8Array.of(1, 2, 3, 4) })).sort(
          (a, b) => (a.author < b.author ? -1 : 1)
        )
      }));
      const step: CompareMsg = { t: 'compare', xid: 1, step: 2 * i + 2, nodes, end: false };
      const wire = encodeSyncMessage(step);
      expect(wire.length).toBeLessThanOrEqual(SYNC_MAX_MESSAGE_BYTES);
      bytes += wire.length;
      exchange.receive(decodeSyncMessage(wire) as CompareMsg);
    }
    const held = exchange.differences().length;
    console.log(
      `SEED=${seed} ${STEPS} steps of ${(bytes / STEPS / 1e6).toFixed(2)} MB of made-up heads: the exchange holds ${held} differences (done ${exchange.done})`
    );
    expect(held, `SEED=${seed}`).toBeLessThanOrEqual(GAP_MAX_TARGETS + tree.size);
  }, 120_000);
});
