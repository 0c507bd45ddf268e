// Node only: synchronous Ed25519 signing with node:crypto for the core's sign() (ed25519.ts
// setSyncSigner). Same RFC 8032 signatures as WebCrypto (deterministic), without the libuv pool
// round trip each WebCrypto signature takes. Imported by Node entry points (the relay, simulated
// nodes), never by the browser build.
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { setSyncSigner } from '../core/ed25519.js';
import { InvalidKeyError } from '../core/errors.js';

/** RFC 8410 PKCS#8 wrapper of a 32-byte Ed25519 seed. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

// Private keys by the seed array (identities reuse one array); the copy guards against a caller
// mutating the array in place (then the key is built again).
const keys = new WeakMap<Uint8Array, { copy: Buffer; key: KeyObject }>();

function keyOf(seed: Uint8Array): KeyObject {
  const cached = keys.get(seed);
  if (cached !== undefined && cached.copy.equals(seed)) return cached.key;
  const copy = Buffer.from(seed);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, copy]), format: 'der', type: 'pkcs8' });
  keys.set(seed, { copy, key });
  return key;
}

/** (32-byte seed, message) → 64-byte Ed25519 signature, synchronously. */
export function nodeSign(seed: Uint8Array, msg: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new InvalidKeyError('seed must be 32 bytes'); // node:crypto would take 33 or 64
  return new Uint8Array(sign(null, msg, keyOf(seed)));
}

/** Makes the core's sign() use nodeSign in this process. */
export function installNodeSigner(): void {
  setSyncSigner(nodeSign);
}
