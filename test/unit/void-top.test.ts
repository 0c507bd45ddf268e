// Void heads v2 (void.ts, PROTOCOL.md §6.1.2): a void head binds the canonical top k the node
// holds (the highest seq below the fork, and that entry's hash). Two nodes holding different
// parts of a void feed's canonical part report different heads, sync brings the one holding less
// up to the other, and a void claim a peer cannot back with more (it holds less) is asked once and
// then left alone (no penalty, no ping-pong between two honest nodes).
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { voidHead } from '../../src/lib/core/void.js';
import { VOID_HEAD_BASE as VOID_HEAD_BASE_FOR_TESTS } from '../../src/lib/core/constants.js';
import { GapFill } from '../../src/lib/core/sync/gap-fill.js';
import { decodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import { peek } from '../../src/lib/core/sync/answer-shape.js';
import { GAP_REFUSED_MS } from '../../src/lib/core/sync/constants.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { genesis, ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { Cluster } from '../sim/cluster.js';

const net = networkId(genesis);

/** X's seq 1..n and two entries at seq `s` (made-up prevs: its canonical part stops at n). */
async function forkedFeed(
  keys: IdentityKeys,
  n: number,
  s: number
): Promise<{ chain: HashedEntry[]; fork: HashedEntry[] }> {
  const chain = await makeChain(keys, n, net);
  const client = clientIdOf(toHex(keys.publicKey));
  const fork = await Promise.all(
    ['p', 'q'].map((t, i) =>
      createEntry(
        {
          keys,
          seq: s,
          // Linking variants right after the chain; made-up prevs above a gap.
          prev: s === n + 1 ? chain[n - 1].hash : new Uint8Array(32).fill(i + 1),
          lamport: s,
          time: 1_700_000_000_100,
          clock: n + 1,
          payload: yUpdateAt(`fork-${t}`, t, client, n)
        },
        net
      )
    )
  );
  return { chain, fork };
}

describe('void heads bind the canonical top (void.ts)', () => {
  it('matches the PROTOCOL.md §6.1.2 test vectors (hash over tag, author, s, k, h_k)', () => {
    const author = '01'.repeat(32);
    expect(voidHead(author, 4, { seq: 3, hash: '02'.repeat(32) })).toEqual({
      author,
      seq: 9007199254740987,
      hash: '65097cfd39e26dc2a45a187ae17ea36610a01677e9383d433b3bc479ba4c6aba'
    });
    expect(voidHead(author, 1)).toEqual({
      author,
      seq: 9007199254740990,
      hash: '1c0a38093d2a88e9d2866761cbed48e9c9c6cdb7533d07b52c0d04ef215aeb70'
    });
    expect(() => voidHead(author, 4, { seq: 4, hash: '02'.repeat(32) })).toThrow(RangeError); // k < s
    expect(() => voidHead(author, 4, { seq: 2, hash: undefined })).toThrow(RangeError);
  });

  it('two nodes holding different canonical parts report different void heads; equal parts, equal heads', async () => {
    const X = await keysFromByte(241);
    const x = toHex(X.publicKey);
    const { chain, fork } = await forkedFeed(X, 3, 4);
    const nodes = await Promise.all([242, 243, 244].map((b) => openLedger(memoryLocation(), b, { compactEvery: 0 })));
    await nodes[0].ledger.ingest([...chain, ...fork]);
    await nodes[1].ledger.ingest([chain[0], ...fork]);
    await nodes[2].ledger.ingest(fork); // the fork first, then the canonical part
    await nodes[2].ledger.ingest(chain);
    const heads = nodes.map((n) => n.ledger.heads().find((h) => h.author === x)!);
    expect(heads[0]).toEqual(voidHead(x, 4, { seq: 3, hash: toHex(chain[2].hash) }));
    expect(heads[1]).toEqual(voidHead(x, 4, { seq: 1, hash: toHex(chain[0].hash) }));
    expect(heads[1].seq).toBe(heads[0].seq); // the same fork seq: above every real head
    expect(heads[1].hash).not.toBe(heads[0].hash);
    expect(heads[2]).toEqual(heads[0]);
    expect(nodes.map((n) => n.ledger.stats().entries)).toEqual([3, 1, 3]);
    expect(ledgerView(nodes[2].ledger).digest).toBe(ledgerView(nodes[0].ledger).digest);
    await Promise.all(nodes.map((n) => n.ledger.close()));
    expect(VOID_HEAD_BASE_FOR_TESTS - heads[0].seq).toBe(4);
  });

  it('a node holding less catches up by sync, and both reach the same heads and digest', async () => {
    const c = new Cluster({ seed: 7, link: { loss: 0, dup: 0, latencyMin: 2, latencyMax: 20 }, gossip: false });
    const a = await c.addNode('a', 1);
    const b = await c.addNode('b', 2);
    const X = await keysFromByte(245);
    const x = toHex(X.publicKey);
    const { chain, fork } = await forkedFeed(X, 3, 9);
    await a.tl.ledger.ingest([...chain, ...fork]);
    await b.tl.ledger.ingest(fork);
    expect(b.tl.ledger.voidTop(x)).toEqual({ seq: 0, hash: undefined });
    c.refreshLinks();
    expect(await c.settle(30_000)).toBe(true);
    expect(b.tl.ledger.voidTop(x)).toEqual({ seq: 3, hash: toHex(chain[2].hash) });
    expect(b.tl.ledger.heads()).toEqual(a.tl.ledger.heads());
    expect(b.tl.ledger.stats().stateDigest).toBe(a.tl.ledger.stats().stateDigest);
  });

  it('a void claim of a peer that holds less is asked once, without penalty (no ping-pong)', async () => {
    const c = new Cluster({ seed: 8, link: { loss: 0, dup: 0, latencyMin: 2, latencyMax: 20 }, gossip: false });
    const X = await keysFromByte(246);
    const x = toHex(X.publicKey);
    const asks: number[] = [];
    const a = await c.addNode('a', 1, {
      wrapSend: (to, bytes) => {
        const m = decodeSyncMessage(bytes);
        if (to === 'b' && m.t === 'get' && m.author === x) asks.push(m.from);
        return bytes;
      }
    });
    // b holds less and cannot take more of X (a node that drops X's entries): its void head stays
    // below a's, so every exchange finds the difference again.
    const b = await c.addNode('b', 2, {
      wrapReplica: (r) => ({
        ...r,
        ingest: (entries) => r.ingest(entries.filter((e) => peek(e)?.author !== x))
      })
    });
    const { chain, fork } = await forkedFeed(X, 3, 9);
    await a.tl.ledger.ingest([chain[0], chain[1], ...fork]); // a: k = 2 of s - 1 = 8
    await b.tl.ledger.ingest([chain[0], ...fork]); // b: k = 1
    c.refreshLinks();
    await c.net.run(() => false, c.net.time + GAP_REFUSED_MS - 5_000); // many exchanges (period 3 s)
    expect(a.tl.ledger.heads()).not.toEqual(b.tl.ledger.heads());
    expect(asks).toEqual([3]); // a asked b once for 3..8 (b answered its evidence: nothing above)
    expect(a.rejections).toEqual([]);
    expect(a.engine.status().missing).toBe(0);
  });

  it('GapFill: a void claim is capped below both forks; an empty or evidence answer refuses it without backoff', () => {
    let now = 0;
    const local = { k: 2, s: 10 };
    const g = new GapFill({
      now: () => now,
      random: () => 0.5,
      localHead: () => local.k,
      localVoidFrom: () => local.s
    });
    g.addPeer('p', { rttMs: 10 });
    const author = 'ab'.repeat(32);
    const theirs = VOID_HEAD_BASE_FOR_TESTS - 10;
    g.learn('p', [{ author, mine: theirs, theirs, fork: true }]);
    const [r, ...more] = g.next();
    expect(more).toEqual([]);
    expect(r).toMatchObject({ peer: 'p', author, from: 3, to: 9, priority: 'tail' });
    g.settle(r.rid, { received: 2, added: 0, forks: 0, rejected: 0, evidence: true, bytes: 400, largest: 200 });
    for (let i = 0; i < 5; i++) {
      now += 3_000;
      g.learn('p', [{ author, mine: theirs, theirs, fork: true }]);
      expect(g.next()).toEqual([]);
    }
    expect(g.status().missing).toBe(0);
    expect(g.score('p')).toBeGreaterThan(-0.01); // no failure, no backoff
    // A lower void head's evidence is a fork to fetch; a claim at or below the local top, nothing.
    g.learn('p', [{ author, mine: theirs, theirs: VOID_HEAD_BASE_FOR_TESTS - 5, fork: false }]);
    expect(g.next()).toEqual(expect.arrayContaining([expect.objectContaining({ from: 5, to: 5, priority: 'fork' })]));
    const h = new GapFill({ now: () => now, random: () => 0.5, localHead: () => 9, localVoidFrom: () => 10 });
    h.addPeer('p', { rttMs: 10 });
    // Holding the whole canonical part (k = s - 1), the same fork with another head: the peer
    // holds less or another canonical part; its entry at k is asked once (a fork want).
    h.learn('p', [{ author, mine: theirs, theirs, fork: true }]);
    const [f, ...rest] = h.next();
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ from: 9, to: 9, priority: 'fork' });
    h.settle(f.rid, { received: 2, added: 0, forks: 0, rejected: 0, evidence: true, bytes: 400, largest: 200 });
    for (let i = 0; i < 5; i++) {
      now += 3_000;
      h.learn('p', [{ author, mine: theirs, theirs, fork: true }]);
      expect(h.next()).toEqual([]);
    }
    expect(h.status().missing).toBe(0);
  });
});

describe('void heads of a light replica (void.ts)', () => {
  it('keep the canonical top after the entry at s - 1 is pruned and the node reopens', async () => {
    const X = await keysFromByte(247);
    const x = toHex(X.publicKey);
    const chain = await makeChain(X, 30, net);
    const [alt] = await makeChain(X, 1, net, chain[8], 'alt'); // a second seq 10 after seq 9
    const loc = memoryLocation();
    const a = await openLedger(loc, 248, { role: 'light', budgetBytes: 1 << 20, compactEvery: 0 });
    await a.ledger.ingest(chain);
    await a.ledger.ingest([alt]);
    const top = { seq: 9, hash: toHex(chain[8].hash) };
    expect(a.ledger.voidTop(x)).toEqual(top);
    const head = a.ledger.heads().find((h) => h.author === x);
    await a.ledger.close();
    // Reopened with a small budget: a local write and a compaction prune X's old entries.
    const small = { role: 'light', budgetBytes: 1024, compactEvery: 0 } as const;
    const b = await openLedger(loc, 248, small);
    await b.ledger.put('own', 1);
    await b.ledger.compact();
    expect(b.ledger.stats().storage.pruned).toBeGreaterThan(0);
    // Pruned behind the compaction, whose head of X is the canonical top 9 (kept).
    expect(await b.store.getEntry(x, 1)).toBeUndefined();
    expect(await b.store.getEntry(x, 9)).toBeDefined();
    expect(b.ledger.voidTop(x)).toEqual(top);
    await b.ledger.close();
    const c = await openLedger(loc, 248, small);
    expect(c.ledger.voidTop(x)).toEqual(top);
    expect(c.ledger.heads().find((h) => h.author === x)).toEqual(head);
    await c.ledger.close();
  });
});
