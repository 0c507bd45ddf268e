// patches/@libp2p+crypto+*.patch: the browser build of @libp2p/crypto's Ed25519 imports each key
// into WebCrypto once (gossipsub signs every published message and verifies every received one).
// The caches must never mix keys up: a signature verifies under its own key only, with the key in
// fresh bytes (as a received message carries it) or in a view of a larger buffer (not cached).
import { describe, expect, it } from 'vitest';
import * as ed from '../../node_modules/@libp2p/crypto/dist/src/keys/ed25519/index.browser.js';

const msg = (s: string) => new TextEncoder().encode(s);

describe('@libp2p/crypto Ed25519 key caches (browser build, patched)', () => {
  it('signs with each key its own signature, verified under that key only', async () => {
    const keys = Array.from({ length: 20 }, () => ed.generateKey());
    for (let round = 0; round < 2; round++) {
      for (const [i, k] of keys.entries()) {
        const sig = await ed.hashAndSign(k.privateKey, msg(`m${i}`));
        // Same bytes as a fresh (uncached) signature: Ed25519 is deterministic.
        expect(sig).toEqual(ed.hashAndSignNoble(k.privateKey, msg(`m${i}`)));
        expect(await ed.hashAndVerify(new Uint8Array(k.publicKey), sig, msg(`m${i}`))).toBe(true);
        expect(await ed.hashAndVerify(new Uint8Array(keys[(i + 1) % keys.length].publicKey), sig, msg(`m${i}`))).toBe(
          false
        );
        expect(await ed.hashAndVerify(new Uint8Array(k.publicKey), sig, msg(`x${i}`))).toBe(false);
      }
    }
  });

  it('keeps verifying correctly past the public key cache size', async () => {
    const signed = [];
    for (let i = 0; i < 600; i++) {
      const k = ed.generateKey();
      signed.push({ pub: k.publicKey, sig: ed.hashAndSignNoble(k.privateKey, msg('x')) });
    }
    for (const s of [...signed, ...signed.slice(0, 50)])
      expect(await ed.hashAndVerify(new Uint8Array(s.pub), s.sig, msg('x'))).toBe(true);
    expect(await ed.hashAndVerify(new Uint8Array(signed[0].pub), signed[1].sig, msg('x'))).toBe(false);
  });
});
