// A bounds-checked byte reader for the sync codec (and the join codec). Every read checks the
// remaining length first and throws SyncMalformedError (or the error `fail` makes); varints must
// be canonical (shortest form, at most 2^53 - 1).
import { SyncMalformedError } from './errors.js';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class Reader {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly fail: (message: string) => Error = (m) => new SyncMalformedError(m)
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number {
    if (this.remaining < 1) throw this.fail('truncated message');
    return this.buf[this.pos++];
  }

  u16(): number {
    return this.u8() | (this.u8() << 8);
  }

  /** The next `n` bytes as a view of the buffer (no copy): the caller copies what it keeps. */
  view(n: number): Uint8Array {
    if (n > this.remaining) throw this.fail('truncated message');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A copy of the next `n` bytes. */
  bytes(n: number): Uint8Array {
    if (n > this.remaining) throw this.fail('truncated message');
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** The next `n` bytes as lowercase hex (no intermediate copy). */
  hex(n: number): string {
    if (n > this.remaining) throw new SyncMalformedError('truncated message');
    let out = '';
    for (let i = 0; i < n; i++) out += HEX[this.buf[this.pos + i]];
    this.pos += n;
    return out;
  }

  /** Unsigned LEB128, canonical, <= Number.MAX_SAFE_INTEGER. */
  varuint(): number {
    let value = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      const b = this.u8();
      value += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (b === 0 && i > 0) throw this.fail('non-canonical varint');
        if (!Number.isSafeInteger(value)) throw this.fail('varint out of range');
        return value;
      }
      mul *= 128;
      if (i >= 7) throw this.fail('varint too long');
    }
  }

  /** A varuint count, refused above `max` or when fewer than count*minBytes bytes remain. */
  count(max: number, minBytes: number): number {
    const n = this.varuint();
    if (n > max) throw this.fail(`count ${n} over its bound ${max}`);
    if (n * minBytes > this.remaining) throw this.fail('count overruns message');
    return n;
  }

  /** varuint length + UTF-8 bytes, at most maxBytes. */
  string(maxBytes: number): string {
    const raw = this.bytes(this.count(maxBytes, 1));
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw this.fail('string is not UTF-8');
    }
  }

  end(): void {
    if (this.remaining !== 0) throw this.fail('trailing bytes');
  }
}
