// Canonical binary codec of the sync messages (layout: PROTOCOL.md §11.3). decodeSyncMessage
// checks the size before parsing, bounds every count, and accepts only bytes that
// encodeSyncMessage would produce (so there is one encoding per message). Errors:
// SyncOversizedError (too large), SyncMalformedError (anything else).
import { bytesEqual, compareBytes } from '../bytes.js';
import type { CompareNode, CoverageException, SyncMsg, SyncRole, TagItem, WireItem } from './messages.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { SyncMalformedError, SyncOversizedError } from './errors.js';
import { isValidPath } from './merkle.js';
import {
  MERKLE_FANOUT,
  MERKLE_MAX_DEPTH,
  SYNC_CHILD_FP_BYTES,
  SYNC_HEAD_FP_BYTES,
  SYNC_MAX_COMPARE_ENTRIES,
  SYNC_MAX_COVERAGE,
  SYNC_MAX_ERROR_TEXT,
  SYNC_MAX_ITEMS_PER_ENTRY,
  SYNC_MAX_MESSAGE_BYTES,
  SYNC_MAX_RANGE_ENTRIES,
  SYNC_SALT_BYTES,
  SYNC_TAG_BYTES
} from './constants.js';

/** Message type bytes. */
export const MSG = { hello: 1, begin: 2, reply: 3, compare: 4, get: 5, entries: 6, error: 7 } as const;
const NODE = { children: 1, items: 2, final: 3, answer: 4 } as const;
const ROLE: Record<SyncRole, number> = { full: 0, light: 1 };
const MAX_CODE_BYTES = 32;
const ZERO_FP = new Uint8Array(SYNC_HEAD_FP_BYTES);

type Enc = Writer;

function writeAuthor(enc: Enc, author: string): void {
  enc.hex(author, 32, 'author');
}

function writeFixed(enc: Enc, b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new SyncMalformedError(`${what} must be ${n} bytes`);
  enc.bytes(b);
}

function writeUint(enc: Enc, n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new SyncMalformedError(`${what} must be a safe integer >= 0`);
  enc.varuint(n);
}

function writeCount(enc: Enc, n: number, max: number, what: string): void {
  if (n > max) throw new SyncMalformedError(`${what}: ${n} over the bound ${max}`);
  enc.varuint(n);
}

function writeString(enc: Enc, s: string, max: number): void {
  const b = new TextEncoder().encode(String(s));
  let n = Math.min(b.length, max);
  // Never cut inside a UTF-8 sequence: back off while the first dropped byte is a continuation.
  while (n > 0 && n < b.length && (b[n] & 0xc0) === 0x80) n--;
  enc.varuint(n);
  enc.bytes(b.subarray(0, n));
}

function writePath(enc: Enc, path: string): void {
  if (!isValidPath(path)) throw new SyncMalformedError('invalid path');
  enc.u8(path.length);
  enc.hex(path.length % 2 ? path + '0' : path, Math.ceil(path.length / 2), 'path');
}

function writeItems(enc: Enc, items: WireItem[]): void {
  writeCount(enc, items.length, SYNC_MAX_ITEMS_PER_ENTRY, 'items');
  for (const it of items) {
    writeAuthor(enc, it.author);
    writeUint(enc, it.seq, 'seq');
    if (it.seq > 0) writeFixed(enc, it.fp, SYNC_HEAD_FP_BYTES, 'fingerprint');
  }
}

function writeTagItems(enc: Enc, items: TagItem[]): void {
  writeCount(enc, items.length, SYNC_MAX_ITEMS_PER_ENTRY, 'items');
  for (const it of items) {
    if (!Number.isInteger(it.tag) || it.tag < 0 || it.tag >= 1 << (8 * SYNC_TAG_BYTES))
      throw new SyncMalformedError('tag out of range');
    enc.u8(it.tag >>> 8);
    enc.u8(it.tag & 0xff);
    if (!Number.isSafeInteger(it.seq) || it.seq < 1) throw new SyncMalformedError('item seq must be >= 1');
    enc.varuint(it.seq);
    writeFixed(enc, it.fp, SYNC_HEAD_FP_BYTES, 'fingerprint');
  }
}

function writeBitmap(enc: Enc, flags: boolean[]): void {
  writeCount(enc, flags.length, SYNC_MAX_ITEMS_PER_ENTRY, 'flags');
  for (let i = 0; i < flags.length; i += 8) {
    let byte = 0;
    for (let j = 0; j < 8 && i + j < flags.length; j++) if (flags[i + j]) byte |= 1 << j;
    enc.u8(byte);
  }
}

function writeNode(enc: Enc, n: CompareNode): void {
  const kind = NODE[n?.k as keyof typeof NODE];
  if (!kind) throw new SyncMalformedError('unknown node kind');
  enc.u8(kind);
  writePath(enc, n.path);
  if (n.k === 'children') {
    if (n.path.length >= MERKLE_MAX_DEPTH || n.fps.length !== MERKLE_FANOUT)
      throw new SyncMalformedError('bad children');
    let bitmap = 0;
    n.fps.forEach((fp, i) => (bitmap |= fp ? 1 << i : 0));
    enc.u16le(bitmap);
    for (const fp of n.fps) if (fp) writeFixed(enc, fp, SYNC_CHILD_FP_BYTES, 'fingerprint');
  } else if (n.k === 'items') writeTagItems(enc, n.items);
  else if (n.k === 'answer') {
    writeBitmap(enc, n.unmatched);
    writeItems(enc, n.items);
  } else writeItems(enc, n.items);
}

function writeNodes(enc: Enc, nodes: CompareNode[]): void {
  writeCount(enc, nodes.length, SYNC_MAX_COMPARE_ENTRIES, 'nodes');
  for (const n of nodes) writeNode(enc, n);
}

function writeCoverage(enc: Enc, cov: CoverageException[]): void {
  writeCount(enc, cov.length, SYNC_MAX_COVERAGE, 'coverage');
  for (const c of cov) {
    writeAuthor(enc, c.author);
    writeUint(enc, c.from, 'coverage from');
  }
}

function writeBody(enc: Enc, m: SyncMsg): void {
  switch (m.t) {
    case 'hello':
      writeUint(enc, m.version, 'version');
      writeFixed(enc, m.network, 32, 'network');
      enc.u8(ROLE[m.role] ?? 255);
      writeFixed(enc, m.root, 32, 'root');
      writeUint(enc, m.feeds, 'feeds');
      writeUint(enc, m.entries, 'entries');
      writeCoverage(enc, m.coverage);
      return writeFixed(enc, m.salt, SYNC_SALT_BYTES, 'salt');
    case 'begin':
      writeUint(enc, m.xid, 'xid');
      writeFixed(enc, m.salt, SYNC_SALT_BYTES, 'salt');
      writeFixed(enc, m.root, 32, 'root');
      return writeNodes(enc, m.nodes);
    case 'reply':
      writeUint(enc, m.xid, 'xid');
      enc.u8((m.equal ? 1 : 0) | (m.end ? 2 : 0));
      return writeNodes(enc, m.nodes);
    case 'compare':
      writeUint(enc, m.xid, 'xid');
      writeUint(enc, m.step, 'step');
      enc.u8(m.end ? 1 : 0);
      return writeNodes(enc, m.nodes);
    case 'get':
      writeUint(enc, m.rid, 'rid');
      writeAuthor(enc, m.author);
      writeUint(enc, m.from, 'from');
      writeUint(enc, m.to, 'to');
      return writeUint(enc, m.maxBytes, 'maxBytes');
    case 'entries':
      writeUint(enc, m.rid, 'rid');
      writeCount(enc, m.entries.length, SYNC_MAX_RANGE_ENTRIES, 'entries');
      for (const e of m.entries) {
        if (!(e instanceof Uint8Array)) throw new SyncMalformedError('entry must be bytes');
        enc.varuint(e.length);
        enc.bytes(e);
      }
      return;
    case 'error':
      writeUint(enc, m.rid, 'rid');
      writeUint(enc, m.xid, 'xid');
      writeString(enc, m.code, MAX_CODE_BYTES);
      return writeString(enc, m.message, SYNC_MAX_ERROR_TEXT);
  }
}

/** Encodes a message. Throws SyncMalformedError on a field out of shape, SyncOversizedError when too large. */
export function encodeSyncMessage(m: SyncMsg): Uint8Array {
  const enc = new Writer();
  const tag = MSG[m?.t as keyof typeof MSG];
  if (!tag) throw new SyncMalformedError('unknown message type');
  enc.u8(tag);
  writeBody(enc, m);
  if (enc.length > SYNC_MAX_MESSAGE_BYTES) throw new SyncOversizedError(`message is ${enc.length} bytes`);
  return enc.finish();
}

// ---- decoding ----

const readAuthor = (r: Reader): string => r.hex(32);

function readPath(r: Reader): string {
  const depth = r.u8();
  if (depth > MERKLE_MAX_DEPTH) throw new SyncMalformedError('path too deep');
  const hex = r.hex(Math.ceil(depth / 2));
  if (depth % 2 && hex[depth] !== '0') throw new SyncMalformedError('non-canonical path padding');
  return hex.slice(0, depth);
}

function readItems(r: Reader, path: string): WireItem[] {
  const n = r.count(SYNC_MAX_ITEMS_PER_ENTRY, 33);
  const items: WireItem[] = [];
  let last = '';
  for (let i = 0; i < n; i++) {
    const author = readAuthor(r);
    if (!author.startsWith(path)) throw new SyncMalformedError('item outside its path');
    if (author <= last) throw new SyncMalformedError('items must be sorted by author, no repeats');
    last = author;
    const seq = r.varuint();
    items.push({ author, seq, fp: seq > 0 ? r.bytes(SYNC_HEAD_FP_BYTES) : ZERO_FP });
  }
  return items;
}

/** Compact items: sorted by (tag, fp, seq), repeats allowed (they re-encode identically). */
function readTagItems(r: Reader): TagItem[] {
  const n = r.count(SYNC_MAX_ITEMS_PER_ENTRY, SYNC_TAG_BYTES + 1 + SYNC_HEAD_FP_BYTES);
  const items: TagItem[] = [];
  for (let i = 0; i < n; i++) {
    const tag = (r.u8() << 8) | r.u8();
    const seq = r.varuint();
    if (seq < 1) throw new SyncMalformedError('item seq must be >= 1');
    const it = { tag, seq, fp: r.bytes(SYNC_HEAD_FP_BYTES) };
    const prev = items[i - 1];
    if (prev && compareTagItems(prev, it) > 0) throw new SyncMalformedError('items must be sorted by tag, fp, seq');
    items.push(it);
  }
  return items;
}

/** The canonical order of compact items: tag, then fingerprint bytes, then seq. */
export function compareTagItems(a: TagItem, b: TagItem): number {
  if (a.tag !== b.tag) return a.tag - b.tag;
  return compareBytes(a.fp, b.fp) || a.seq - b.seq;
}

function readBitmap(r: Reader): boolean[] {
  const n = r.count(SYNC_MAX_ITEMS_PER_ENTRY, 0);
  const bytes = r.bytes(Math.ceil(n / 8));
  if (n % 8 && bytes[bytes.length - 1] >> (n % 8)) throw new SyncMalformedError('non-canonical bitmap padding');
  return Array.from({ length: n }, (_, i) => (bytes[i >> 3] & (1 << (i & 7))) !== 0);
}

function readNode(r: Reader): CompareNode {
  const kind = r.u8();
  const path = readPath(r);
  if (kind === NODE.children) {
    if (path.length >= MERKLE_MAX_DEPTH) throw new SyncMalformedError('children below the max depth');
    const bitmap = r.u16();
    const fps = Array.from({ length: MERKLE_FANOUT }, (_, i) =>
      bitmap & (1 << i) ? r.bytes(SYNC_CHILD_FP_BYTES) : undefined
    );
    return { k: 'children', path, fps };
  }
  if (kind === NODE.items) return { k: 'items', path, items: readTagItems(r) };
  if (kind === NODE.answer) {
    const unmatched = readBitmap(r);
    return { k: 'answer', path, unmatched, items: readItems(r, path) };
  }
  if (kind === NODE.final) return { k: 'final', path, items: readItems(r, path) };
  throw new SyncMalformedError(`unknown node kind ${kind}`);
}

function readNodes(r: Reader): CompareNode[] {
  const n = r.count(SYNC_MAX_COMPARE_ENTRIES, 3);
  return Array.from({ length: n }, () => readNode(r));
}

function readCoverage(r: Reader): CoverageException[] {
  const n = r.count(SYNC_MAX_COVERAGE, 33);
  return Array.from({ length: n }, () => ({ author: readAuthor(r), from: r.varuint() }));
}

function readRole(r: Reader): SyncRole {
  const b = r.u8();
  if (b === 0) return 'full';
  if (b === 1) return 'light';
  throw new SyncMalformedError(`unknown role ${b}`);
}

function readFlags(r: Reader, allowed: number): number {
  const f = r.u8();
  if (f & ~allowed) throw new SyncMalformedError('unknown flags');
  return f;
}

function readBody(r: Reader, tag: number): SyncMsg {
  switch (tag) {
    case MSG.hello: {
      const version = r.varuint();
      const network = r.bytes(32);
      const role = readRole(r);
      const root = r.bytes(32);
      const feeds = r.varuint();
      const entries = r.varuint();
      const coverage = readCoverage(r);
      return { t: 'hello', version, network, role, root, feeds, entries, coverage, salt: r.bytes(SYNC_SALT_BYTES) };
    }
    case MSG.begin:
      return { t: 'begin', xid: r.varuint(), salt: r.bytes(SYNC_SALT_BYTES), root: r.bytes(32), nodes: readNodes(r) };
    case MSG.reply: {
      const xid = r.varuint();
      const f = readFlags(r, 3);
      return { t: 'reply', xid, equal: (f & 1) !== 0, end: (f & 2) !== 0, nodes: readNodes(r) };
    }
    case MSG.compare: {
      const xid = r.varuint();
      const step = r.varuint();
      const end = readFlags(r, 1) === 1;
      return { t: 'compare', xid, step, end, nodes: readNodes(r) };
    }
    case MSG.get:
      return {
        t: 'get',
        rid: r.varuint(),
        author: readAuthor(r),
        from: r.varuint(),
        to: r.varuint(),
        maxBytes: r.varuint()
      };
    case MSG.entries: {
      const rid = r.varuint();
      const n = r.count(SYNC_MAX_RANGE_ENTRIES, 1);
      return { t: 'entries', rid, entries: Array.from({ length: n }, () => r.bytes(r.count(r.remaining, 1))) };
    }
    case MSG.error:
      return {
        t: 'error',
        rid: r.varuint(),
        xid: r.varuint(),
        code: r.string(MAX_CODE_BYTES),
        message: r.string(SYNC_MAX_ERROR_TEXT)
      };
    default:
      throw new SyncMalformedError(`unknown message type ${tag}`);
  }
}

/**
 * Decodes one message. Size first (SyncOversizedError above SYNC_MAX_MESSAGE_BYTES), then
 * SyncMalformedError for truncation, bad tags, counts over their bounds, trailing bytes or a
 * non-canonical encoding. The result owns copies of all bytes.
 */
export function decodeSyncMessage(bytes: Uint8Array, maxBytes = SYNC_MAX_MESSAGE_BYTES): SyncMsg {
  if (!(bytes instanceof Uint8Array)) throw new SyncMalformedError('message must be bytes');
  if (bytes.length > maxBytes) throw new SyncOversizedError(`message is ${bytes.length} bytes, limit ${maxBytes}`);
  const r = new Reader(bytes);
  const msg = readBody(r, r.u8());
  r.end();
  // One encoding per message. The compare messages (the hot path) are canonical by construction:
  // the parser refuses long varints, path and bitmap padding, unsorted or repeated items and
  // unknown flags (the codec fuzz tests check decode∘encode = identity). The others are re-encoded
  // and compared (e.g. strings).
  if (msg.t !== 'begin' && msg.t !== 'reply' && msg.t !== 'compare' && !bytesEqual(encodeSyncMessage(msg), bytes))
    throw new SyncMalformedError('non-canonical encoding');
  return msg;
}
