// Fake, hash-linked entries for storage tests: random bytes stand in for signatures and hashes
// (storage never verifies them). Seeded so randomized tests replay.
import { toHex } from '../../src/lib/core/bytes.js';
import type { HashedEntry } from '../../src/lib/core/types.js';

export type Rand = () => number;

/** Small seeded PRNG (mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(n: number, rand: Rand = Math.random): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

export function randInt(rand: Rand, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

export const NETWORK_TAG = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

export function fakeEntry(author: Uint8Array, seq: number, prev: Uint8Array, rand: Rand = Math.random): HashedEntry {
  return {
    entry: {
      network: NETWORK_TAG,
      author,
      seq,
      prev,
      lamport: seq * 2 + Math.floor(rand() * 3),
      time: 1_700_000_000_000 + seq * 1000 + Math.floor(rand() * 1000),
      clock: seq,
      deps: [],
      payload: randomBytes(randInt(rand, 1, 96), rand),
      sig: randomBytes(64, rand)
    },
    hash: randomBytes(32, rand)
  };
}

/** A linked feed segment: seqs from, from+1, ... continuing after `after` (or from seq 1). */
export function fakeFeed(
  author: Uint8Array,
  count: number,
  rand: Rand = Math.random,
  after?: HashedEntry
): HashedEntry[] {
  const out: HashedEntry[] = [];
  let prev = after ? after.hash : new Uint8Array(32);
  let seq = after ? after.entry.seq + 1 : 1;
  for (let i = 0; i < count; i++, seq++) {
    const h = fakeEntry(author, seq, prev, rand);
    out.push(h);
    prev = h.hash;
  }
  return out;
}

export function authorHex(h: HashedEntry): string {
  return toHex(h.entry.author);
}

export function hashHex(h: HashedEntry): string {
  return toHex(h.hash);
}
