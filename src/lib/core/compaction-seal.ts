// The compacted state is bound to what it was made from: its heads, its state digest and a MAC
// keyed by this node's identity seed (over the digest, heads root and time; the digest binds the
// state). Replay checks all three before it trusts the state, plus
// the state's own structure (every clientID belongs to a covered author, and each author's Yjs
// clock equals the clock of its head entry). A record forged into the stored state, a state
// swapped with another, or a deleted heads row is found on open (CorruptStoreError).
//
// Limit: the key lives in the same store. Whoever can rewrite the store AND read the seed can
// also sign as this node; the seal protects against corruption and against tampering by anything
// that does not hold the identity.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import type { Compaction } from './storage.js';
import { concatBytes, toHex } from './bytes.js';
import { sha256 } from './hash.js';
import { headsRoot } from './heads-digest.js';

const KEY_TAG = new TextEncoder().encode('tabula/compaction-seal/v1\u0000');

/**
 * Hex HMAC-SHA-256 over the state digest, the heads root and the time (v2). The state itself is
 * bound through its digest, which replay checks against the loaded state right after the seal, so
 * a 10+ MiB state is not hashed once more for the seal. A compaction without a digest (none is
 * written any more) is sealed over the state's SHA-256 instead (v1).
 */
export function sealCompaction(c: Omit<Compaction, 'mac'>, seed: Uint8Array): string {
  return typeof c.digest === 'string' ? seal(seed, ['v2', c.digest, headsRoot(c.heads), c.at]) : sealV1(c, seed);
}

/** The v1 seal: the state's SHA-256, the heads root, the digest and the time (stores sealed before v2). */
function sealV1(c: Omit<Compaction, 'mac'>, seed: Uint8Array): string {
  return seal(seed, [toHex(sha256(c.state)), headsRoot(c.heads), c.digest ?? null, c.at]);
}

function seal(seed: Uint8Array, fields: unknown[]): string {
  const key = sha256(concatBytes(KEY_TAG, seed));
  return toHex(hmac(nobleSha256, key, new TextEncoder().encode(JSON.stringify(fields))));
}

/**
 * Which seal `c` carries for this seed: 2, 1 (over the state's bytes, stores sealed before v2),
 * or null (none holds). A v2 seal binds the state only together with replay's digest and
 * canonical-bytes checks (ledger-replay.ts checkCompaction).
 */
export function sealVersion(c: Compaction, seed: Uint8Array): 1 | 2 | null {
  if (typeof c.mac !== 'string') return null;
  if (typeof c.digest === 'string') {
    if (c.mac === seal(seed, ['v2', c.digest, headsRoot(c.heads), c.at])) return 2;
    return c.mac === sealV1(c, seed) ? 1 : null;
  }
  return c.mac === sealV1(c, seed) ? 1 : null;
}
