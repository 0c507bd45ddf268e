// A fingerprint collision hides a difference for one exchange only (PROTOCOL.md §11.2, "Bound").
// Child fingerprints are 3-byte SipHash-2-4 prefixes under a per-exchange salt mixed from both
// sides. INITIATOR_SALT below was found by search (about 2.9 million tries of the counter in its
// first 4 bytes, little-endian, the rest zero) so that, with the responder's hello salt all zero,
// the root child holding the changed head has the same 3-byte fingerprint on both sides: the
// first exchange cannot see the difference. The tests check that the collision is real, that the
// exchange then does not count the roots as equal, and that the next exchange (a fresh salt)
// finds the difference, both for two Exchanges and for two SyncEngines on periodic anti-entropy.
import { describe, expect, it } from 'vitest';
import { HeadsTree, exchangeSalt, fingerprint, fingerprintKey } from '../../src/lib/core/sync/merkle.js';
import { Exchange, type Difference, type ExchangeOptions } from '../../src/lib/core/sync/reconcile.js';
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { CompareMsg, ReplyMsg, SyncMsg } from '../../src/lib/core/sync/messages.js';
import { SYNC_CHILD_FP_BYTES } from '../../src/lib/core/sync/constants.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import { mulberry32, randomBytes } from '../helpers/fake-feed.js';
import { randomHead } from '../helpers/sync-fixtures.js';

const COUNTER = 2_943_891;
const INITIATOR_SALT = Uint8Array.of(
  COUNTER & 0xff,
  (COUNTER >>> 8) & 0xff,
  (COUNTER >>> 16) & 0xff,
  0,
  ...new Array(12).fill(0)
);
const RESPONDER_SALT = new Uint8Array(16);
const PERIOD_MS = 30_000;

const heads: FeedHead[] = (() => {
  const rand = mulberry32(7007);
  return Array.from({ length: 40 }, () => randomHead(rand));
})();
/** B holds one more entry of heads[0]'s author. */
const changed: FeedHead = { ...heads[0], seq: heads[0].seq + 1, hash: 'cd'.repeat(32) };
const headsB = [changed, ...heads.slice(1)];

const wire = <T extends SyncMsg>(m: T): T => decodeSyncMessage(encodeSyncMessage(m)) as T;

/** One exchange A (initiator, own salt `salt`) ↔ B (hello salt RESPONDER_SALT), through the codec. */
function exchange(ta: HeadsTree, tb: HeadsTree, salt: Uint8Array): { a: Exchange; b: Exchange } {
  const opts: ExchangeOptions = { random: () => salt.slice(), now: () => 0 };
  const { exchange: a, begin } = Exchange.initiate(ta, 1, RESPONDER_SALT, opts);
  const { exchange: b, reply } = Exchange.respond(tb, wire(begin), RESPONDER_SALT, opts);
  let next: ReplyMsg | CompareMsg | null = wire(reply);
  for (let toA = true, n = 0; next && n < 50; toA = !toA, n++) {
    const out: CompareMsg | null = (toA ? a : b).receive(next);
    next = out && wire(out);
  }
  expect(a.done && b.done).toBe(true);
  return { a, b };
}

const authorsOf = (ds: Difference[]) => ds.map((d) => d.author);

describe('a fingerprint collision hides a difference for one exchange only', () => {
  const ta = HeadsTree.from(heads);
  const tb = HeadsTree.from(headsB);

  it('the chosen salt really makes the differing root child collide in 3 bytes (and not in 8)', () => {
    const c = parseInt(heads[0].author[0], 16);
    const [ha, hb] = [ta.childHashes('')[c]!, tb.childHashes('')[c]!];
    expect(Buffer.from(ha).equals(Buffer.from(hb))).toBe(false);
    const key = fingerprintKey(exchangeSalt(INITIATOR_SALT, RESPONDER_SALT));
    expect(fingerprint(key, ha, SYNC_CHILD_FP_BYTES)).toEqual(fingerprint(key, hb, SYNC_CHILD_FP_BYTES));
    expect(fingerprint(key, ha)).not.toEqual(fingerprint(key, hb));
  });

  it('the colliding exchange finds nothing but knows the roots differed; the next salt finds the difference', () => {
    const first = exchange(ta, tb, INITIATOR_SALT);
    expect(first.a.differences()).toEqual([]);
    expect(first.b.differences()).toEqual([]);
    expect(first.a.rootsDiffered && first.b.rootsDiffered).toBe(true);
    const next = exchange(ta, tb, randomBytes(16, mulberry32(1)));
    expect(authorsOf(next.a.differences())).toEqual([heads[0].author]);
    expect(next.a.differences()[0]).toMatchObject({ mine: heads[0].seq, theirs: changed.seq, fork: false });
    expect(authorsOf(next.b.differences())).toEqual([heads[0].author]);
  });

  it('equal sets are still equal, in one round trip, whatever the salt', () => {
    const same = exchange(ta, HeadsTree.from([...heads].reverse()), INITIATOR_SALT);
    expect(same.a.rootsDiffered || same.b.rootsDiffered).toBe(false);
    expect(same.a.turnsIn + same.a.turnsOut).toBe(2);
  });

  it('two engines: the colliding exchange does not count as equal roots, the next periodic one finds the difference', async () => {
    let t = 0;
    const queue: { to: 'a' | 'b'; bytes: Uint8Array }[] = [];
    const compared: Difference[][] = [];
    const rand = mulberry32(11);
    // A's second 16 random bytes are its first exchange's salt (the first are its hello salt).
    let saltsA = 0;
    const randomA = (n: number) => (n === 16 && ++saltsA === 2 ? INITIATOR_SALT.slice() : randomBytes(n, rand));
    const randomB = (n: number) => (n === 16 ? RESPONDER_SALT.slice() : randomBytes(n, rand));
    const engine = (hs: FeedHead[], to: 'a' | 'b', random: (n: number) => Uint8Array, onCompared?: typeof push) =>
      new SyncEngine({
        replica: replicaOf(hs),
        now: () => t,
        periodMs: PERIOD_MS,
        randomBytes: random,
        send: (_peer, bytes) => queue.push({ to, bytes }),
        onCompared
      });
    const push = (_peer: string, ds: Difference[]) => void compared.push(ds);
    const a = engine(heads, 'b', randomA, push);
    const b = engine(headsB, 'a', randomB);
    const deliver = async () => {
      // Compare traffic only: range requests would need real entries.
      for (let m = queue.shift(); m; m = queue.shift()) {
        if (!['hello', 'begin', 'reply', 'compare'].includes(decodeSyncMessage(m.bytes).t)) continue;
        await (m.to === 'a' ? a.receive('b', m.bytes) : b.receive('a', m.bytes));
      }
    };
    a.addPeer('b', { initiator: true });
    b.addPeer('a', { initiator: false });
    await deliver();
    expect(saltsA).toBeGreaterThanOrEqual(2);
    expect(compared).toEqual([[]]);
    expect(a.status().lastEqualRootAt).toBeNull();
    // The next periodic exchange (within two periods) draws a fresh salt and finds it.
    for (let step = 0; step < 8 && compared.length < 2; step++) {
      t += PERIOD_MS / 4;
      a.tick();
      await deliver();
    }
    expect(compared).toHaveLength(2);
    expect(authorsOf(compared[1])).toEqual([heads[0].author]);
    expect(t).toBeLessThanOrEqual(2 * PERIOD_MS);
  });
});

function replicaOf(hs: FeedHead[]): SyncReplica {
  return {
    networkId: new Uint8Array(32).fill(7),
    role: 'full',
    heads: () => hs,
    entryCount: () => hs.length,
    coverage: () => [],
    getRange: async () => [],
    ingest: async (b) => ({ added: b.length, forks: 0, rejected: [] }),
    onHeadsChanged: () => () => {}
  };
}
