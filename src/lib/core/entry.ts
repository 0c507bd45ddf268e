// Entry codec, signing and verification. Byte layout and validation order: PROTOCOL.md §3-§5.
// Encoding is canonical: decodeEntry accepts only bytes that encodeEntry would produce.
import * as decoding from 'lib0/decoding';
import type { Entry, EntryDep, Genesis, HashedEntry, IdentityKeys } from './types.js';
import { BadSignatureError, MalformedEntryError, OversizedEntryError, WrongNetworkError } from './errors.js';
import {
  ENTRY_FORMAT_V2,
  ENTRY_SIGNING_TAG,
  MAX_ENTRY_CLOCK,
  MAX_ENTRY_DEPS,
  MAX_ENTRY_SEQ,
  MAX_ENTRY_TIME,
  HASH_BYTES,
  NETWORK_TAG_BYTES,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES
} from './constants.js';
import { bytesEqual, fromHex, isAllZero, toHex } from './bytes.js';
import { sha256 } from './hash.js';
import { sign, verify } from './ed25519.js';
import { networkTag } from './genesis.js';
import { validateYjsUpdate, type PayloadValidator } from './payload.js';

export type UnsignedEntry = Omit<Entry, 'sig'>;

export interface NewEntry {
  keys: IdentityKeys;
  seq: number;
  prev: Uint8Array;
  lamport: number;
  time: number;
  /** The author's Yjs clock after this entry (see Entry.clock); default 0. */
  clock?: number;
  /** Causal dependencies (see Entry.deps), sorted here; default none. */
  deps?: EntryDep[];
  payload: Uint8Array;
}

export interface VerifyOptions {
  /** Defaults to validateYjsUpdate. */
  validatePayload?: PayloadValidator;
}

/** Smallest possible encoding: fixed fields, one-byte varints (seq, lamport, time, clock, deps count, payload length), empty payload. */
export const MIN_ENTRY_BYTES =
  1 + NETWORK_TAG_BYTES + PUBLIC_KEY_BYTES + 1 + HASH_BYTES + 1 + 1 + 1 + 1 + 1 + SIGNATURE_BYTES;
const HEX64 = /^[0-9a-f]{64}$/;

const SIGNING_TAG_BYTES = new TextEncoder().encode(ENTRY_SIGNING_TAG);

/** Throws MalformedEntryError unless every field has the right type, length and range. */
export function checkEntryShape(e: UnsignedEntry | Entry, withSig = true): void {
  const bytes = (v: unknown, n: number, what: string): void => {
    if (!(v instanceof Uint8Array) || v.length !== n) throw new MalformedEntryError(`${what} must be ${n} bytes`);
  };
  if (e === null || typeof e !== 'object') throw new MalformedEntryError('entry must be an object');
  bytes(e.network, NETWORK_TAG_BYTES, 'network');
  bytes(e.author, PUBLIC_KEY_BYTES, 'author');
  bytes(e.prev, HASH_BYTES, 'prev');
  if (withSig) bytes((e as Entry).sig, SIGNATURE_BYTES, 'sig');
  if (!Number.isSafeInteger(e.seq) || e.seq < 1 || e.seq > MAX_ENTRY_SEQ)
    throw new MalformedEntryError(`seq must be an integer in 1..${MAX_ENTRY_SEQ}`);
  if (!Number.isSafeInteger(e.lamport) || e.lamport < e.seq)
    throw new MalformedEntryError('lamport must be a safe integer >= seq');
  if (!Number.isSafeInteger(e.time) || e.time < 0 || e.time > MAX_ENTRY_TIME)
    throw new MalformedEntryError(`time must be an integer in 0..${MAX_ENTRY_TIME}`);
  if (!Number.isSafeInteger(e.clock) || e.clock < 0 || e.clock > MAX_ENTRY_CLOCK)
    throw new MalformedEntryError(`clock must be an integer in 0..${MAX_ENTRY_CLOCK}`);
  checkDeps(e.deps, e.author);
  if (!(e.payload instanceof Uint8Array)) throw new MalformedEntryError('payload must be bytes');
  // The chain starts at seq 1 with an all-zero prev; only seq 1 may have it.
  if ((e.seq === 1) !== isAllZero(e.prev))
    throw new MalformedEntryError(e.seq === 1 ? 'seq 1 must have a zero prev' : 'zero prev is only valid at seq 1');
}

/** Deps: an array of at most MAX_ENTRY_DEPS {author hex, seq >= 1}, strictly ascending by author, without `self`. */
function checkDeps(deps: unknown, self: Uint8Array): void {
  if (!Array.isArray(deps)) throw new MalformedEntryError('deps must be an array');
  if (deps.length > MAX_ENTRY_DEPS) throw new MalformedEntryError(`more than ${MAX_ENTRY_DEPS} deps`);
  const own = toHex(self);
  let last = '';
  for (const d of deps as EntryDep[]) {
    if (d === null || typeof d !== 'object' || typeof d.author !== 'string' || !HEX64.test(d.author))
      throw new MalformedEntryError('dep author must be 64 lowercase hex characters');
    if (!Number.isSafeInteger(d.seq) || d.seq < 1 || d.seq > MAX_ENTRY_SEQ)
      throw new MalformedEntryError(`dep seq must be an integer in 1..${MAX_ENTRY_SEQ}`);
    if (d.author === own) throw new MalformedEntryError('an entry cannot depend on its own author');
    if (d.author <= last) throw new MalformedEntryError('deps must be sorted by author without duplicates');
    last = d.author;
  }
}

/** Bytes of `n` (a safe integer >= 0) as an unsigned LEB128 varint, as lib0's writeVarUint writes it. */
function varUintSize(n: number): number {
  let size = 1;
  for (; n > 0x7f; size++) n = Math.floor(n / 0x80);
  return size;
}

/** Writes `n` at `pos` as lib0's writeVarUint does (low 7 bits first); returns the next position. */
function putVarUint(out: Uint8Array, pos: number, n: number): number {
  for (; n > 0x7f; n = Math.floor(n / 0x80)) out[pos++] = 0x80 | (n & 0x7f);
  out[pos++] = n;
  return pos;
}

/** Length of the unsigned part's encoding (PROTOCOL.md §3: everything before the signature). */
function unsignedSize(e: UnsignedEntry): number {
  let n = 1 + NETWORK_TAG_BYTES + PUBLIC_KEY_BYTES + varUintSize(e.seq) + HASH_BYTES;
  n += varUintSize(e.lamport) + varUintSize(e.time) + varUintSize(e.clock) + varUintSize(e.deps.length);
  for (const d of e.deps) n += PUBLIC_KEY_BYTES + varUintSize(d.seq);
  return n + varUintSize(e.payload.length) + e.payload.length;
}

/**
 * Writes the unsigned part at `pos` of `out` (sized by unsignedSize); returns the next position.
 * One preallocated buffer instead of lib0's growing encoder: the same bytes (entry.test.ts checks
 * them against lib0), about a third of the time; an ingested entry is encoded twice (decodeEntry's
 * canonical check, the signing bytes).
 */
function writeUnsigned(out: Uint8Array, pos: number, e: UnsignedEntry): number {
  out[pos++] = ENTRY_FORMAT_V2;
  out.set(e.network, pos);
  out.set(e.author, (pos += NETWORK_TAG_BYTES));
  pos = putVarUint(out, pos + PUBLIC_KEY_BYTES, e.seq);
  out.set(e.prev, pos);
  pos = putVarUint(out, pos + HASH_BYTES, e.lamport);
  pos = putVarUint(out, pos, e.time);
  pos = putVarUint(out, pos, e.clock);
  pos = putVarUint(out, pos, e.deps.length);
  for (const d of e.deps) {
    out.set(fromHex(d.author), pos);
    pos = putVarUint(out, pos + PUBLIC_KEY_BYTES, d.seq);
  }
  pos = putVarUint(out, pos, e.payload.length);
  out.set(e.payload, pos);
  return pos + e.payload.length;
}

/** Length of encodeEntry(e) without building it; `e` must have passed checkEntryShape. */
function encodedSize(e: Entry): number {
  return unsignedSize(e) + SIGNATURE_BYTES;
}

/** Canonical encoding of a whole entry (the unit that is hashed, stored and sent). */
export function encodeEntry(e: Entry): Uint8Array {
  checkEntryShape(e);
  return encodeShaped(e);
}

/** encodeEntry of an entry that passed checkEntryShape. */
function encodeShaped(e: Entry): Uint8Array {
  const out = new Uint8Array(encodedSize(e));
  out.set(e.sig, writeUnsigned(out, 0, e));
  return out;
}

/** What the author signs: domain tag, full 32-byte network id, then the encoding minus sig. */
export function signingBytes(e: UnsignedEntry, networkId: Uint8Array): Uint8Array {
  checkEntryShape(e, false);
  return signingBytesShaped(e, networkId);
}

/** signingBytes of an entry that passed checkEntryShape; checks the network id's length. */
function signingBytesShaped(e: UnsignedEntry, networkId: Uint8Array): Uint8Array {
  if (networkId.length !== HASH_BYTES) throw new MalformedEntryError('network id must be 32 bytes');
  const out = new Uint8Array(SIGNING_TAG_BYTES.length + HASH_BYTES + unsignedSize(e));
  out.set(SIGNING_TAG_BYTES);
  out.set(networkId, SIGNING_TAG_BYTES.length);
  writeUnsigned(out, SIGNING_TAG_BYTES.length + HASH_BYTES, e);
  return out;
}

/** SHA-256 of the canonical encoding. */
export function hashEntry(e: Entry): Uint8Array {
  return sha256(encodeEntry(e));
}

/** Builds and signs an entry for `networkId`. Does not check the genesis size limit. */
export async function createEntry(n: NewEntry, networkId: Uint8Array): Promise<HashedEntry> {
  const unsigned: UnsignedEntry = {
    network: networkTag(networkId),
    author: n.keys.publicKey,
    seq: n.seq,
    prev: n.prev,
    lamport: n.lamport,
    time: n.time,
    clock: n.clock ?? 0,
    deps: [...(n.deps ?? [])].sort((a, b) => (a.author < b.author ? -1 : a.author > b.author ? 1 : 0)),
    payload: n.payload
  };
  const sig = await sign(n.keys.seed, signingBytes(unsigned, networkId));
  const entry: Entry = { ...unsigned, sig };
  return { entry, hash: hashEntry(entry) };
}

/**
 * The author, seq and prev hash (hex) of entry bytes, read from the fixed prefix without decoding
 * the rest (format byte, network tag, author key, varuint seq, prev). Cheap and bounded: reads at
 * most 1 + NETWORK_TAG_BYTES + PUBLIC_KEY_BYTES + 8 + HASH_BYTES bytes. Does not check anything else; full
 * decoding and verification still happen at ingest. Throws MalformedEntryError when the prefix
 * is short or of an unknown format.
 */
export function peekAuthorSeq(bytes: Uint8Array): { author: string; seq: number; prev: string } {
  try {
    const dec = decoding.createDecoder(bytes);
    if (decoding.readUint8(dec) !== ENTRY_FORMAT_V2) throw new MalformedEntryError('unknown entry format');
    decoding.readUint8Array(dec, NETWORK_TAG_BYTES);
    const author = toHex(decoding.readUint8Array(dec, PUBLIC_KEY_BYTES));
    const seq = decoding.readVarUint(dec);
    if (bytes.length < dec.pos + HASH_BYTES) throw new MalformedEntryError('entry prefix too short');
    return { author, seq, prev: toHex(decoding.readUint8Array(dec, HASH_BYTES)) };
  } catch (e) {
    if (e instanceof MalformedEntryError) throw e;
    throw new MalformedEntryError(`undecodable entry prefix: ${(e as Error)?.message ?? String(e)}`);
  }
}

/**
 * Parses canonical entry bytes. The size is checked before anything is parsed; the result owns
 * copies of its fields (no views into `bytes`). Does not verify network or signature.
 */
export function decodeEntry(bytes: Uint8Array, maxBytes: number): HashedEntry {
  if (!(bytes instanceof Uint8Array)) throw new MalformedEntryError('entry must be bytes');
  if (bytes.length > maxBytes) throw new OversizedEntryError(`entry is ${bytes.length} bytes, limit ${maxBytes}`);
  if (bytes.length < MIN_ENTRY_BYTES) throw new MalformedEntryError(`entry shorter than ${MIN_ENTRY_BYTES} bytes`);
  let entry: Entry;
  try {
    const dec = decoding.createDecoder(bytes);
    const format = decoding.readUint8(dec);
    if (format !== ENTRY_FORMAT_V2) throw new MalformedEntryError(`unknown entry format ${format}`);
    const network = decoding.readUint8Array(dec, NETWORK_TAG_BYTES).slice();
    const author = decoding.readUint8Array(dec, PUBLIC_KEY_BYTES).slice();
    const seq = decoding.readVarUint(dec);
    const prev = decoding.readUint8Array(dec, HASH_BYTES).slice();
    const lamport = decoding.readVarUint(dec);
    const time = decoding.readVarUint(dec);
    const clock = decoding.readVarUint(dec);
    const depCount = decoding.readVarUint(dec);
    // Bounded before the loop: a claimed count never drives work beyond the bound.
    if (depCount > MAX_ENTRY_DEPS) throw new MalformedEntryError(`more than ${MAX_ENTRY_DEPS} deps`);
    const deps: EntryDep[] = [];
    for (let i = 0; i < depCount; i++) {
      const depAuthor = toHex(decoding.readUint8Array(dec, PUBLIC_KEY_BYTES));
      deps.push({ author: depAuthor, seq: decoding.readVarUint(dec) });
    }
    const payloadLen = decoding.readVarUint(dec);
    // The signature must still fit after the payload: refuse lengths that overrun the input.
    if (payloadLen > bytes.length - dec.pos - SIGNATURE_BYTES)
      throw new MalformedEntryError('payload length overruns entry');
    const payload = decoding.readUint8Array(dec, payloadLen).slice();
    const sig = decoding.readUint8Array(dec, SIGNATURE_BYTES).slice();
    if (decoding.hasContent(dec)) throw new MalformedEntryError('trailing bytes after entry');
    entry = { network, author, seq, prev, lamport, time, clock, deps, payload, sig };
  } catch (e) {
    if (e instanceof MalformedEntryError) throw e;
    throw new MalformedEntryError(`undecodable entry: ${(e as Error)?.message ?? String(e)}`);
  }
  checkEntryShape(entry);
  // Canonical form only (e.g. no over-long varints), so equal entries always have equal hashes.
  if (!bytesEqual(encodeShaped(entry), bytes)) throw new MalformedEntryError('entry is not canonically encoded');
  return { entry, hash: sha256(bytes) };
}

/**
 * Verifies an entry on its own (no feed state; chain links are FeedSet's job). Order:
 * malformed → oversized → wrong network → bad signature → malformed payload. Payload comes after
 * the signature so that a payload error is provably the author's fault, not a relaying peer's.
 */
export async function verifyEntry(
  e: Entry,
  networkId: Uint8Array,
  genesis: Genesis,
  opts: VerifyOptions = {}
): Promise<void> {
  checkEntryShape(e); // throws MalformedEntryError on a bad shape
  const size = encodedSize(e);
  if (size > genesis.maxEntryBytes)
    throw new OversizedEntryError(`entry is ${size} bytes, limit ${genesis.maxEntryBytes}`);
  if (!bytesEqual(e.network, networkTag(networkId))) throw new WrongNetworkError();
  if (!(await verify(e.author, signingBytesShaped(e, networkId), e.sig))) throw new BadSignatureError();
  (opts.validatePayload ?? validateYjsUpdate)(e.payload, e.author);
}

/** decodeEntry with the genesis limit, then verifyEntry: the path for bytes from the network. */
export async function openEntry(
  bytes: Uint8Array,
  networkId: Uint8Array,
  genesis: Genesis,
  opts: VerifyOptions = {}
): Promise<HashedEntry> {
  const h = decodeEntry(bytes, genesis.maxEntryBytes);
  await verifyEntry(h.entry, networkId, genesis, opts);
  return h;
}
