// Node only: synchronous Ed25519 with libsodium (sodium-native) for the core's sign() and verify()
// (ed25519.ts setSyncSigner, setSyncVerifier). Same RFC 8032 signatures as every other backend
// (Ed25519 signing is deterministic), and the same verdicts for every key and signature that
// reaches it: the core's rules refuse first what libsodium alone would judge differently
// (small-order and mixed-order keys, an identity R; see ed25519.ts verify()). No libuv pool round
// trip per call as with WebCrypto. Measured here (bench/node-crypto.ts, 2026-12-02, 300-byte
// message): libsodium 52 µs a verification and 19 µs a signature, node:crypto (OpenSSL 3) 106-135
// and 36-39 µs. Imported by Node entry points (the relay, simulated nodes), never by the browser
// build.
import sodium from 'sodium-native';
import { setSyncSigner, setSyncVerifier } from '../core/ed25519.js';
import { InvalidKeyError } from '../core/errors.js';

const SEED_BYTES = 32;
const PUBLIC_KEY_BYTES = 32;
const SECRET_KEY_BYTES = 64; // libsodium's: seed || public key
const SIGNATURE_BYTES = 64;

// Secret keys by the seed array (identities reuse one array); the copy guards against a caller
// mutating the array in place (then the key is derived again).
const keys = new WeakMap<Uint8Array, { copy: Uint8Array; secret: Uint8Array }>();

function secretOf(seed: Uint8Array): Uint8Array {
  const cached = keys.get(seed);
  if (cached !== undefined && Buffer.compare(cached.copy, seed) === 0) return cached.secret;
  const copy = Uint8Array.from(seed);
  const secret = new Uint8Array(SECRET_KEY_BYTES);
  sodium.crypto_sign_seed_keypair(new Uint8Array(PUBLIC_KEY_BYTES), secret, copy);
  keys.set(seed, { copy, secret });
  return secret;
}

/** (32-byte seed, message) → 64-byte Ed25519 signature, synchronously. */
export function nodeSign(seed: Uint8Array, msg: Uint8Array): Uint8Array {
  if (seed.length !== SEED_BYTES) throw new InvalidKeyError('seed must be 32 bytes');
  const sig = new Uint8Array(SIGNATURE_BYTES);
  sodium.crypto_sign_detached(sig, msg, secretOf(seed));
  return sig;
}

/**
 * (32-byte public key, message, 64-byte signature) → valid, synchronously (libsodium's
 * crypto_sign_verify_detached: S < L, cofactorless equation, R compared as bytes). Throws
 * InvalidKeyError for a key that is not 32 bytes; the core's verify() checks lengths and its
 * rules first, and maps a throw to false.
 */
export function nodeVerify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (pub.length !== PUBLIC_KEY_BYTES) throw new InvalidKeyError('public key must be 32 bytes');
  if (sig.length !== SIGNATURE_BYTES) return false;
  return sodium.crypto_sign_verify_detached(sig, msg, pub);
}

/** Makes the core's sign() and verify() use nodeSign and nodeVerify in this process. */
export function installNodeEd25519(): void {
  setSyncSigner(nodeSign);
  setSyncVerifier(nodeVerify);
}
