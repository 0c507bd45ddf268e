// Node only: synchronous Ed25519 with node:crypto for the core's sign() and verify() (ed25519.ts
// setSyncSigner, setSyncVerifier). Same RFC 8032 signatures and verdicts as WebCrypto in Node
// (both are OpenSSL), without the libuv pool round trip each WebCrypto call takes, and at about
// half the CPU per verification. Imported by Node entry points (the relay, simulated nodes), never
// by the browser build.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { setSyncSigner, setSyncVerifier } from '../core/ed25519.js';
import { InvalidKeyError } from '../core/errors.js';

/** RFC 8410 PKCS#8 wrapper of a 32-byte Ed25519 seed. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** RFC 8410 SubjectPublicKeyInfo wrapper of a 32-byte Ed25519 public key. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** Public keys kept imported (feeds verify many entries of few authors); cleared when full. */
const MAX_PUBLIC_KEYS = 4096;

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

const publicKeys = new Map<string, KeyObject>();

/**
 * (32-byte public key, message, 64-byte signature) → valid, synchronously. Throws
 * InvalidKeyError for a key that is not 32 bytes; the core's verify() checks lengths and its
 * public-key rule first, and maps a throw to false.
 */
export function nodeVerify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (pub.length !== 32) throw new InvalidKeyError('public key must be 32 bytes');
  const hex = Buffer.from(pub.buffer, pub.byteOffset, pub.length).toString('hex');
  let key = publicKeys.get(hex);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
    if (publicKeys.size >= MAX_PUBLIC_KEYS) publicKeys.clear();
    publicKeys.set(hex, key);
  }
  return verify(null, msg, key, sig);
}

/** Makes the core's sign() and verify() use nodeSign and nodeVerify in this process. */
export function installNodeEd25519(): void {
  setSyncSigner(nodeSign);
  setSyncVerifier(nodeVerify);
}
