// Deterministic Yjs clientIDs: one per author, so every struct names its author and a replay
// after restart rebuilds the same document (same IDs, same merges, same conflict winners).
import { sha256 } from '../hash.js';
import { concatBytes, fromHex } from '../bytes.js';
import { InvalidKeyError } from '../errors.js';
import { YJS_CLIENT_ID_TAG } from '../constants.js';

const AUTHOR_HEX = /^[0-9a-f]{64}$/;
const TAG = new TextEncoder().encode(YJS_CLIENT_ID_TAG);
const cache = new Map<string, number>();
/** Tests only (overrideClientIds): maps a key and its real clientID to the one used. */
let override: ((author: string, real: number) => number) | null = null;

/** Throws InvalidKeyError unless `author` is a 32-byte public key in lowercase hex. */
export function assertAuthorHex(author: unknown): asserts author is string {
  if (typeof author !== 'string' || !AUTHOR_HEX.test(author)) {
    throw new InvalidKeyError('author must be 64 lowercase hex characters');
  }
}

/**
 * The first 53 bits (big-endian) of SHA-256(tag || publicKey): a safe integer in 0 .. 2^53-1.
 * Yjs stores and encodes clientIDs as plain numbers (varuints in the v1 format), so the whole
 * safe-integer range works. 53 bits make a clientID expensive to capture: a key whose ID equals
 * a given author's takes ~2^53 Ed25519 key generations on average, and chance collisions need
 * ~2^26 authors for even odds. Two keys that do share one void each other (collision.ts).
 */
export function clientIdOf(author: string): number {
  const hit = cache.get(author);
  if (hit !== undefined) return hit;
  assertAuthorHex(author);
  const h = sha256(concatBytes(TAG, fromHex(author)));
  let id = h[0] & 0x1f;
  for (let i = 1; i < 7; i++) id = id * 256 + h[i];
  if (override !== null) id = override(author, id);
  if (cache.size > 4096) cache.clear();
  cache.set(author, id);
  return id;
}

/** clientIdOf(author) if it is cached (the key was checked and derived before); else undefined. */
export function cachedClientId(author: string): number | undefined {
  return cache.get(author);
}

/**
 * Tests only: replaces the derivation (`fn` gets the key and its real clientID and returns the
 * safe integer to use), so tests can make two keys collide without ~2^26 key generations.
 * Returns a function that restores the real derivation. Never called by the app.
 */
export function overrideClientIds(fn: (author: string, real: number) => number): () => void {
  override = fn;
  cache.clear();
  return () => {
    override = null;
    cache.clear();
  };
}

/**
 * Fallback only. Collisions are resolved by voiding both feeds from seq 1 (collision.ts,
 * PROTOCOL.md §6.2) whenever a signed entry of each key is at hand. This first-seen rule covers
 * what is left, so that two authors never write under one clientID: the clientID belongs to the
 * author already owning it in the state (`ownerOf`); among new `authors` competing for a free one,
 * to the lowest key. Returns the refused authors → owner. The ledger refuses their entries BEFORE
 * storing them, so a replay rebuilds the state that live ingest built. It still decides only
 * where no witness of the owner is held: this node's own key before it signed anything, or a
 * head bootstrapped from a light snapshot whose entry is not held (see PROTOCOL.md §6.2).
 */
export function contestedAuthors(
  authors: Iterable<string>,
  ownerOf: (clientID: number) => string | undefined
): Map<string, string> {
  const claims = new Map<number, string>();
  const refused = new Map<string, string>();
  for (const author of [...authors].sort()) {
    const client = clientIdOf(author);
    const owner = ownerOf(client) ?? claims.get(client);
    if (owner === undefined) claims.set(client, author);
    else if (owner !== author) refused.set(author, owner);
  }
  return refused;
}
