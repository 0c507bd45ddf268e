// Node only: the core's synchronous SHA-256 (hash.ts) by node:crypto (OpenSSL) instead of the
// pure-JS @noble/hashes: 3.8 against 13 µs for an entry of 520 bytes here (2026-12-02,
// bench/node-crypto.ts prints both). Imported by Node entry points (the relay, simulated
// nodes), never by the browser build.
import { createHash } from 'node:crypto';
import { setSha256 } from '../core/hash.js';

/** SHA-256 of `data` by node:crypto, as a plain Uint8Array (32 bytes). */
export function nodeSha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest()); // a copy: never a view of a pooled buffer
}

/** Makes the core's sha256() use node:crypto in this process. */
export function installNodeSha256(): void {
  setSha256(nodeSha256);
}
