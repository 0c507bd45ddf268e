// The join snapshot body (PROTOCOL.md §13.4): the signed entry at every feed head, then the
// canonical application state. Deterministic: honest peers at the same heads serve the same
// bytes. Layout:
//   u8 format (1) ‖ varuint heads ‖ heads × varbytes(canonical head entry), authors ascending
//   ‖ varbytes(state: canonical Yjs v1 update, state/digest.ts canonicalState)
// With void feeds (format 2), between the head entries and the state: varuint records ‖ records ×
// (varbytes a ‖ varbytes b), the evidence that voids each (a void feed's head entry is its
// last canonical entry, at s - 1, or absent when s = 1).
import * as encoding from 'lib0/encoding';
import { Reader } from '../sync/reader.js';
import { JoinMalformedError, JoinOversizedError } from './errors.js';
import {
  JOIN_MAX_HEADS,
  JOIN_MAX_SNAPSHOT_BYTES,
  JOIN_SNAPSHOT_FORMAT,
  JOIN_SNAPSHOT_FORMAT_VOIDS
} from './constants.js';
import { MIN_ENTRY_BYTES } from '../entry.js';

export interface JoinSnapshotBody {
  /** Canonical bytes of each head entry, sorted by author (one per author). */
  heads: Uint8Array[];
  /**
   * Void feeds (format 2): canonical bytes of the two entries of each one's evidence record
   * (`a` by the void author), sorted by that author; absent or empty: format 1.
   */
  evidence?: [Uint8Array, Uint8Array][];
  /** Canonical state bytes (canonicalState). */
  state: Uint8Array;
}

/** Encodes a body. Throws JoinOversizedError above JOIN_MAX_SNAPSHOT_BYTES or JOIN_MAX_HEADS. */
export function encodeJoinSnapshot(b: JoinSnapshotBody, maxBytes = JOIN_MAX_SNAPSHOT_BYTES): Uint8Array {
  if (b.heads.length > JOIN_MAX_HEADS) throw new JoinOversizedError(`more than ${JOIN_MAX_HEADS} heads`);
  const evidence = b.evidence ?? [];
  if (evidence.length > JOIN_MAX_HEADS) throw new JoinOversizedError(`more than ${JOIN_MAX_HEADS} void feeds`);
  const enc = encoding.createEncoder();
  // Written into one buffer of the body's size (a body of megabytes: no growing, no final copy).
  enc.cbuf = new Uint8Array(bodySize(b.heads, evidence, b.state));
  encoding.writeUint8(enc, evidence.length > 0 ? JOIN_SNAPSHOT_FORMAT_VOIDS : JOIN_SNAPSHOT_FORMAT);
  encoding.writeVarUint(enc, b.heads.length);
  for (const h of b.heads) encoding.writeVarUint8Array(enc, h);
  if (evidence.length > 0) {
    encoding.writeVarUint(enc, evidence.length);
    for (const [a, e] of evidence) {
      encoding.writeVarUint8Array(enc, a);
      encoding.writeVarUint8Array(enc, e);
    }
  }
  encoding.writeVarUint8Array(enc, b.state);
  const out = enc.bufs.length === 0 && enc.cpos === enc.cbuf.length ? enc.cbuf : encoding.toUint8Array(enc);
  if (out.length > maxBytes) throw new JoinOversizedError(`snapshot is ${out.length} bytes, limit ${maxBytes}`);
  return out;
}

/** Bytes of a varuint. */
function varuintSize(n: number): number {
  let size = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

/** Exact size of the body encodeJoinSnapshot writes (the layout in the module comment). */
function bodySize(heads: Uint8Array[], evidence: [Uint8Array, Uint8Array][], state: Uint8Array): number {
  const bytes = (b: Uint8Array) => varuintSize(b.length) + b.length;
  let size = 1 + varuintSize(heads.length) + bytes(state);
  for (const h of heads) size += bytes(h);
  if (evidence.length > 0) size += varuintSize(evidence.length);
  for (const [a, e] of evidence) size += bytes(a) + bytes(e);
  return Math.max(size, 1);
}

/**
 * Splits a body into head entry bytes and state bytes (their contents are checked by
 * verifyJoinSnapshot). Throws JoinOversizedError above `maxBytes`, JoinMalformedError otherwise.
 */
export function decodeJoinSnapshot(
  bytes: Uint8Array,
  maxEntryBytes: number,
  maxBytes = JOIN_MAX_SNAPSHOT_BYTES
): JoinSnapshotBody {
  if (bytes.length > maxBytes) throw new JoinOversizedError(`snapshot is ${bytes.length} bytes, limit ${maxBytes}`);
  const r = new Reader(bytes, (m) => new JoinMalformedError(`snapshot: ${m}`));
  const format = r.u8();
  if (format !== JOIN_SNAPSHOT_FORMAT && format !== JOIN_SNAPSHOT_FORMAT_VOIDS)
    throw new JoinMalformedError(`unknown snapshot format ${format}`);
  const entry = () => r.bytes(r.count(maxEntryBytes, 1));
  const n = r.count(JOIN_MAX_HEADS, MIN_ENTRY_BYTES + 1);
  const heads: Uint8Array[] = [];
  for (let i = 0; i < n; i++) heads.push(entry());
  const evidence: [Uint8Array, Uint8Array][] = [];
  if (format === JOIN_SNAPSHOT_FORMAT_VOIDS) {
    // Canonical: format 2 only with at least one record.
    const m = r.count(JOIN_MAX_HEADS, 2 * (MIN_ENTRY_BYTES + 1));
    if (m === 0) throw new JoinMalformedError('a format 2 snapshot without void feeds');
    for (let i = 0; i < m; i++) evidence.push([entry(), entry()]);
  }
  const state = r.bytes(r.count(r.remaining, 1));
  r.end();
  return evidence.length > 0 ? { heads, evidence, state } : { heads, state };
}
