import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sipHash24, sipKey } from '../../src/lib/core/sync/siphash.js';
import { toHex } from '../../src/lib/core/bytes.js';

// Reference SipHash-2-4 on BigInt (a straight transcription of the paper), to cross-check the
// 32-bit implementation on every input length.
const M = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M;
function reference(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const u64 = (b: Uint8Array, o: number) => {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[o + i] ?? 0);
    return v;
  };
  const k0 = u64(key, 0);
  const k1 = u64(key, 8);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = () => {
    v0 = (v0 + v1) & M;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & M;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & M;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const padded = new Uint8Array(Math.floor(msg.length / 8) * 8 + 8);
  padded.set(msg);
  padded[padded.length - 1] = msg.length & 0xff;
  for (let o = 0; o < padded.length; o += 8) {
    const m = u64(padded, o);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  v2 ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  const out = v0 ^ v1 ^ v2 ^ v3;
  return Uint8Array.from({ length: 8 }, (_, i) => Number((out >> BigInt(8 * i)) & 0xffn));
}

describe('SipHash-2-4', () => {
  it('matches the vectors of the SipHash paper (key 00..0f, message 00..len-1)', () => {
    const key = sipKey(Uint8Array.from({ length: 16 }, (_, i) => i));
    const msg = Uint8Array.from({ length: 64 }, (_, i) => i);
    expect(toHex(sipHash24(key, msg, 0, 0))).toBe('310e0edd47db6f72');
    expect(toHex(sipHash24(key, msg, 0, 15))).toBe('e545be4961ca29a1');
    expect(toHex(sipHash24(key, msg, 0, 63))).toBe('724506eb4c328a95');
  });

  it('equals a BigInt reference for every length, key and offset', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.nat(5),
        (key, msg, pad) => {
          const buf = new Uint8Array(pad + msg.length + 3);
          buf.set(msg, pad);
          const out = new Uint8Array(12);
          sipHash24(sipKey(key), buf, pad, msg.length, out, 2);
          expect(toHex(out.subarray(2, 10))).toBe(toHex(reference(key, msg)));
          expect(toHex(sipHash24(sipKey(key), msg))).toBe(toHex(reference(key, msg)));
        }
      ),
      { numRuns: 500 }
    );
  });

  it('refuses a key of another length with RangeError', () => {
    expect(() => sipKey(new Uint8Array(15))).toThrow(RangeError);
  });
});
