// The Node SHA-256 (src/lib/platform/node-sha256.ts) must give the digests of the default one
// (@noble/hashes), and the core's sha256() must use it once installed.
import { afterEach, describe, expect, it } from 'vitest';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { platformSha256, setSha256, sha256 } from '../../src/lib/core/hash.js';
import { canonicalDigest, canonicalDigestAsync } from '../../src/lib/core/state/digest.js';
import { installNodeSha256, nodeSha256 } from '../../src/lib/platform/node-sha256.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { mulberry } from '../helpers/ledger-nodes.js';

describe('Node SHA-256', () => {
  afterEach(() => setSha256(undefined));

  it('gives the FIPS 180-4 digests of @noble/hashes, for the empty input, "abc" and random bytes', () => {
    expect(toHex(nodeSha256(new Uint8Array(0)))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    );
    expect(toHex(nodeSha256(new TextEncoder().encode('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    );
    const rand = mulberry(20261202);
    for (let i = 0; i < 200; i++) {
      const data = Uint8Array.from({ length: Math.floor(rand() * 3000) }, () => Math.floor(rand() * 256));
      const d = nodeSha256(data);
      expect(Object.getPrototypeOf(d)).toBe(Uint8Array.prototype); // not a Buffer (slice() copies)
      expect(d.length).toBe(32);
      expect(d.buffer.byteLength).toBe(32); // its own buffer, not a view of a pooled one
      expect(toHex(d)).toBe(toHex(nobleSha256(data)));
    }
  });

  it('sha256() uses the installed function, and the default again once removed', () => {
    const data = Uint8Array.of(1, 2, 3);
    let calls = 0;
    setSha256((x) => {
      calls++;
      return nodeSha256(x);
    });
    expect(toHex(sha256(data))).toBe(toHex(nobleSha256(data)));
    expect(calls).toBe(1);
    setSha256(undefined);
    sha256(data);
    expect(calls).toBe(1);
    expect(platformSha256()).toBe(false);
    installNodeSha256();
    expect(platformSha256()).toBe(true);
    expect(toHex(sha256(data))).toBe(toHex(nobleSha256(data)));
  });

  it('the state digest is the same by WebCrypto, by the installed SHA-256 and by the default', async () => {
    const state = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256);
    const plain = canonicalDigest(state);
    expect(await canonicalDigestAsync(state)).toBe(plain); // WebCrypto
    installNodeSha256();
    expect(await canonicalDigestAsync(state)).toBe(plain); // node:crypto, synchronously
    let calls = 0;
    setSha256((x) => {
      calls++;
      return nodeSha256(x);
    });
    expect(await canonicalDigestAsync(state)).toBe(plain); // the installed one, synchronously
    expect(calls).toBe(1);
  });
});
