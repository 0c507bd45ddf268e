// Ed25519 keys, signing and verification. WebCrypto where the platform has Ed25519 (Node 20,
// Chromium), @noble/ed25519 otherwise. Both are RFC 8032 and deterministic, so they produce
// identical signatures; verification is made to agree by the shared public-key rule below.
import * as noble from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import type { IdentityKeys } from './types.js';
import { InvalidKeyError } from './errors.js';
import { ED25519_MAX_VERIFIES_IN_FLIGHT, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './constants.js';
import { Lane } from './lane.js';
import { macrotask } from './loop-slice.js';
import { bytesEqual, concatBytes, toHex } from './bytes.js';

export type Ed25519Backend = 'webcrypto' | 'noble';

/** RFC 8410 PKCS#8 wrapper of a 32-byte Ed25519 seed. */
const PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20
]);
const ALG = { name: 'Ed25519' } as const;

// noble's synchronous API needs a SHA-512; the sync path avoids a WebCrypto digest round trip per call.
noble.hashes.sha512 ??= sha512;

let backendPromise: Promise<Ed25519Backend> | undefined;
let forced: Ed25519Backend | undefined;

function subtle(): SubtleCrypto | undefined {
  return globalThis.crypto?.subtle;
}

/** Detects once whether WebCrypto Ed25519 works (round trip on a fixed key) and caches it. */
export function ed25519Backend(): Promise<Ed25519Backend> {
  if (forced) return Promise.resolve(forced);
  backendPromise ??= probeWebCrypto().then((ok) => (ok ? 'webcrypto' : 'noble'));
  return backendPromise;
}

async function probeWebCrypto(): Promise<boolean> {
  try {
    const seed = new Uint8Array(32).fill(7);
    const msg = new Uint8Array([1, 2, 3]);
    const sig = await webSign(seed, msg);
    const pub = noble.getPublicKey(seed);
    return sig.length === SIGNATURE_BYTES && (await webVerify(pub, msg, sig));
  } catch {
    return false;
  }
}

/** Test hook: pin a backend (undefined = auto-detect). */
export function forceEd25519Backend(backend: Ed25519Backend | undefined): void {
  forced = backend;
}

export async function generateKeys(): Promise<IdentityKeys> {
  const seed = globalThis.crypto.getRandomValues(new Uint8Array(32));
  return { seed, publicKey: await publicKeyFromSeed(seed) };
}

export async function publicKeyFromSeed(seed: Uint8Array): Promise<Uint8Array> {
  assertLen(seed, 32, 'seed');
  return noble.getPublicKey(seed);
}

/**
 * A platform's synchronous Ed25519 signer: (32-byte seed, message) → 64-byte RFC 8032 signature.
 * Ed25519 signatures are deterministic, so it must return the very bytes WebCrypto and noble do.
 */
export type SyncSigner = (seed: Uint8Array, msg: Uint8Array) => Uint8Array;

let syncSigner: SyncSigner | undefined;

/**
 * Installs (or with undefined removes) a synchronous signer that sign() uses instead of the
 * backend. For Node (src/lib/platform/node-ed25519.ts, libsodium: ~19 µs a signature here):
 * WebCrypto's sign runs on the libuv pool, and on an overloaded machine each signature waited for
 * two thread wake-ups; a local write group signs its entries one after another (each names the
 * previous hash), so 64 writes took 1.5-60 s to prepare in S10's simulated nodes (21 ms to 1 s a
 * write) while their main thread was 70-84% idle.
 */
export function setSyncSigner(signer: SyncSigner | undefined): void {
  syncSigner = signer;
}

/**
 * A platform's synchronous Ed25519 verifier: (32-byte public key, message, 64-byte signature) →
 * valid. Called only for a key that passed this module's public-key rule (canonical, in the
 * prime-order subgroup) and an R that is not the neutral point, so it must decide the signature
 * exactly as WebCrypto does on that platform.
 */
export type SyncVerifier = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => boolean;

let syncVerifier: SyncVerifier | undefined;

/**
 * Installs (or with undefined removes) a synchronous verifier that verify() uses instead of the
 * backend. For Node (src/lib/platform/node-ed25519.ts, libsodium): WebCrypto's verify there
 * costs about twice the CPU of the same OpenSSL check called directly (225 against 118 µs a
 * verification here, 2,000 verifications, 2026-12-02), and libsodium's about half of OpenSSL's
 * (bench/node-crypto.ts); CPU is what an overloaded relay or simulated node lacks.
 */
export function setSyncVerifier(verifier: SyncVerifier | undefined): void {
  syncVerifier = verifier;
  syncVerifyMs = 0;
}

/**
 * A synchronous verifier gives back no event-loop tick: a batch verified with it runs as one
 * chain of microtasks, and in S10 a simulated node's loop went 8 s without a timer or a network
 * read. So verify() yields a macrotask tick after each SYNC_VERIFY_SLICE_MS of verification.
 */
export const SYNC_VERIFY_SLICE_MS = 4;
let syncVerifyMs = 0;

function verifiedSync(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array, verifier: SyncVerifier): boolean {
  const t0 = performance.now();
  try {
    return verifier(pub, msg, sig);
  } catch {
    return false;
  } finally {
    syncVerifyMs += performance.now() - t0;
  }
}

/** Set while verifications wait for their macrotask tick: every caller waits, not just one. */
let syncVerifyGate: Promise<void> | undefined;

/**
 * A synchronous verification, after a macrotask tick if the ones since the last tick took a
 * slice. The check and the verification run in one go, so a batch started at once (e.g.
 * `Promise.all` over 256 entries) also yields: every caller waits at the gate.
 */
async function verifySliced(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array, v: SyncVerifier): Promise<boolean> {
  while (syncVerifyGate !== undefined || syncVerifyMs >= SYNC_VERIFY_SLICE_MS) {
    if (syncVerifyGate === undefined) {
      syncVerifyMs = 0;
      syncVerifyGate = macrotask().then(() => {
        syncVerifyGate = undefined;
      });
    }
    await syncVerifyGate;
  }
  return verifiedSync(pub, msg, sig, v);
}

export async function sign(seed: Uint8Array, msg: Uint8Array): Promise<Uint8Array> {
  assertLen(seed, 32, 'seed');
  if (syncSigner !== undefined) return syncSigner(seed, msg);
  if ((await ed25519Backend()) === 'webcrypto') return webSign(seed, msg);
  return noble.sign(msg, seed);
}

/**
 * False (never throws) for a wrong-length, non-canonical, small-order or mixed-order key, an R
 * that encodes the neutral point, or a bad signature. Every backend gives the same verdict:
 * OpenSSL and BoringSSL check the cofactorless equation, noble (zip215: false) the cofactored
 * one, and the two differ only when the key or R has a small-order component, which the key rule
 * and (for noble) the R check refuse. libsodium (Node's synchronous verifier) also refuses a
 * small-order R; with a key in the prime-order subgroup the only such R the others can accept is
 * the neutral point (a signature with S = k·a, which only the key's holder can make; an honest
 * signer's R = rB never is), so it is refused here for every backend.
 */
export async function verify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  if (pub.length !== PUBLIC_KEY_BYTES || sig.length !== SIGNATURE_BYTES) return false;
  if (!acceptablePublicKey(pub)) return false;
  if (identityR(sig)) return false;
  if (syncVerifier !== undefined) return verifySliced(pub, msg, sig, syncVerifier);
  if ((await ed25519Backend()) === 'webcrypto') {
    try {
      return await webVerify(pub, msg, sig);
    } catch {
      return false;
    }
  }
  try {
    // An R with a small-order component passes noble's cofactored check for some messages, and
    // never the cofactorless one (SB - kA lies in the prime-order subgroup): refused here too.
    if (!noble.Point.fromBytes(sig.subarray(0, 32), false).isTorsionFree()) return false;
    return noble.verify(sig, msg, pub, { zip215: false });
  } catch {
    return false;
  }
}

/** The canonical encoding of the neutral point (y = 1, x = 0): 01 00 … 00. */
function identityR(sig: Uint8Array): boolean {
  if (sig[0] !== 1) return false;
  for (let i = 1; i < 32; i++) if (sig[i] !== 0) return false;
  return true;
}

// Public-key rule shared by all backends (OpenSSL accepts small-order keys, noble strict does
// not): the key must be a canonical point encoding in the prime-order subgroup: not of small
// order, and without a small-order component (A + T with T of order 8: signatures under it pass
// noble's cofactored check but OpenSSL's cofactorless one only when k = 0 mod 8, so peers would
// disagree; found by review, 2026-12-02). Honest keys (aB) are always in the subgroup. Cached.
const keyVerdicts = new Map<string, boolean>();
const MAX_KEY_VERDICTS = 4096;

function acceptablePublicKey(pub: Uint8Array): boolean {
  const hex = toHex(pub);
  let ok = keyVerdicts.get(hex);
  if (ok === undefined) {
    try {
      const point = noble.Point.fromBytes(pub, false);
      ok = !point.isSmallOrder() && point.isTorsionFree();
    } catch {
      ok = false;
    }
    if (keyVerdicts.size >= MAX_KEY_VERDICTS) keyVerdicts.clear();
    keyVerdicts.set(hex, ok);
  }
  return ok;
}

// Imported signing keys, keyed by the seed array (identities reuse one array); the copy guards
// against a caller mutating the array in place.
const signingKeys = new WeakMap<Uint8Array, { copy: Uint8Array; key: CryptoKey }>();

async function webSign(seed: Uint8Array, msg: Uint8Array): Promise<Uint8Array> {
  const s = subtle();
  if (!s) throw new Error('WebCrypto unavailable');
  let cached = signingKeys.get(seed);
  if (!cached || !bytesEqual(cached.copy, seed)) {
    const pkcs8 = concatBytes(PKCS8_PREFIX, seed);
    const key = await s.importKey('pkcs8', ab(pkcs8), ALG, false, ['sign']);
    cached = { copy: seed.slice(), key };
    signingKeys.set(seed, cached);
  }
  return new Uint8Array(await s.sign(ALG, cached.key, ab(msg)));
}

// Imported verification keys by author: feeds verify many entries of few authors.
const verifyKeys = new Map<string, CryptoKey>();

// WebCrypto runs every operation on one platform queue (Node: the libuv pool; Chromium: its crypto
// workers). An ingest verifies up to LEDGER_VERIFY_CONCURRENCY entries at once and gossip many
// more, and a local write's signature queued behind them waited for all of them: measured 67 ms
// behind 256 verifications and 400 ms behind 2,000 in Node, so a group of 64 writes took seconds
// to sign under ingest load. Verifications pass through this lane; signatures do not.
const verifyLane = new Lane(ED25519_MAX_VERIFIES_IN_FLIGHT);

function webVerify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  return verifyLane.run(() => webVerifyNow(pub, msg, sig));
}

async function webVerifyNow(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  const s = subtle();
  if (!s) throw new Error('WebCrypto unavailable');
  const hex = toHex(pub);
  let key = verifyKeys.get(hex);
  if (!key) {
    key = await s.importKey('raw', ab(pub), ALG, false, ['verify']);
    if (verifyKeys.size >= MAX_KEY_VERDICTS) verifyKeys.clear();
    verifyKeys.set(hex, key);
  }
  return s.verify(ALG, key, ab(sig), ab(msg));
}

/** WebCrypto's types want ArrayBuffer-backed views; copy only when it is not. */
function ab(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);
}

function assertLen(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new InvalidKeyError(`${what} must be ${n} bytes`);
}
