// The Node signer and verifier (src/lib/platform/node-ed25519.ts) must give the very signatures and
// verdicts of the other backends (Ed25519 is deterministic, RFC 8032), and sign() and verify() must
// use them once installed (ed25519.test.ts runs its edge cases on them too).
import { afterEach, describe, expect, it } from 'vitest';
import * as noble from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { InvalidKeyError } from '../../src/lib/core/errors.js';
import {
  forceEd25519Backend,
  sign,
  setSyncSigner,
  setSyncVerifier,
  SYNC_VERIFY_SLICE_MS,
  verify
} from '../../src/lib/core/ed25519.js';
import {
  installNodeEd25519,
  nodeEd25519Impls,
  nodeEd25519Library,
  nodeSign,
  nodeVerify
} from '../../src/lib/platform/node-ed25519.js';
import { mulberry } from '../helpers/ledger-nodes.js';

const bytes = (n: number, rand: () => number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));

describe('Node Ed25519 signer (libsodium, node:crypto fallback)', () => {
  afterEach(() => {
    setSyncSigner(undefined);
    setSyncVerifier(undefined);
    forceEd25519Backend(undefined);
  });

  it('signs exactly as WebCrypto and noble do, for random seeds and messages (RFC 8032 vector too)', async () => {
    // RFC 8032 §7.1 TEST 2: one-byte message 0x72.
    const seed = Uint8Array.from(
      Buffer.from('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', 'hex')
    );
    const want =
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00';
    expect(Buffer.from(nodeSign(seed, Uint8Array.of(0x72))).toString('hex')).toBe(want);
    const rand = mulberry(20261201);
    for (let i = 0; i < 50; i++) {
      const s = bytes(32, rand);
      const msg = bytes(Math.floor(rand() * 600), rand);
      const ours = nodeSign(s, msg);
      forceEd25519Backend('webcrypto');
      expect(ours).toEqual(await sign(s, msg));
      forceEd25519Backend('noble');
      expect(ours).toEqual(await sign(s, msg));
      expect(await verify(noble.getPublicKey(s), msg, ours)).toBe(true);
    }
  });

  it('uses libsodium where its binary loads (Linux x64 with glibc >= 2.33 here), else node:crypto', () => {
    expect(nodeEd25519Library).toBe(nodeEd25519Impls.libsodium !== undefined ? 'libsodium' : 'node:crypto');
    const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
      ?.glibcVersionRuntime;
    if (process.platform === 'linux' && process.arch === 'x64' && glibc !== undefined && Number(glibc) >= 2.33)
      expect(nodeEd25519Library).toBe('libsodium');
  });

  it('libsodium and the node:crypto fallback give the same signatures and verdicts', () => {
    const sodium = nodeEd25519Impls.libsodium;
    if (sodium === undefined) return; // nothing to compare where libsodium does not load
    const ossl = nodeEd25519Impls.openssl;
    const rand = mulberry(20261203);
    for (let i = 0; i < 100; i++) {
      const seed = bytes(32, rand);
      const pub = noble.getPublicKey(seed);
      const msg = bytes(Math.floor(rand() * 600), rand);
      const sig = sodium.sign(seed, msg);
      expect(ossl.sign(seed, msg)).toEqual(sig);
      const bad = sig.slice();
      bad[Math.floor(rand() * 64)] ^= 1 << Math.floor(rand() * 8);
      for (const s of [sig, bad]) expect(sodium.verify(pub, msg, s)).toBe(ossl.verify(pub, msg, s));
    }
    // Edge cases: S + L, a neutral R with S = k·a, an order-8 R, a mixed-order key, wrong lengths.
    // The raw libraries differ only on the neutral R, which the core refuses first (ed25519.ts).
    const P = noble.Point;
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const le = (b: Uint8Array): bigint => b.reduceRight((x, v) => (x << 8n) | BigInt(v), 0n);
    const le32 = (x: bigint): Uint8Array =>
      Uint8Array.from({ length: 32 }, (_, i) => Number((x >> BigInt(8 * i)) & 255n));
    const T = P.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'); // order 8
    const a = 555555n;
    const pub = P.BASE.multiply(a).toBytes();
    const msg = Uint8Array.of(9);
    const k = (R: Uint8Array, A: Uint8Array) => le(sha512(new Uint8Array([...R, ...A, ...msg]))) % L;
    const neutral = new Uint8Array(32);
    neutral[0] = 1;
    const forged = (R: Uint8Array, A = pub) => new Uint8Array([...R, ...le32((k(R, A) * a) % L)]);
    const honest = sodium.sign(le32(a), msg); // any valid signature, for the S + L case
    const honestPub = noble.getPublicKey(le32(a));
    const plusL = new Uint8Array([...honest.subarray(0, 32), ...le32(le(honest.subarray(32)) + L)]);
    const mixed = P.BASE.multiply(a).add(T).toBytes();
    const cases: [Uint8Array, Uint8Array, boolean | 'differ'][] = [
      [honestPub, honest, true],
      [honestPub, plusL, false],
      [pub, forged(neutral), 'differ'], // OpenSSL true, libsodium false
      [pub, forged(T.toBytes()), false],
      [mixed, forged(P.BASE.multiply(7n).toBytes(), mixed), false],
      [pub, new Uint8Array(63), false],
      [pub, new Uint8Array(65), false]
    ];
    for (const [key, s, want] of cases) {
      if (want === 'differ') {
        expect(ossl.verify(key, msg, s)).toBe(true);
        expect(sodium.verify(key, msg, s)).toBe(false);
      } else {
        expect(sodium.verify(key, msg, s)).toBe(want);
        expect(ossl.verify(key, msg, s)).toBe(want);
      }
    }
    for (const impl of [sodium, ossl]) {
      expect(() => impl.sign(new Uint8Array(31), Uint8Array.of(1))).toThrow(InvalidKeyError);
      expect(() => impl.verify(new Uint8Array(33), Uint8Array.of(1), new Uint8Array(64))).toThrow(InvalidKeyError);
      // A seed changed in place gets a new key (keys are cached by the seed array).
      const seed = new Uint8Array(32).fill(3);
      expect(impl.sign(seed, msg)).toEqual(noble.sign(msg, seed));
      seed.fill(4);
      expect(impl.sign(seed, msg)).toEqual(noble.sign(msg, seed));
    }
  });

  it('sign() uses the installed signer, and a seed changed in place gets a new key', async () => {
    installNodeEd25519();
    const seed = new Uint8Array(32).fill(5);
    const msg = Uint8Array.of(1, 2, 3);
    const a = await sign(seed, msg);
    expect(a).toEqual(noble.sign(msg, seed));
    seed.fill(6); // same array, other key
    expect(await sign(seed, msg)).toEqual(noble.sign(msg, seed));
    let calls = 0;
    setSyncSigner((s, m) => {
      calls++;
      return nodeSign(s, m);
    });
    await sign(seed, msg);
    expect(calls).toBe(1);
    for (const n of [31, 33, 64]) expect(() => nodeSign(new Uint8Array(n), msg)).toThrow(/32 bytes/);
  });

  it('verify() uses the installed verifier, for keys that pass the public-key rule only', async () => {
    const seed = new Uint8Array(32).fill(7);
    const pub = noble.getPublicKey(seed);
    const msg = Uint8Array.of(4, 5, 6);
    const sig = noble.sign(msg, seed);
    let calls = 0;
    setSyncVerifier((p, m, s) => {
      calls++;
      return nodeVerify(p, m, s);
    });
    expect(await verify(pub, msg, sig)).toBe(true);
    expect(await verify(pub, Uint8Array.of(4, 5, 7), sig)).toBe(false);
    expect(calls).toBe(2);
    // A small-order key is refused before the verifier is asked (OpenSSL would accept a forgery;
    // libsodium refuses it itself).
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const forged = new Uint8Array(64);
    forged[0] = 1;
    expect(await verify(identity, msg, forged)).toBe(false);
    expect(calls).toBe(2);
    // A verifier that throws gives false.
    setSyncVerifier(() => {
      throw new Error('boom');
    });
    expect(await verify(pub, msg, sig)).toBe(false);
    expect(() => nodeVerify(new Uint8Array(31), msg, sig)).toThrow(/32 bytes/);
  });

  it('a run of synchronous verifications gives the event loop a tick every few ms', async () => {
    const seed = new Uint8Array(32).fill(8);
    const pub = noble.getPublicKey(seed);
    const msg = Uint8Array.of(1);
    const sig = noble.sign(msg, seed);
    // 1 ms a verification: 40 in a row would hold the loop for 40 ms without the slices.
    setSyncVerifier((p, m, s2) => {
      const until = performance.now() + 1;
      while (performance.now() < until);
      return nodeVerify(p, m, s2);
    });
    let timerFiredAt = -1;
    let done = 0;
    setTimeout(() => (timerFiredAt = done), 0);
    for (; done < 40; done++) expect(await verify(pub, msg, sig)).toBe(true);
    // The timer ran between verifications, within a few slices of them (a setImmediate tick
    // comes before the timers phase, so the first yield may not reach it).
    expect(timerFiredAt).toBeGreaterThan(0);
    expect(timerFiredAt).toBeLessThanOrEqual(4 * (SYNC_VERIFY_SLICE_MS + 1));
  });

  it('verifications started all at once also give the event loop a tick every few ms', async () => {
    const seed = new Uint8Array(32).fill(9);
    const pub = noble.getPublicKey(seed);
    const msg = Uint8Array.of(2);
    const sig = noble.sign(msg, seed);
    let done = 0;
    setSyncVerifier((p, m, s2) => {
      const until = performance.now() + 1;
      while (performance.now() < until);
      done++;
      return nodeVerify(p, m, s2);
    });
    let timerFiredAt = -1;
    setTimeout(() => (timerFiredAt = done), 0);
    const all = await Promise.all(Array.from({ length: 40 }, () => verify(pub, msg, sig)));
    expect(all.every(Boolean)).toBe(true);
    expect(timerFiredAt).toBeGreaterThan(0);
    expect(timerFiredAt).toBeLessThanOrEqual(4 * (SYNC_VERIFY_SLICE_MS + 1));
  });
});
