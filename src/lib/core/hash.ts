// SHA-256, synchronous (Merkle trees and entry hashing need it inline, not as a promise).
// @noble/hashes everywhere; a platform with a faster synchronous SHA-256 installs it
// (setSha256: Node's node:crypto, src/lib/platform/node-sha256.ts).
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** A synchronous SHA-256: bytes → 32-byte digest. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

let impl: Sha256 = nobleSha256;

/** 32-byte SHA-256 digest of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return impl(data);
}

/** Installs (or with undefined removes) the platform's SHA-256; it must give FIPS 180-4 digests. */
export function setSha256(fn: Sha256 | undefined): void {
  impl = fn ?? nobleSha256;
}

/** True when a platform SHA-256 is installed (sha256() is native, not the pure-JS default). */
export function platformSha256(): boolean {
  return impl !== nobleSha256;
}
