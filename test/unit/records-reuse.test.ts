// The page keeps a record's object across re-reads while its write is unchanged, so the keyed
// Records table re-renders only changed rows (re-rendering all 500 shown rows on every re-read made
// main-thread long tasks on a catching-up device, bench row 7).
import { describe, expect, it } from 'vitest';
import { reuseUnchanged } from '../../src/lib/client/records-reuse.js';
import type { RecordEntry } from '../../src/lib/core/state/records.js';

const rec = (key: string, lamport: number, value: RecordEntry['value'] = key, author = 'a'): RecordEntry => ({
  key,
  value,
  author,
  time: 1000 + lamport,
  lamport
});

describe('reuseUnchanged', () => {
  it('keeps the previous object of every unchanged record, takes the new one otherwise', () => {
    const prev = [rec('a', 1), rec('b', 2, { n: [1, 2] }), rec('c', 3), rec('d', 4)];
    // Fresh copies (as a re-read from the worker gives), one overwritten, one new, one gone.
    const next = [rec('a', 1), rec('aa', 5), rec('b', 2, { n: [1, 2] }), rec('c', 6, 'new'), rec('d', 4, 'd', 'b')];
    const out = reuseUnchanged(prev, next);
    expect(out).toEqual(next);
    expect(out[0]).toBe(prev[0]);
    expect(out[1]).toBe(next[1]); // new key
    expect(out[2]).toBe(prev[1]); // same write, equal object value
    expect(out[3]).toBe(next[3]); // overwritten
    expect(out[4]).toBe(next[4]); // another author's write
    expect(reuseUnchanged([], next)).toBe(next);
  });

  it('a value that differs under the same write stamp is taken from the new read', () => {
    const prev = [rec('a', 1, { v: 1 }), rec('b', 2, 'x')];
    const next = [rec('a', 1, { v: 2 }), rec('b', 2, 'y')];
    const out = reuseUnchanged(prev, next);
    expect(out[0]).toBe(next[0]);
    expect(out[1]).toBe(next[1]);
  });
});
