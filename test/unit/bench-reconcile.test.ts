// Row 2 of the bench (bench/reconcile.ts): each method's `found` column is compared with the d
// feeds that differ, and a method that did not find them all is marked INCOMPLETE (its bytes are
// not the cost of reconciling the sets). Negentropy counted ids (a differing feed is one id on each
// side, so 2d), which no check against d could use; it now counts feeds.
import { describe, expect, it } from 'vitest';
import {
  bytesRatioCell,
  foundCell,
  loadPeers,
  negentropyRow,
  ribltRow,
  symbolOf,
  missingComparators
} from '../../bench/reconcile-peers.js';
import { toHex } from '../../src/lib/core/bytes.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import { mulberry32 } from '../helpers/fake-feed.js';

const rand = mulberry32(7);
const hex32 = () => toHex(Uint8Array.from({ length: 32 }, () => Math.floor(rand() * 256)));
const heads = (n: number): FeedHead[] =>
  Array.from({ length: n }, (_, i) => ({ author: hex32(), seq: 1 + i, hash: hex32() }));

/** B: feeds `changed` advanced by one entry (a new hash). */
function advanced(a: FeedHead[], changed: number[]): FeedHead[] {
  const b = [...a];
  for (const j of changed) b[j] = { ...a[j], seq: a[j].seq + 1, hash: hex32() };
  return b;
}

describe('bench row 2: found counts differing feeds, and a short count is marked', () => {
  it('negentropy reports the differing feeds (d), not the ids on both sides (2d)', async () => {
    const loaded = await loadPeers();
    expect(loaded.negentropy).toBe(true);
    const a = heads(200);
    const changed = [3, 77, 150];
    const b = advanced(a, changed);
    const time = a.map((_, i) => i);
    const timeB = time.map((t, i) => (changed.includes(i) ? 1000 + i : t));
    const row = await negentropyRow(a, b, time, timeB);
    expect(row?.found).toBe(changed.length);
    // The rateless IBLT counted feeds already: both agree with d.
    expect(loaded.riblt).toBe(true);
    expect(ribltRow(a, b, a.map(symbolOf), b.map(symbolOf))?.found).toBe(changed.length);
  });

  it('a method that found fewer (or more) feeds than differ is marked INCOMPLETE', () => {
    expect(foundCell(100, 100)).toBe('100');
    expect(foundCell(0, 0)).toBe('0');
    expect(foundCell(99, 100)).toMatch(/^99 of 100: INCOMPLETE/);
    expect(foundCell(200, 100)).toMatch(/INCOMPLETE/);
  });
});

describe('bench row 2: the ratio to each comparator', () => {
  const row = (method: string, bytes: number, found = 100) => ({
    method,
    aToB: bytes / 2,
    bToA: bytes / 2,
    rtts: 1,
    cpuMs: 1,
    found
  });
  it('is Merkle bytes ÷ the comparator bytes (lower is better for us), none on Merkle rows', () => {
    const merkle = row('merkle', 16_000);
    expect(bytesRatioCell(merkle, row('rateless IBLT', 12_000), 100)).toBe('1.33×');
    expect(bytesRatioCell(merkle, row('state vector', 6_800_000), 100)).toBe('0.00235×');
    expect(bytesRatioCell(merkle, merkle, 100)).toBe('');
  });
  it('is "—" when either side did not find every differing feed', () => {
    expect(bytesRatioCell(row('merkle', 16_000, 99), row('negentropy', 120_000), 100)).toBe('—');
    expect(bytesRatioCell(row('merkle', 16_000), row('negentropy', 120_000, 99), 100)).toBe('—');
    expect(bytesRatioCell(undefined, row('negentropy', 120_000), 100)).toBe('—');
  });
});

describe('bench row 2: a comparator that did not load', () => {
  it('makes row 2 NOT RUN (before: its rows were left out and the bench exited 0)', () => {
    expect(missingComparators({ riblt: true, negentropy: true }, false)).toEqual([]);
    expect(missingComparators({ riblt: false, negentropy: true }, false)).toEqual(['rateless IBLT (@peerbit/riblt)']);
    expect(missingComparators({ riblt: true, negentropy: false }, false)).toEqual(['negentropy (@nostr-dev-kit/sync)']);
    // Skipped on purpose (BENCH_MERKLE_ONLY=1, a profiling run): nothing is missing.
    expect(missingComparators({ riblt: false, negentropy: false }, true)).toEqual([]);
  });
});
