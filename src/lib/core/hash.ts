// SHA-256, synchronous (Merkle trees and entry hashing need it inline, not as a promise).
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}
