// Strict, canonical base64 (RFC 4648 §4, with padding). Snapshot lines carry bytes this way;
// the decoder refuses anything the encoder would not produce, so bytes ↔ text is one-to-one.
import { MalformedSnapshotError } from '../errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
const PAD = 61; // '='

export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 3 * 4096; // a multiple of 3, so chunk encodings concatenate
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(start + CHUNK, bytes.length);
    let s = '';
    let i = start;
    for (; i + 2 < end; i += 3) {
      const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
    }
    if (end - i === 1) {
      const n = bytes[i] << 16;
      s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + '==';
    } else if (end - i === 2) {
      const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
      s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + '=';
    }
    parts.push(s);
  }
  return parts.join('');
}

/** Throws MalformedSnapshotError on a wrong length, a foreign character, misplaced padding or non-zero pad bits. */
export function fromBase64(text: string, what = 'bytes'): Uint8Array {
  const bad = (why: string): never => {
    throw new MalformedSnapshotError(`${what}: invalid base64 (${why})`);
  };
  if (typeof text !== 'string') bad('not a string');
  if (text.length % 4 !== 0) bad('length is not a multiple of 4');
  const pad =
    text.length === 0
      ? 0
      : text.charCodeAt(text.length - 1) !== PAD
        ? 0
        : text.charCodeAt(text.length - 2) === PAD
          ? 2
          : 1;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  const sextet = (i: number): number => {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE[c] : -1;
    return v < 0 ? bad(`character at ${i}`) : v;
  };
  let o = 0;
  const full = pad === 0 ? text.length : text.length - 4;
  for (let i = 0; i < full; i += 4) {
    const n = (sextet(i) << 18) | (sextet(i + 1) << 12) | (sextet(i + 2) << 6) | sextet(i + 3);
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  if (pad === 2) {
    const n = (sextet(full) << 18) | (sextet(full + 1) << 12);
    if (n & 0xffff) bad('non-zero pad bits');
    out[o++] = n >> 16;
  } else if (pad === 1) {
    const n = (sextet(full) << 18) | (sextet(full + 1) << 12) | (sextet(full + 2) << 6);
    if (n & 0xff) bad('non-zero pad bits');
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
  }
  return out;
}
