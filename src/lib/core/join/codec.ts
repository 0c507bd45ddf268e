// Canonical binary codec of the join messages (layout: PROTOCOL.md §13.2). decodeJoinMessage
// checks the size before parsing, bounds every length, and accepts only bytes that
// encodeJoinMessage would produce. Errors: JoinOversizedError (too large), JoinMalformedError
// (anything else).
import * as encoding from 'lib0/encoding';
import { bytesEqual, fromHex, toHex } from '../bytes.js';
import { Reader } from '../sync/reader.js';
import type { ClaimMsg, JoinMsg } from './messages.js';
import { JoinMalformedError, JoinOversizedError } from './errors.js';
import {
  JOIN_CHUNK_BYTES,
  JOIN_MAX_ERROR_CODE,
  JOIN_MAX_ERROR_TEXT,
  JOIN_MAX_MESSAGE_BYTES,
  JOIN_NONCE_BYTES
} from './constants.js';

/** Message type bytes. */
export const JOIN_MSG = { ask: 1, claim: 2, get: 3, chunk: 4, error: 5 } as const;
const HEX64 = /^[0-9a-f]{64}$/;
const FLAG_CHECKPOINT = 1;

type Enc = encoding.Encoder;
const fail = (m: string): Error => new JoinMalformedError(m);

function writeHex32(enc: Enc, hex: string, what: string): void {
  if (typeof hex !== 'string' || !HEX64.test(hex)) throw new JoinMalformedError(`${what} must be 64 lowercase hex`);
  encoding.writeUint8Array(enc, fromHex(hex));
}

function writeFixed(enc: Enc, b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new JoinMalformedError(`${what} must be ${n} bytes`);
  encoding.writeUint8Array(enc, b);
}

function writeUint(enc: Enc, n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new JoinMalformedError(`${what} must be a safe integer >= 0`);
  encoding.writeVarUint(enc, n);
}

function writeString(enc: Enc, s: string, max: number): void {
  const b = new TextEncoder().encode(String(s));
  let n = Math.min(b.length, max);
  while (n > 0 && n < b.length && (b[n] & 0xc0) === 0x80) n--; // never cut inside a UTF-8 sequence
  encoding.writeVarUint(enc, n);
  encoding.writeUint8Array(enc, b.subarray(0, n));
}

function writeClaim(enc: Enc, m: ClaimMsg): void {
  writeFixed(enc, m.nonce, JOIN_NONCE_BYTES, 'nonce');
  writeHex32(enc, m.headsRoot, 'headsRoot');
  writeHex32(enc, m.stateDigest, 'stateDigest');
  writeUint(enc, m.entries, 'entries');
  writeUint(enc, m.feeds, 'feeds');
  writeUint(enc, m.size, 'size');
  writeHex32(enc, m.voter, 'voter');
  writeFixed(enc, m.sig, 64, 'sig');
  encoding.writeUint8(enc, m.checkpoint ? FLAG_CHECKPOINT : 0);
  if (!m.checkpoint) return;
  writeHex32(enc, m.checkpoint.signer, 'checkpoint signer');
  writeUint(enc, m.checkpoint.time, 'checkpoint time');
  writeFixed(enc, m.checkpoint.sig, 64, 'checkpoint sig');
}

function writeBody(enc: Enc, m: JoinMsg): void {
  switch (m.t) {
    case 'ask':
      writeUint(enc, m.version, 'version');
      writeFixed(enc, m.network, 32, 'network');
      return writeFixed(enc, m.nonce, JOIN_NONCE_BYTES, 'nonce');
    case 'claim':
      return writeClaim(enc, m);
    case 'get':
      writeUint(enc, m.rid, 'rid');
      writeHex32(enc, m.root, 'root');
      writeUint(enc, m.offset, 'offset');
      return writeUint(enc, m.maxBytes, 'maxBytes');
    case 'chunk':
      writeUint(enc, m.rid, 'rid');
      writeUint(enc, m.total, 'total');
      writeUint(enc, m.offset, 'offset');
      if (!(m.bytes instanceof Uint8Array) || m.bytes.length > JOIN_CHUNK_BYTES)
        throw new JoinMalformedError(`chunk must be bytes, at most ${JOIN_CHUNK_BYTES}`);
      return encoding.writeVarUint8Array(enc, m.bytes);
    case 'error':
      writeUint(enc, m.rid, 'rid');
      writeString(enc, m.code, JOIN_MAX_ERROR_CODE);
      return writeString(enc, m.message, JOIN_MAX_ERROR_TEXT);
  }
}

/** Encodes a message. Throws JoinMalformedError on a field out of shape, JoinOversizedError when too large. */
export function encodeJoinMessage(m: JoinMsg): Uint8Array {
  const tag = JOIN_MSG[m?.t as keyof typeof JOIN_MSG];
  if (!tag) throw new JoinMalformedError('unknown message type');
  const enc = encoding.createEncoder();
  // A chunk is written into one buffer of its size (tag, 3 varuints of <= 8 bytes, a length of
  // <= 3): no growing the encoder and copying the whole message once more at the end.
  if (m.t === 'chunk' && m.bytes instanceof Uint8Array) enc.cbuf = new Uint8Array(m.bytes.length + 32);
  encoding.writeUint8(enc, tag);
  writeBody(enc, m);
  const out = enc.bufs.length === 0 ? enc.cbuf.subarray(0, enc.cpos) : encoding.toUint8Array(enc);
  if (out.length > JOIN_MAX_MESSAGE_BYTES) throw new JoinOversizedError(`message is ${out.length} bytes`);
  return out;
}

// ---- decoding ----

const readHex32 = (r: Reader): string => toHex(r.bytes(32));

function readClaim(r: Reader): ClaimMsg {
  const nonce = r.bytes(JOIN_NONCE_BYTES);
  const headsRoot = readHex32(r);
  const stateDigest = readHex32(r);
  const entries = r.varuint();
  const feeds = r.varuint();
  const size = r.varuint();
  const voter = readHex32(r);
  const sig = r.bytes(64);
  const flags = r.u8();
  if (flags & ~FLAG_CHECKPOINT) throw new JoinMalformedError('unknown claim flags');
  const checkpoint = flags ? { signer: readHex32(r), time: r.varuint(), sig: r.bytes(64) } : null;
  return { t: 'claim', nonce, headsRoot, stateDigest, entries, feeds, size, voter, sig, checkpoint };
}

function readBody(r: Reader, tag: number): JoinMsg {
  switch (tag) {
    case JOIN_MSG.ask:
      return { t: 'ask', version: r.varuint(), network: r.bytes(32), nonce: r.bytes(JOIN_NONCE_BYTES) };
    case JOIN_MSG.claim:
      return readClaim(r);
    case JOIN_MSG.get:
      return { t: 'get', rid: r.varuint(), root: readHex32(r), offset: r.varuint(), maxBytes: r.varuint() };
    case JOIN_MSG.chunk: {
      const rid = r.varuint();
      const total = r.varuint();
      const offset = r.varuint();
      // A view, not a copy: the joiner copies it into the body at once (onChunk).
      return { t: 'chunk', rid, total, offset, bytes: r.view(r.count(JOIN_CHUNK_BYTES, 1)) };
    }
    case JOIN_MSG.error:
      return {
        t: 'error',
        rid: r.varuint(),
        code: r.string(JOIN_MAX_ERROR_CODE),
        message: r.string(JOIN_MAX_ERROR_TEXT)
      };
    default:
      throw new JoinMalformedError(`unknown message type ${tag}`);
  }
}

/**
 * Decodes one message. Size first (JoinOversizedError above `maxBytes`), then JoinMalformedError
 * for truncation, unknown tags or flags, lengths over their bounds, trailing bytes or a
 * non-canonical encoding. The result owns copies of all bytes, except a chunk's (a view of `bytes`).
 */
export function decodeJoinMessage(bytes: Uint8Array, maxBytes = JOIN_MAX_MESSAGE_BYTES): JoinMsg {
  if (!(bytes instanceof Uint8Array)) throw new JoinMalformedError('message must be bytes');
  if (bytes.length > maxBytes) throw new JoinOversizedError(`message is ${bytes.length} bytes, limit ${maxBytes}`);
  const r = new Reader(bytes, fail);
  const msg = readBody(r, r.u8());
  r.end();
  // A chunk is canonical by its reading alone: fixed fields in order, shortest varints (Reader),
  // a length within its bound and nothing after it; encoding it again would copy its 64 KiB once
  // more for every chunk of a join. Every other message is checked by encoding it again.
  if (msg.t !== 'chunk' && !bytesEqual(encodeJoinMessage(msg), bytes))
    throw new JoinMalformedError('non-canonical encoding');
  return msg;
}
