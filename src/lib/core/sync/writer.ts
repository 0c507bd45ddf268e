// A growable byte writer for the sync codec: one buffer that doubles when full, small arrays
// copied byte by byte (no subarray views per write), hex written straight into the buffer. Every
// write validates its input and throws SyncMalformedError.
import { SyncMalformedError } from './errors.js';

const INITIAL_BYTES = 256;

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f (lowercase only: one encoding per value)
  return -1;
}

export class Writer {
  private buf = new Uint8Array(INITIAL_BYTES);
  private pos = 0;

  get length(): number {
    return this.pos;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v & 0xff;
  }

  /** 16-bit little-endian. */
  u16le(v: number): void {
    this.room(2);
    this.buf[this.pos++] = v & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
  }

  /** Unsigned LEB128 of a safe integer >= 0 (checked by the caller). */
  varuint(n: number): void {
    this.room(8);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    if (b.length > 32) this.buf.set(b, this.pos);
    else for (let i = 0; i < b.length; i++) this.buf[this.pos + i] = b[i];
    this.pos += b.length;
  }

  /** Lowercase hex of exactly `n` bytes (2n characters); anything else throws SyncMalformedError. */
  hex(s: string, n: number, what: string): void {
    if (typeof s !== 'string' || s.length !== 2 * n) throw new SyncMalformedError(`${what} must be ${2 * n} hex`);
    this.room(n);
    for (let i = 0; i < n; i++) {
      const hi = nibble(s.charCodeAt(2 * i));
      const lo = nibble(s.charCodeAt(2 * i + 1));
      if (hi < 0 || lo < 0) throw new SyncMalformedError(`${what} must be lowercase hex`);
      this.buf[this.pos + i] = (hi << 4) | lo;
    }
    this.pos += n;
  }

  /** The written bytes (a copy of exactly `length` bytes). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
