// Building blocks of the ledger fuzzer: raw entry bytes with ANY field values (signed with the
// author's key, so hostile entries get past the signature and reach the deeper checks), raw Yjs
// v1 updates from a small struct description, raw snapshot files, and an observer that captures
// what "the ledger's state" means for the invariants (records, heads, digest, store count).
import * as encoding from 'lib0/encoding';
import { gzipSync } from 'node:zlib';
import { sha256 } from '../../src/lib/core/hash.js';
import { sign } from '../../src/lib/core/ed25519.js';
import { fromHex, toHex } from '../../src/lib/core/bytes.js';
import { networkTag } from '../../src/lib/core/genesis.js';
import { ENTRY_FORMAT_V2, ENTRY_SIGNING_TAG } from '../../src/lib/core/constants.js';
import { LedgerError } from '../../src/lib/core/errors.js';
import { buildHeader } from '../../src/lib/core/snapshot/header.js';
import { toBase64 } from '../../src/lib/core/snapshot/base64.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import type { LedgerStore } from '../../src/lib/core/storage.js';
import type { FeedHead, Genesis, HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';

/** A varuint as raw bytes: any size (bigint), optionally padded (non-minimal) with `pad` extra 0x80 bytes. */
export function varUintBytes(v: number | bigint, pad = 0): number[] {
  let n = BigInt(v);
  const out: number[] = [];
  while (n > 0x7fn) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  for (let i = 0; i < pad; i++) {
    out[out.length - 1] |= 0x80;
    out.push(0);
  }
  return out;
}

/** Every field of an entry as the fuzzer may set it, bounds or not. */
export interface RawFields {
  format: number;
  network: Uint8Array; // 8 bytes normally
  author: Uint8Array; // 32
  seq: number | bigint;
  prev: Uint8Array; // 32
  lamport: number | bigint;
  time: number | bigint;
  clock: number | bigint;
  /** Count written before the deps (normally deps.length). */
  depCount: number | bigint;
  deps: { author: Uint8Array; seq: number | bigint }[];
  payload: Uint8Array;
  /** Extra 0x80 padding on the seq varuint (non-canonical encodings). */
  seqPad: number;
}

function writeRaw(enc: encoding.Encoder, f: RawFields): void {
  const v = (x: number | bigint, pad = 0) => encoding.writeUint8Array(enc, Uint8Array.from(varUintBytes(x, pad)));
  encoding.writeUint8(enc, f.format);
  encoding.writeUint8Array(enc, f.network);
  encoding.writeUint8Array(enc, f.author);
  v(f.seq, f.seqPad);
  encoding.writeUint8Array(enc, f.prev);
  v(f.lamport);
  v(f.time);
  v(f.clock);
  v(f.depCount);
  for (const d of f.deps) {
    encoding.writeUint8Array(enc, d.author);
    v(d.seq);
  }
  v(f.payload.length);
  encoding.writeUint8Array(enc, f.payload);
}

const SIGNING_TAG = new TextEncoder().encode(ENTRY_SIGNING_TAG);

/**
 * Entry bytes for `f`, signed with `seed` over the same signing bytes entry.ts uses (tag, full
 * network id, unsigned encoding), whatever the fields hold.
 */
export async function rawSignedEntry(f: RawFields, seed: Uint8Array, networkId: Uint8Array): Promise<Uint8Array> {
  const unsigned = encoding.createEncoder();
  writeRaw(unsigned, f);
  const body = encoding.toUint8Array(unsigned);
  const msg = new Uint8Array(SIGNING_TAG.length + networkId.length + body.length);
  msg.set(SIGNING_TAG);
  msg.set(networkId, SIGNING_TAG.length);
  msg.set(body, SIGNING_TAG.length + networkId.length);
  const sig = await sign(seed, msg);
  const out = new Uint8Array(body.length + sig.length);
  out.set(body);
  out.set(sig, body.length);
  return out;
}

/** The raw fields of a (valid) entry, to mutate. */
export function fieldsOf(h: HashedEntry): RawFields {
  const e = h.entry;
  return {
    format: ENTRY_FORMAT_V2,
    network: e.network,
    author: e.author,
    seq: e.seq,
    prev: e.prev,
    lamport: e.lamport,
    time: e.time,
    clock: e.clock,
    depCount: e.deps.length,
    deps: e.deps.map((d) => ({ author: fromHex(d.author), seq: d.seq })),
    payload: e.payload,
    seqPad: 0
  };
}

/** Fresh fields for an author's entry (network tag of `networkId`). */
export function baseFields(keys: IdentityKeys, networkId: Uint8Array, over: Partial<RawFields> = {}): RawFields {
  return {
    format: ENTRY_FORMAT_V2,
    network: networkTag(networkId),
    author: keys.publicKey,
    seq: 1,
    prev: new Uint8Array(32),
    lamport: 1,
    time: 1_700_000_000_000,
    clock: 0,
    depCount: 0,
    deps: [],
    payload: new Uint8Array(0),
    seqPad: 0,
    ...over
  };
}

// ---- raw Yjs v1 updates ----

export type YId = { client: number; clock: number };

/** Content of one struct, written after its header. */
export type YContent =
  | { k: 'any'; values: unknown[] } // ref 8
  | { k: 'anyDeep'; depth: number } // ref 8, `depth` nested arrays
  | { k: 'string'; s: string } // ref 4
  | { k: 'json'; texts: string[] } // ref 2
  | { k: 'binary'; len: number; claimed?: number } // ref 3
  | { k: 'deleted'; len: number } // ref 1
  | { k: 'type'; typeRef: number; name?: string } // ref 7
  | { k: 'gc'; len: number } // ref 0
  | { k: 'skip'; len: number } // ref 10
  | { k: 'doc' } // ref 9
  | { k: 'embed'; text: string } // ref 5
  | { k: 'format'; key: string; text: string } // ref 6
  | { k: 'unknown'; ref: number };

export interface YStruct {
  origin?: YId;
  rightOrigin?: YId;
  /** Used only without origins: a root type name, or an item id. */
  parent?: string | YId;
  parentSub?: string;
  content: YContent;
}

export interface YSection {
  client: number;
  clock: number;
  structs: YStruct[];
  /** Claimed struct count (default structs.length). */
  claimed?: number;
}

export interface YUpdateSpec {
  sections: YSection[];
  deletes: { client: number; ranges: [number, number][] }[];
  /** Trailing garbage. */
  trailing?: number[];
}

const REFS: Record<YContent['k'], number> = {
  gc: 0,
  deleted: 1,
  json: 2,
  binary: 3,
  string: 4,
  embed: 5,
  format: 6,
  type: 7,
  any: 8,
  anyDeep: 8,
  doc: 9,
  skip: 10,
  unknown: 11
};

function writeContent(enc: encoding.Encoder, c: YContent): void {
  switch (c.k) {
    case 'any':
      encoding.writeVarUint(enc, c.values.length);
      for (const v of c.values) encoding.writeAny(enc, v as never);
      return;
    case 'anyDeep':
      encoding.writeVarUint(enc, 1);
      for (let i = 0; i < c.depth; i++) {
        encoding.writeUint8(enc, 117); // array
        encoding.writeVarUint(enc, 1);
      }
      encoding.writeUint8(enc, 126); // null
      return;
    case 'string':
      encoding.writeVarString(enc, c.s);
      return;
    case 'json':
      encoding.writeVarUint(enc, c.texts.length);
      for (const t of c.texts) encoding.writeVarString(enc, t);
      return;
    case 'binary':
      encoding.writeVarUint(enc, c.claimed ?? c.len);
      encoding.writeUint8Array(enc, new Uint8Array(c.len));
      return;
    case 'deleted':
    case 'gc':
    case 'skip':
      encoding.writeVarUint(enc, c.len);
      return;
    case 'type':
      encoding.writeVarUint(enc, c.typeRef);
      if (c.name !== undefined) encoding.writeVarString(enc, c.name);
      return;
    case 'doc':
      encoding.writeVarString(enc, 'guid');
      encoding.writeAny(enc, {});
      return;
    case 'embed':
      encoding.writeVarString(enc, c.text);
      return;
    case 'format':
      encoding.writeVarString(enc, c.key);
      encoding.writeVarString(enc, c.text);
      return;
    case 'unknown':
      return;
  }
}

/** Clock units a struct takes (as Yjs counts them). */
export function contentLength(c: YContent): number {
  switch (c.k) {
    case 'any':
      return c.values.length;
    case 'json':
      return c.texts.length;
    case 'string':
      return c.s.length;
    case 'deleted':
    case 'gc':
    case 'skip':
      return c.len;
    default:
      return 1;
  }
}

export function encodeYUpdate(spec: YUpdateSpec): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, spec.sections.length);
  for (const s of spec.sections) {
    encoding.writeVarUint(enc, s.claimed ?? s.structs.length);
    encoding.writeVarUint(enc, s.client);
    encoding.writeVarUint(enc, s.clock);
    for (const st of s.structs) {
      const ref = st.content.k === 'unknown' ? st.content.ref : REFS[st.content.k];
      const hasSub = st.parentSub !== undefined && st.origin === undefined && st.rightOrigin === undefined;
      const info = ref | (st.origin ? 0x80 : 0) | (st.rightOrigin ? 0x40 : 0) | (hasSub ? 0x20 : 0);
      encoding.writeUint8(enc, info);
      if (st.origin) {
        encoding.writeVarUint(enc, st.origin.client);
        encoding.writeVarUint(enc, st.origin.clock);
      }
      if (st.rightOrigin) {
        encoding.writeVarUint(enc, st.rightOrigin.client);
        encoding.writeVarUint(enc, st.rightOrigin.clock);
      }
      if (!st.origin && !st.rightOrigin) {
        const p = st.parent ?? 'records';
        if (typeof p === 'string') {
          encoding.writeVarUint(enc, 1);
          encoding.writeVarString(enc, p);
        } else {
          encoding.writeVarUint(enc, 0);
          encoding.writeVarUint(enc, p.client);
          encoding.writeVarUint(enc, p.clock);
        }
        if (hasSub) encoding.writeVarString(enc, st.parentSub!);
      }
      writeContent(enc, st.content);
    }
  }
  encoding.writeVarUint(enc, spec.deletes.length);
  for (const d of spec.deletes) {
    encoding.writeVarUint(enc, d.client);
    encoding.writeVarUint(enc, d.ranges.length);
    for (const [clock, len] of d.ranges) {
      encoding.writeVarUint(enc, clock);
      encoding.writeVarUint(enc, len);
    }
  }
  for (const b of spec.trailing ?? []) encoding.writeUint8(enc, b);
  return encoding.toUint8Array(enc);
}

// ---- snapshots built by hand (entry lines may carry any bytes) ----

/** A gzipped full snapshot with these entry byte strings (author/seq/hash lines taken from `meta`). */
export function rawFullSnapshot(
  genesis: Genesis,
  exporter: string,
  heads: FeedHead[],
  entries: { author: string; seq: number; hash: string; bytes: Uint8Array }[]
): Uint8Array {
  const header = buildHeader({ kind: 'full', genesis, heads, stateDigest: null, created: new Date(0), exporter });
  const lines = [JSON.stringify(header)];
  for (const e of entries) {
    lines.push(JSON.stringify({ t: 'entry', author: e.author, seq: e.seq, hash: e.hash, bytes: toBase64(e.bytes) }));
  }
  const body = lines.map((l) => l + '\n').join('');
  const digest = toHex(sha256(new TextEncoder().encode(body)));
  const text = body + JSON.stringify({ t: 'end', entries: entries.length, sha256: digest }) + '\n';
  return new Uint8Array(gzipSync(new TextEncoder().encode(text)));
}

// ---- observing a ledger ----

export interface Observed {
  records: string;
  heads: string;
  digest: string;
  count: number;
  conflicts: number;
}

export async function observe(ledger: Ledger, store: LedgerStore): Promise<Observed> {
  return {
    records: JSON.stringify(ledger.records()),
    heads: JSON.stringify(ledger.heads()),
    digest: ledger.stats().stateDigest,
    count: await store.count(),
    conflicts: ledger.conflictCount()
  };
}

/** Every code a LedgerError subclass may carry (errors.ts). */
export const LEDGER_CODES = new Set([
  'wrong-network',
  'bad-signature',
  'broken-chain',
  'oversized-entry',
  'malformed-entry',
  'malformed-payload',
  'causality',
  'foreign-client',
  'client-id-collision',
  'state-usage',
  'invalid-record-key',
  'invalid-record-value',
  'malformed-snapshot',
  'corrupt-snapshot',
  'snapshot-too-large',
  'foreign-snapshot'
]);

/** A typed error: a LedgerError subclass with a name and a known code (never TypeError/RangeError). */
export function isTypedError(e: unknown): boolean {
  return e instanceof LedgerError && typeof e.name === 'string' && e.name.endsWith('Error') && LEDGER_CODES.has(e.code);
}

/** Engine error messages that must never surface as a rejection's message (a wrapped TypeError etc.). */
export const ENGINE_MESSAGE =
  /is not a function|Cannot read propert|undefined is not|is not iterable|Maximum call stack|Invalid array length|out of memory|Cannot convert|is not defined/i;
