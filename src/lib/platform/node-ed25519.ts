// Node only: synchronous Ed25519 for the core's sign() and verify() (ed25519.ts setSyncSigner,
// setSyncVerifier), without the libuv pool round trip each WebCrypto call takes. libsodium
// (sodium-native's prebuilt binary: Linux x64/arm64 with glibc >= 2.33, macOS, Windows) where it
// loads, else node:crypto (OpenSSL 3). Same RFC 8032 signatures as every other backend (Ed25519
// signing is deterministic), and the same verdicts for every key and signature that reaches
// them: the core's rules refuse first what libsodium alone would judge otherwise (small-order
// and mixed-order keys, an R that is the neutral point; ed25519.ts verify()). Measured here
// (bench/node-crypto.ts, 2026-12-02, 300-byte messages): libsodium 53 µs a verification and 19 µs
// a signature, node:crypto 108 and 36 µs. Imported by Node entry points (the relay, simulated
// nodes), never by the browser build.
import { createRequire } from 'node:module';
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type * as Sodium from 'sodium-native';
import { setSyncSigner, setSyncVerifier, type SyncSigner, type SyncVerifier } from '../core/ed25519.js';
import { InvalidKeyError } from '../core/errors.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from '../core/constants.js';

const SEED_BYTES = 32;
/** libsodium's secret key: the seed, then the public key. */
const SODIUM_SECRET_KEY_BYTES = SEED_BYTES + PUBLIC_KEY_BYTES;

/** Which library signs and verifies in this process. */
export type NodeEd25519Library = 'libsodium' | 'node:crypto';

/** sodium-native, or undefined where its binary does not load (e.g. musl, old glibc). */
function loadSodium(): typeof Sodium | undefined {
  try {
    return createRequire(import.meta.url)('sodium-native') as typeof Sodium;
  } catch {
    return undefined;
  }
}

const sodium = loadSodium();

/** libsodium where it loads, else node:crypto. */
export const nodeEd25519Library: NodeEd25519Library = sodium !== undefined ? 'libsodium' : 'node:crypto';

function checkSeed(seed: Uint8Array): void {
  if (seed.length !== SEED_BYTES) throw new InvalidKeyError('seed must be 32 bytes'); // node:crypto would take 33 or 64
}

function checkPublicKey(pub: Uint8Array): void {
  if (pub.length !== PUBLIC_KEY_BYTES) throw new InvalidKeyError('public key must be 32 bytes');
}

/**
 * Keys derived once per seed array (identities reuse one array); the copy guards against a caller
 * mutating the array in place (then the key is derived again).
 */
function seedCache<K>(derive: (seed: Uint8Array) => K): (seed: Uint8Array) => K {
  const keys = new WeakMap<Uint8Array, { copy: Uint8Array; key: K }>();
  return (seed) => {
    const cached = keys.get(seed);
    if (cached !== undefined && Buffer.compare(cached.copy, seed) === 0) return cached.key;
    const copy = Uint8Array.from(seed);
    const key = derive(copy);
    keys.set(seed, { copy, key });
    return key;
  };
}

/** libsodium: 64-byte secret keys (seed || public key); crypto_sign_verify_detached. */
function libsodium(na: typeof Sodium): { sign: SyncSigner; verify: SyncVerifier } {
  const secretOf = seedCache((seed) => {
    const secret = new Uint8Array(SODIUM_SECRET_KEY_BYTES);
    na.crypto_sign_seed_keypair(new Uint8Array(PUBLIC_KEY_BYTES), secret, seed);
    return secret;
  });
  return {
    sign(seed, msg) {
      checkSeed(seed);
      const sig = new Uint8Array(SIGNATURE_BYTES);
      na.crypto_sign_detached(sig, msg, secretOf(seed));
      return sig;
    },
    verify(pub, msg, sig) {
      checkPublicKey(pub);
      return sig.length === SIGNATURE_BYTES && na.crypto_sign_verify_detached(sig, msg, pub);
    }
  };
}

/** RFC 8410 PKCS#8 wrapper of a 32-byte Ed25519 seed, and SubjectPublicKeyInfo of a public key. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** Public keys kept imported (feeds verify many entries of few authors); cleared when full. */
const MAX_PUBLIC_KEYS = 4096;

/** node:crypto (OpenSSL): KeyObjects built once per seed and per public key. */
function openssl(): { sign: SyncSigner; verify: SyncVerifier } {
  const privateOf = seedCache((seed) =>
    createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  );
  const publicKeys = new Map<string, KeyObject>();
  return {
    sign(seed, msg) {
      checkSeed(seed);
      return new Uint8Array(sign(null, msg, privateOf(seed)));
    },
    verify(pub, msg, sig) {
      checkPublicKey(pub);
      const hex = Buffer.from(pub.buffer, pub.byteOffset, pub.length).toString('hex');
      let key = publicKeys.get(hex);
      if (key === undefined) {
        key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
        if (publicKeys.size >= MAX_PUBLIC_KEYS) publicKeys.clear();
        publicKeys.set(hex, key);
      }
      return verify(null, msg, key, sig);
    }
  };
}

/** Both implementations, for tests and the bench (`libsodium` undefined where it does not load). */
export const nodeEd25519Impls: {
  libsodium?: { sign: SyncSigner; verify: SyncVerifier };
  openssl: { sign: SyncSigner; verify: SyncVerifier };
} = {
  libsodium: sodium !== undefined ? libsodium(sodium) : undefined,
  openssl: openssl()
};

const chosen = nodeEd25519Impls.libsodium ?? nodeEd25519Impls.openssl;

/** (32-byte seed, message) → 64-byte Ed25519 signature, synchronously. Throws InvalidKeyError for a seed that is not 32 bytes. */
export const nodeSign: SyncSigner = (seed, msg) => chosen.sign(seed, msg);

/**
 * (32-byte public key, message, 64-byte signature) → valid, synchronously (S < L, the
 * cofactorless equation, R compared as bytes). Throws InvalidKeyError for a key that is not 32
 * bytes; the core's verify() checks lengths and its rules first, and maps a throw to false.
 */
export const nodeVerify: SyncVerifier = (pub, msg, sig) => chosen.verify(pub, msg, sig);

/** Makes the core's sign() and verify() use nodeSign and nodeVerify in this process. */
export function installNodeEd25519(): void {
  setSyncSigner(nodeSign);
  setSyncVerifier(nodeVerify);
}
