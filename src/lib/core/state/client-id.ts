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
 * The first 53 bits (big-endian) of SHA-256(tag || publicKey): a safe integer in 0 .. 2^53-1.
 * Yjs stores and encodes clientIDs as plain numbers (varuints in the v1 format), so the whole
 * safe-integer range works. 53 bits make a clientID expensive to capture: a key whose ID equals
 * a given author's takes ~2^52 Ed25519 key generations on average, and chance collisions need
 * ~2^26 authors for even odds.
 */
export function clientIdOf(author: string): number {
  const hit = cache.get(author);
  if (hit !== undefined) return hit;
  assertAuthorHex(author);
  const h = sha256(concatBytes(TAG, fromHex(author)));
  let id = h[0] & 0x1f;
  for (let i = 1; i < 7; i++) id = id * 256 + h[i];
  if (cache.size > 4096) cache.clear();
  cache.set(author, id);
  return id;
}

/**
 * Collision policy. Two authors whose keys give the same 53-bit clientID cannot both write into
 * the document. The clientID belongs to the author already owning it (`ownerOf`); among new
 * `authors` competing for a free one, to the lowest key. Returns the refused authors → owner.
 * The ledger refuses their entries BEFORE storing them, so a replay (which sees only stored
 * entries, authors in ascending order) always rebuilds the state that live ingest built.
 *
 * Known limit, chosen on purpose: a canonical rule would give a contested clientID to the lowest
 * key everywhere, but a lower key arriving after a higher one already owns the ID is refused too.
 * Taking the ID over would mean evicting the owner's structs, which may already be in a
 * compaction (and history may be pruned). So two replicas that met the two authors in opposite
 * orders keep different owners (each restart-stable). Even odds of one chance collision need ~2^26 authors; a deliberate one ~2^52 key generations.
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
