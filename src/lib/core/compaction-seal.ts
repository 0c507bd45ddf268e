// The compacted state is bound to what it was made from: its heads, its state digest and a MAC
// keyed by this node's identity seed. Replay checks all three before it trusts the state, plus
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

/** Hex HMAC-SHA-256 over the state's hash, the heads root, the digest and the time. */
export function sealCompaction(c: Omit<Compaction, 'mac'>, seed: Uint8Array): string {
  const key = sha256(concatBytes(KEY_TAG, seed));
  const msg = new TextEncoder().encode(
    JSON.stringify([toHex(sha256(c.state)), headsRoot(c.heads), c.digest ?? null, c.at])
  );
  return toHex(hmac(nobleSha256, key, msg));
}

/** True when `c` carries the seal this seed gives it. */
export function sealHolds(c: Compaction, seed: Uint8Array): boolean {
  return typeof c.mac === 'string' && c.mac === sealCompaction(c, seed);
}
