// How a full replica serves a void feed (PROTOCOL.md §6.1.2, §11.5, protocol version 4 and later): up to
// its fork; a prefix that reaches the fork, asked up to it or beyond, with the fork pair appended
// when it fits the byte cap; at or past the fork (or from a seq not held), the pair alone.
import { describe, expect, it } from 'vitest';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import { answerShape, peek } from '../../src/lib/core/sync/answer-shape.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const LEN = 10;

async function voidServer() {
  const { ledger } = await openLedger(memoryLocation(), 40);
  const keys = await keysFromByte(41);
  const chain = await makeChain(keys, LEN, ledger.networkId);
  const [x] = await makeChain(keys, 1, ledger.networkId, chain[LEN - 1], 'x');
  const [y] = await makeChain(keys, 1, ledger.networkId, chain[LEN - 1], 'y');
  const bytes = [...chain, x, y].map((h) => encodeEntry(h.entry));
  await ledger.ingest(bytes);
  const author = toHex(keys.publicKey);
  const seqs = (list: Uint8Array[]) => list.map((b) => peek(b)!.seq);
  return { ledger, author, bytes, replica: ledgerReplica(ledger), seqs };
}

describe('ledgerReplica.getRange on a void feed', () => {
  it('appends the fork pair to a prefix that reaches the fork, when asked up to it or beyond', async () => {
    const { author, replica, seqs } = await voidServer();
    const big = 1 << 20;
    const full = await replica.getRange(author, 1, 64, big);
    expect(seqs(full)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11]);
    expect(full[LEN]).not.toEqual(full[LEN + 1]);
    expect(answerShape(full.map(peek), author, 1, 64)).toBe('chain-evidence');
    expect(seqs(await replica.getRange(author, 1, LEN + 1, big))).toEqual([...seqs(full)]);
    expect(seqs(await replica.getRange(author, 5, 64, big))).toEqual([5, 6, 7, 8, 9, 10, 11, 11]);
    // Not asked up to the fork: the prefix alone.
    expect(seqs(await replica.getRange(author, 1, LEN, big))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // At or past the fork: the pair alone.
    expect(seqs(await replica.getRange(author, LEN + 1, 64, big))).toEqual([11, 11]);
    expect(seqs(await replica.getRange(author, 40, 64, big))).toEqual([11, 11]);
  });

  it('leaves the pair out when it would pass the byte cap, and stops the prefix at the cap as usual', async () => {
    const { author, replica, bytes, seqs } = await voidServer();
    const prefix = bytes.slice(0, LEN).reduce((n, b) => n + b.length, 0);
    const pair = bytes[LEN].length + bytes[LEN + 1].length;
    expect(seqs(await replica.getRange(author, 1, 64, prefix + pair))).toHaveLength(LEN + 2);
    expect(seqs(await replica.getRange(author, 1, 64, prefix + pair - 1))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const cut = await replica.getRange(author, 1, 64, bytes[0].length + bytes[1].length);
    expect(seqs(cut)).toEqual([1, 2]);
  });

  it('the answer, its pair ingested first (as the engine does), voids the feed on a newcomer in one batch', async () => {
    const { ledger, author, replica } = await voidServer();
    const answer = await replica.getRange(author, 1, 64, 1 << 20);
    const { ledger: n } = await openLedger(memoryLocation(), 42);
    const report = await n.ingest([...answer.slice(-2), ...answer.slice(0, -2)]);
    expect(report).toMatchObject({ added: LEN, forks: 1, rejected: [] });
    expect(n.voidFrom(author)).toBe(LEN + 1);
    expect(n.heads().find((h) => h.author === author)).toEqual(ledger.heads().find((h) => h.author === author));
    expect(n.stats().staleVoids).toBe(0);
  });
});
