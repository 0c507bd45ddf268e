// Deterministic Yjs clientIDs: one per author, so every struct names its author and a replay
// after restart rebuilds the same document (same IDs, same merges, same conflict winners).
import { sha256 } from '../hash.js';
import { concatBytes, fromHex } from '../bytes.js';
import { InvalidKeyError } from '../errors.js';
import { YJS_CLIENT_ID_TAG } from '../constants.js';

const AUTHOR_HEX = /^[0-9a-f]{64}$/;
const TAG = new TextEncoder().encode(YJS_CLIENT_ID_TAG);
const cache = new Map<string, number>();

/** Throws InvalidKeyError unless `author` is a 32-byte public key in lowercase hex. */
export function assertAuthorHex(author: unknown): asserts author is string {
  if (typeof author !== 'string' || !AUTHOR_HEX.test(author)) {
    throw new InvalidKeyError('author must be 64 lowercase hex characters');
  }
}

/**
 * First 4 bytes (big-endian) of SHA-256(tag || publicKey): an unsigned 32-bit integer, the
 * same range Yjs itself draws random clientIDs from (lib0 random.uint32).
 */
export function clientIdOf(author: string): number {
  const hit = cache.get(author);
  if (hit !== undefined) return hit;
  assertAuthorHex(author);
  const h = sha256(concatBytes(TAG, fromHex(author)));
  const id = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
  if (cache.size > 4096) cache.clear();
  cache.set(author, id);
  return id;
}
