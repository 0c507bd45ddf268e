// SipHash-2-4 (Aumasson & Bernstein, 2012): a keyed pseudo-random function with a 128-bit key and
// a 64-bit output, designed for short inputs. Used for the per-exchange salted fingerprints of the
// Merkle comparison (PROTOCOL.md §11.2), where the inputs are already collision-resistant 32-byte
// SHA-256 hashes or 72-byte head records. Pure TypeScript on 32-bit halves (no BigInt, no
// allocation per call); checked against the 64 reference vectors of the SipHash paper
// (test/unit/sync-siphash.test.ts).
//
// Why not a package: the npm `siphash` package hashes strings and returns arrays per call; noble's
// keyed BLAKE2s/BLAKE3 (already a dependency) cost 4–8 µs per 32-byte input here against
// ~0.3 µs for this function and 1.4 µs for the SHA-256 it replaces.

/** A SipHash key: k0 and k1 as 32-bit little-endian halves [k0lo, k0hi, k1lo, k1hi]. */
export type SipKey = Uint32Array;

/** Expands 16 key bytes into a SipKey. Throws RangeError on another length. */
export function sipKey(key: Uint8Array): SipKey {
  if (key.length !== 16) throw new RangeError('SipHash key must be 16 bytes');
  const k = new Uint32Array(4);
  for (let i = 0; i < 4; i++) k[i] = le32(key, 4 * i);
  return k;
}

const le32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

/**
 * SipHash-2-4 of `msg[off .. off+len)` under `key`, written as 8 little-endian bytes to
 * `out[outOff .. outOff+8)`. Returns `out`. The state is kept in locals (one SipRound body,
 * looped), so a call allocates nothing when `out` is given.
 */
export function sipHash24(
  key: SipKey,
  msg: Uint8Array,
  off = 0,
  len = msg.length - off,
  out: Uint8Array = new Uint8Array(8),
  outOff = 0
): Uint8Array {
  let v0l = (key[0] ^ 0x70736575) >>> 0;
  let v0h = (key[1] ^ 0x736f6d65) >>> 0;
  let v1l = (key[2] ^ 0x6e646f6d) >>> 0;
  let v1h = (key[3] ^ 0x646f7261) >>> 0;
  let v2l = (key[0] ^ 0x6e657261) >>> 0;
  let v2h = (key[1] ^ 0x6c796765) >>> 0;
  let v3l = (key[2] ^ 0x79746573) >>> 0;
  let v3h = (key[3] ^ 0x74656462) >>> 0;
  const blocks = len >>> 3;
  // Block b < blocks: 8 message bytes; b = blocks: the last 0..7 bytes with the length's low byte
  // on top; b = blocks + 1: finalization (v2 ^= 0xff, 4 rounds).
  for (let b = 0; b <= blocks + 1; b++) {
    let ml = 0;
    let mh = 0;
    let rounds = 2;
    if (b < blocks) {
      const p = off + 8 * b;
      ml = le32(msg, p);
      mh = le32(msg, p + 4);
    } else if (b === blocks) {
      const p = off + 8 * b;
      const rest = len & 7;
      mh = (len & 0xff) << 24;
      for (let i = 0; i < rest; i++) {
        if (i < 4) ml |= msg[p + i] << (8 * i);
        else mh |= msg[p + i] << (8 * (i - 4));
      }
      ml >>>= 0;
      mh >>>= 0;
    } else {
      v2l = (v2l ^ 0xff) >>> 0;
      rounds = 4;
    }
    v3l = (v3l ^ ml) >>> 0;
    v3h = (v3h ^ mh) >>> 0;
    for (let r = 0; r < rounds; r++) {
      let lo: number, t: number;
      // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
      lo = (v0l + v1l) >>> 0;
      v0h = (v0h + v1h + (lo < v0l ? 1 : 0)) >>> 0;
      v0l = lo;
      t = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
      v1h = (((v1h << 13) | (v1l >>> 19)) ^ v0h) >>> 0;
      v1l = t >>> 0;
      t = v0l;
      v0l = v0h;
      v0h = t;
      // v2 += v3; v3 = rotl(v3, 16) ^ v2
      lo = (v2l + v3l) >>> 0;
      v2h = (v2h + v3h + (lo < v2l ? 1 : 0)) >>> 0;
      v2l = lo;
      t = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
      v3h = (((v3h << 16) | (v3l >>> 16)) ^ v2h) >>> 0;
      v3l = t >>> 0;
      // v0 += v3; v3 = rotl(v3, 21) ^ v0
      lo = (v0l + v3l) >>> 0;
      v0h = (v0h + v3h + (lo < v0l ? 1 : 0)) >>> 0;
      v0l = lo;
      t = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
      v3h = (((v3h << 21) | (v3l >>> 11)) ^ v0h) >>> 0;
      v3l = t >>> 0;
      // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
      lo = (v2l + v1l) >>> 0;
      v2h = (v2h + v1h + (lo < v2l ? 1 : 0)) >>> 0;
      v2l = lo;
      t = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
      v1h = (((v1h << 17) | (v1l >>> 15)) ^ v2h) >>> 0;
      v1l = t >>> 0;
      t = v2l;
      v2l = v2h;
      v2h = t;
    }
    v0l = (v0l ^ ml) >>> 0;
    v0h = (v0h ^ mh) >>> 0;
  }
  const lo = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  const hi = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  out[outOff] = lo;
  out[outOff + 1] = lo >>> 8;
  out[outOff + 2] = lo >>> 16;
  out[outOff + 3] = lo >>> 24;
  out[outOff + 4] = hi;
  out[outOff + 5] = hi >>> 8;
  out[outOff + 6] = hi >>> 16;
  out[outOff + 7] = hi >>> 24;
  return out;
}
