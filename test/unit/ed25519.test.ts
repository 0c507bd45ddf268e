import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import {
  ed25519Backend,
  forceEd25519Backend,
  generateKeys,
  publicKeyFromSeed,
  setSyncSigner,
  setSyncVerifier,
  sign,
  verify,
  type Ed25519Backend
} from '../../src/lib/core/ed25519.js';
import { installNodeEd25519, nodeEd25519Impls, nodeVerify } from '../../src/lib/platform/node-ed25519.js';
import { concatBytes, fromHex, toHex } from '../../src/lib/core/bytes.js';
import * as noble from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

/**
 * 'node': the synchronous signer and verifier the relay and Node peers install (libsodium where
 * it loads); 'openssl': their node:crypto fallback.
 */
type Backend = Ed25519Backend | 'node' | 'openssl';
const BACKENDS: Backend[] = ['webcrypto', 'noble', 'node', 'openssl'];

// RFC 8032 §7.1, TEST 2 (one-byte message 0x72).
const RFC = {
  seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
  pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
  msg: '72',
  sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'
};

const reset = (): void => {
  forceEd25519Backend(undefined);
  setSyncSigner(undefined);
  setSyncVerifier(undefined);
};
afterEach(reset);

async function withBackend<T>(b: Backend, fn: () => Promise<T>): Promise<T> {
  if (b === 'node') installNodeEd25519();
  else if (b === 'openssl') {
    setSyncSigner(nodeEd25519Impls.openssl.sign);
    setSyncVerifier(nodeEd25519Impls.openssl.verify);
  } else forceEd25519Backend(b);
  try {
    return await fn();
  } finally {
    reset();
  }
}

// Curve arithmetic for hand-made signatures: the group order L, little-endian scalars, and T, a
// point of order 8.
const P = noble.Point;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const le = (b: Uint8Array): bigint => b.reduceRight((x, v) => (x << 8n) | BigInt(v), 0n);
const le32 = (x: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((x >> BigInt(8 * i)) & 255n));
const T = P.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
/** The challenge k = SHA-512(R ‖ A ‖ M) mod L of RFC 8032. */
const challenge = (R: Uint8Array, pub: Uint8Array, msg: Uint8Array): bigint => le(sha512(concatBytes(R, pub, msg))) % L;

describe('ed25519', () => {
  it('detects WebCrypto Ed25519 in Node 20', async () => {
    expect(await ed25519Backend()).toBe('webcrypto');
  });

  it.each(BACKENDS)('matches the RFC 8032 test vector (%s)', async (b) => {
    await withBackend(b, async () => {
      expect(toHex(await publicKeyFromSeed(fromHex(RFC.seed)))).toBe(RFC.pub);
      expect(toHex(await sign(fromHex(RFC.seed), fromHex(RFC.msg)))).toBe(RFC.sig);
      expect(await verify(fromHex(RFC.pub), fromHex(RFC.msg), fromHex(RFC.sig))).toBe(true);
    });
  });

  it('WebCrypto, noble and libsodium (Node) produce identical signatures and verdicts', async () => {
    for (let i = 0; i < 20; i++) {
      const keys = await generateKeys();
      const msg = crypto.getRandomValues(new Uint8Array(i * 13));
      const web = await withBackend('webcrypto', () => sign(keys.seed, msg));
      const nob = await withBackend('noble', () => sign(keys.seed, msg));
      const nod = await withBackend('node', () => sign(keys.seed, msg));
      expect(toHex(web)).toBe(toHex(nob));
      expect(toHex(nod)).toBe(toHex(nob));
      const bad = web.slice();
      bad[i % 64] ^= 0x04;
      const other = msg.length ? msg.slice() : new Uint8Array([0]);
      other[0] ^= 1;
      for (const b of BACKENDS) {
        await withBackend(b, async () => {
          expect(await verify(keys.publicKey, msg, web)).toBe(true);
          expect(await verify(keys.publicKey, msg, bad)).toBe(false);
          expect(await verify(keys.publicKey, other, web)).toBe(false);
        });
      }
    }
  });

  it('every backend rejects a non-canonical S (S + L) that a lax verifier might accept', async () => {
    const keys = await generateKeys();
    const msg = new Uint8Array([9, 9, 9]);
    const sig = await sign(keys.seed, msg);
    // Add the group order L to S (little-endian) -> same point equation, non-canonical encoding.
    const Lbytes = fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
    const s = sig.slice(32);
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const v = s[i] + Lbytes[i] + carry;
      s[i] = v & 0xff;
      carry = v >> 8;
    }
    const malleated = concatBytes(sig.slice(0, 32), s);
    for (const b of BACKENDS) {
      await withBackend(b, async () => expect(await verify(keys.publicKey, msg, malleated)).toBe(false));
    }
  });

  it('every backend rejects small-order public keys, which raw WebCrypto (OpenSSL) accepts', async () => {
    const identity = new Uint8Array(32);
    identity[0] = 1; // encoding of the neutral point
    const forged = new Uint8Array(64);
    forged[0] = 1; // R = neutral point, S = 0: "valid" for any message under cofactorless verification
    const msg = new Uint8Array([1, 2, 3]);
    const key = await crypto.subtle.importKey('raw', identity, { name: 'Ed25519' }, false, ['verify']);
    expect(await crypto.subtle.verify({ name: 'Ed25519' }, key, forged, msg)).toBe(true);
    for (const b of BACKENDS) {
      await withBackend(b, async () => expect(await verify(identity, msg, forged)).toBe(false));
    }
  });

  it('every backend refuses a mixed-order key (A + T) and an R with a small-order component', async () => {
    // noble checks the cofactored equation, OpenSSL/BoringSSL the cofactorless one: they differ
    // only for such keys or R, so without this rule peers would disagree on what is valid.
    const msg = new Uint8Array([1, 2, 3]);
    const signWith = (a: bigint, pub: Uint8Array, R: Uint8Array, r: bigint): Uint8Array => {
      const k = challenge(R, pub, msg);
      return concatBytes(R, le32((r + k * a) % L));
    };
    const a = 123456789n;
    const mixed = P.BASE.multiply(a).add(T).toBytes();
    const honest = P.BASE.multiply(a).toBytes();
    for (let r = 1000n; r < 1016n; r++) {
      const plainR = P.BASE.multiply(r).toBytes();
      const twistedR = P.BASE.multiply(r).add(T).toBytes();
      for (const b of BACKENDS) {
        await withBackend(b, async () => {
          expect(await verify(mixed, msg, signWith(a, mixed, plainR, r))).toBe(false);
          expect(await verify(honest, msg, signWith(a, honest, twistedR, r))).toBe(false);
          expect(await verify(honest, msg, signWith(a, honest, plainR, r))).toBe(true);
        });
      }
    }
  });

  it('every backend refuses an R that encodes the neutral point, which OpenSSL and noble accept and libsodium not', async () => {
    // S = k·a makes SB - kA the neutral point: the cofactorless equation holds with R = 01 00…00.
    // Only the key's holder can make it, yet without the rule Node (libsodium) and browsers
    // (BoringSSL) would disagree on such an entry.
    const a = 987654321n;
    const pub = P.BASE.multiply(a).toBytes();
    const R = new Uint8Array(32);
    R[0] = 1;
    const msg = new Uint8Array([7, 7, 7]);
    const sig = concatBytes(R, le32((challenge(R, pub, msg) * a) % L));
    const key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
    expect(await crypto.subtle.verify({ name: 'Ed25519' }, key, new Uint8Array(sig), msg)).toBe(true); // raw OpenSSL
    expect(noble.verify(sig, msg, pub, { zip215: false })).toBe(true); // raw noble
    expect(nodeEd25519Impls.openssl.verify(pub, msg, sig)).toBe(true); // raw node:crypto
    expect(nodeVerify(pub, msg, sig)).toBe(nodeEd25519Impls.libsodium === undefined); // raw libsodium: false
    for (const b of BACKENDS) {
      await withBackend(b, async () => expect(await verify(pub, msg, sig)).toBe(false));
    }
    // Every small-order R (the eight torsion points, and each with the sign bit flipped) with
    // S = k·a: refused by every backend (found equal by a review's corpus, 2026-12-02).
    let point = P.ZERO;
    for (let i = 0; i < 8; i++, point = point.add(T)) {
      for (const flip of [0, 0x80]) {
        const r = point.toBytes();
        r[31] ^= flip;
        const forged = concatBytes(r, le32((challenge(r, pub, msg) * a) % L));
        for (const b of BACKENDS) {
          await withBackend(b, async () => expect(await verify(pub, msg, forged), `${b} R=${toHex(r)}`).toBe(false));
        }
      }
    }
  });

  it('verify returns false (no throw) for wrong lengths and non-points', async () => {
    const keys = await generateKeys();
    const sig = await sign(keys.seed, new Uint8Array([1]));
    expect(await verify(keys.publicKey.slice(1), new Uint8Array([1]), sig)).toBe(false);
    expect(await verify(keys.publicKey, new Uint8Array([1]), sig.slice(1))).toBe(false);
    const notAPoint = fromHex('ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    for (const b of BACKENDS) {
      await withBackend(b, async () => expect(await verify(notAPoint, new Uint8Array([1]), sig)).toBe(false));
    }
  });

  it('rejects seeds of the wrong length with InvalidKeyError', async () => {
    await expect(sign(new Uint8Array(31), new Uint8Array(1))).rejects.toMatchObject({
      name: 'InvalidKeyError',
      code: 'invalid-key'
    });
  });

  it('the libp2p PeerId derived from the same key carries our public key and signs identically', async () => {
    const keys = await generateKeys();
    const priv = privateKeyFromRaw(concatBytes(keys.seed, keys.publicKey));
    const peerId = peerIdFromPrivateKey(priv);
    expect(peerId.type).toBe('Ed25519');
    expect(toHex(peerId.publicKey!.raw)).toBe(toHex(keys.publicKey));
    const msg = new TextEncoder().encode('same key, same signature');
    expect(toHex(await priv.sign(msg))).toBe(toHex(await sign(keys.seed, msg)));
  });

  it('src/lib/core imports no libp2p, DOM framework or Dexie module', () => {
    const dir = new URL('../../src/lib/core/', import.meta.url);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const src = readFileSync(new URL(f, dir), 'utf8');
      expect(src, f).not.toMatch(/from\s+['"](@?libp2p|dexie|svelte)/);
    }
  });
});
