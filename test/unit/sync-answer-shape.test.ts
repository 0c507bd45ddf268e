import { describe, expect, it } from 'vitest';
import { answerShape as shapeOf, peek } from '../../src/lib/core/sync/answer-shape.js';

/** The shape of encoded entries (the engine peeks each answer once, then classifies). */
const answerShape = (entries: readonly Uint8Array[], author: string, from: number, to: number) =>
  shapeOf(entries.map(peek), author, from, to);
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { keysFromByte, yUpdate } from '../helpers/ledger-fixtures.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { genesis } from '../helpers/ledger-nodes.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';

const net = networkId(genesis);

async function feed(keyByte: number, seqs: number[], value = 'v'): Promise<{ author: string; bytes: Uint8Array[] }> {
  const keys = await keysFromByte(keyByte);
  const author = toHex(keys.publicKey);
  const bytes: Uint8Array[] = [];
  for (const seq of seqs) {
    const e = await createEntry(
      {
        keys,
        seq,
        prev: new Uint8Array(32).fill(seq === 1 ? 0 : 7),
        lamport: seq,
        time: 1,
        payload: yUpdate(`k${seq}`, value, clientIdOf(author))
      },
      net
    );
    bytes.push(encodeEntry(e.entry));
  }
  return { author, bytes };
}

describe('answerShape (PROTOCOL.md §11.5)', () => {
  it('accepts a prefix of the range, in order, of the asked author', async () => {
    const a = await feed(1, [5, 6, 7]);
    expect(answerShape(a.bytes, a.author, 5, 10)).toBe('chain');
    expect(answerShape(a.bytes.slice(0, 1), a.author, 5, 5)).toBe('chain');
    expect(answerShape([], a.author, 5, 10)).toBe('chain');
  });

  it('refuses another author, gaps, wrong order, a late start and more than asked', async () => {
    const a = await feed(1, [5, 6, 7]);
    const b = await feed(2, [5, 6, 7]);
    expect(answerShape(b.bytes, a.author, 5, 10)).toBeNull();
    expect(answerShape([a.bytes[0], a.bytes[2]], a.author, 5, 10)).toBeNull();
    expect(answerShape([a.bytes[1], a.bytes[0]], a.author, 5, 10)).toBeNull();
    expect(answerShape(a.bytes.slice(1), a.author, 5, 10)).toBeNull();
    expect(answerShape(a.bytes, a.author, 5, 6)).toBeNull();
    // Another key's entry after the author's: only for a key sharing its clientID (a collision).
    expect(answerShape([a.bytes[0], b.bytes[1]], a.author, 5, 10)).toBeNull();
  });

  it("accepts a void feed's evidence: the author's entries at one seq (one alone: at or below from)", async () => {
    const x = await feed(1, [3], 'x');
    const y = await feed(1, [3], 'y');
    const pair = [x.bytes[0], y.bytes[0]];
    expect(answerShape(pair, x.author, 3, 3)).toBe('evidence');
    expect(answerShape(pair, x.author, 8, 20)).toBe('evidence');
    expect(answerShape(pair.slice(0, 1), x.author, 8, 20)).toBe('evidence');
    // Above from: a server that holds nothing at `from` below its fork sends its evidence pair;
    // one entry alone above from is no void answer.
    expect(answerShape(pair, x.author, 2, 20)).toBe('evidence');
    expect(answerShape(pair.slice(0, 1), x.author, 2, 20)).toBeNull();
    const other = await feed(3, [6]);
    expect(answerShape([x.bytes[0], other.bytes[0]], x.author, 8, 20)).toBeNull(); // another clientID
    expect(answerShape([other.bytes[0], x.bytes[0]], x.author, 8, 20)).toBeNull(); // first by another key
    expect(answerShape([...pair, y.bytes[0]], x.author, 8, 20)).toBeNull(); // three
    const z = await feed(1, [2]);
    expect(answerShape([x.bytes[0], z.bytes[0]], x.author, 8, 20)).toBeNull(); // two seqs
  });

  it('accepts a prefix followed by the fork pair at the next seq, within the range (protocol 4)', async () => {
    const a = await feed(1, [5, 6, 7], 'x');
    const y = await feed(1, [7], 'y');
    const answer = [...a.bytes, y.bytes[0]]; // 5, 6, then 7 twice
    expect(answerShape(answer, a.author, 5, 10)).toBe('chain-evidence');
    expect(answerShape(answer, a.author, 5, 7)).toBe('chain-evidence'); // asked up to the fork
    expect(answerShape(answer.slice(1), a.author, 6, 7)).toBe('chain-evidence'); // one entry before it
    expect(answerShape(answer, a.author, 5, 6)).toBeNull(); // the pair above `to`
    expect(answerShape(answer, a.author, 4, 10)).toBeNull(); // a late start
    expect(answerShape([a.bytes[0], a.bytes[2], y.bytes[0]], a.author, 5, 10)).toBeNull(); // a hole before the pair
    expect(answerShape([a.bytes[0], y.bytes[0], a.bytes[1]], a.author, 5, 10)).toBeNull(); // a pair of two seqs
    const b = await feed(2, [7], 'y');
    expect(answerShape([...a.bytes, b.bytes[0]], a.author, 5, 10)).toBeNull(); // another key
    expect(answerShape([...a.bytes, y.bytes[0], y.bytes[0]], a.author, 5, 10)).toBeNull(); // three at seq 7
    const junk = new Uint8Array([9, 9]);
    expect(answerShape([a.bytes[0], a.bytes[1], junk, y.bytes[0]], a.author, 5, 10)).toBeNull(); // a pair must parse
    // A prefix entry that does not parse is left to ingest, as in a plain prefix.
    expect(answerShape([new Uint8Array([9]), ...answer.slice(1)], a.author, 5, 10)).toBe('chain-evidence');
  });

  it('leaves entries whose prefix does not parse to ingest (which refuses them as malformed)', async () => {
    const a = await feed(1, [5]);
    expect(answerShape([new Uint8Array([9, 9, 9])], a.author, 5, 10)).toBe('chain');
    expect(answerShape([new Uint8Array(0), a.bytes[0]], a.author, 5, 10)).toBeNull(); // a.bytes[0] is at index 1
  });
});
