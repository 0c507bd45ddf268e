// Node only: the core's synchronous SHA-256 (hash.ts) by node:crypto (OpenSSL) instead of the
// pure-JS @noble/hashes: 2.2-2.3 against 4.4-4.6 µs for 300 bytes here (2026-12-02,
// bench/node-crypto.ts). Imported by Node entry points (the relay, simulated
// nodes), never by the browser build.
import { createHash } from 'node:crypto';
import { setSha256 } from '../core/hash.js';

/**
 * SHA-256 of `data` by node:crypto: a plain Uint8Array (not a Buffer: a Buffer's slice() is a
 * view, not a copy) over the digest's own 32-byte buffer.
 */
export function nodeSha256(data: Uint8Array): Uint8Array {
  const d = createHash('sha256').update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Makes the core's sha256() use node:crypto in this process. */
export function installNodeSha256(): void {
  setSha256(nodeSha256);
}
