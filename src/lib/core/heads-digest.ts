// Digest of a set of feed heads ("heads root"): equal sets give equal roots whatever their order.
// For now a flat SHA-256 over the sorted list; a Merkle root may replace it later, keeping the
// same signature and the same property. Layout: PROTOCOL.md §9.3.
import type { FeedHead } from './types.js';
import { InvalidHeadsError } from './errors.js';
import { fromHex, toHex } from './bytes.js';
import { sha256 } from './hash.js';
import { HASH_BYTES, HEADS_ROOT_TAG, PUBLIC_KEY_BYTES } from './constants.js';

const TAG = new TextEncoder().encode(HEADS_ROOT_TAG);
const HEX64 = /^[0-9a-f]{64}$/;
/** author (32) + seq (u64 big-endian) + hash (32). */
const RECORD_BYTES = PUBLIC_KEY_BYTES + 8 + HASH_BYTES;

/** Throws InvalidHeadsError unless every head is well formed and each author appears once. */
export function checkHeads(heads: readonly FeedHead[]): void {
  const seen = new Set<string>();
  for (const h of heads) {
    if (h === null || typeof h !== 'object') throw new InvalidHeadsError('head must be an object');
    if (typeof h.author !== 'string' || !HEX64.test(h.author))
      throw new InvalidHeadsError('head author must be 64 lowercase hex characters');
    if (typeof h.hash !== 'string' || !HEX64.test(h.hash))
      throw new InvalidHeadsError('head hash must be 64 lowercase hex characters');
    if (!Number.isSafeInteger(h.seq) || h.seq < 1) throw new InvalidHeadsError('head seq must be a safe integer >= 1');
    if (seen.has(h.author)) throw new InvalidHeadsError(`author ${h.author.slice(0, 16)}… listed twice`);
    seen.add(h.author);
  }
}

/** Heads sorted by author (copies), the canonical order of heads in digests and snapshots. */
export function sortHeads(heads: readonly FeedHead[]): FeedHead[] {
  return heads
    .map((h) => ({ author: h.author, seq: h.seq, hash: h.hash }))
    .sort((a, b) => (a.author < b.author ? -1 : a.author > b.author ? 1 : 0));
}

/** SHA-256(tag || for each head by author: author || seq as u64 BE || hash), lowercase hex. */
export function headsRoot(heads: readonly FeedHead[]): string {
  checkHeads(heads);
  const sorted = sortHeads(heads);
  const buf = new Uint8Array(TAG.length + sorted.length * RECORD_BYTES);
  const view = new DataView(buf.buffer);
  buf.set(TAG, 0);
  let off = TAG.length;
  for (const h of sorted) {
    buf.set(fromHex(h.author), off);
    // seq < 2^53: split into high and low 32-bit words.
    view.setUint32(off + PUBLIC_KEY_BYTES, Math.floor(h.seq / 2 ** 32));
    view.setUint32(off + PUBLIC_KEY_BYTES + 4, h.seq >>> 0);
    buf.set(fromHex(h.hash), off + PUBLIC_KEY_BYTES + 8);
    off += RECORD_BYTES;
  }
  return toHex(sha256(buf));
}
