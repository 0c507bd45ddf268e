// Strict, bounded parser of the Yjs v1 update format (what Y.encodeStateAsUpdate and
// doc.on('update') produce). It reads the bytes exactly as yjs' UpdateDecoderV1 does
// (utils/encoding.js readClientsStructRefs, structs/Item.js readItemContent, the Content*
// readers, utils/DeleteSet.js readDeleteSet and lib0/decoding.js readAny), but checks every
// count, length, clock, string and nesting depth against bounds BEFORE using it, never recurses,
// and never allocates more than the bytes actually present. The verdict is a pure function of
// the bytes and the limits: the same on every engine and stack size.
//
// Format (v1):
//   update      = structs deleteSet
//   structs     = varuint numClients, then per client:
//                 varuint numStructs, varuint client, varuint clock, numStructs × struct
//   struct      = u8 info, [origin id if info&0x80], [rightOrigin id if info&0x40],
//                 [if neither: varuint 1 + string rootName | varuint 0 + id parent;
//                              string parentSub if info&0x20], content (ref = info&0x1f)
//   id          = varuint client, varuint clock
//   deleteSet   = varuint numClients, then per client: varuint client, varuint n, n × (clock, len)
//
// Strictness beyond what Yjs itself checks (Yjs would accept some of these):
// - varuints must be minimal (no 0x80 padding) and <= 2^53-1; parent info must be 0 or 1;
// - strings must be valid UTF-8 (lib0 decodes with a fatal TextDecoder too; ignoreBOM as lib0);
// - a client may appear once among the struct sections and once in the delete set;
// - struct sections and delete-set clients must not be empty;
// - Any objects may not repeat a key nor use "__proto__" (lib0's `obj[key] = v` would drop or
//   reinterpret them), and Any bigint (tag 122) is refused.
import { MalformedPayloadError } from './errors.js';

export interface YId {
  client: number;
  clock: number;
}

/** One item of the update. */
export interface ParsedStruct {
  client: number;
  clock: number;
  /** Clock units this struct occupies (>= 1). */
  length: number;
  /** Yjs content ref: 2 JSON, 3 Binary, 4 String, 5 Embed, 6 Format, 7 Type, 8 Any. */
  content: number;
  origin: YId | null;
  rightOrigin: YId | null;
  /** Explicit parent when the item has neither origin nor rightOrigin: a root type name (string) or an item id; null when implied by origins. */
  parent: string | YId | null;
  parentSub: string | null;
  /** Content 7 only: 0 YArray, 1 YMap, 2 YText, 3 YXmlElement, 4 YXmlFragment, 5 YXmlHook, 6 YXmlText. */
  typeRef?: number;
  /**
   * Content 4 (string) only, when it holds surrogate pairs: the offsets (UTF-16 units, ascending)
   * of their low halves, i.e. where a cut would split a pair (surrogatePairCuts).
   */
  pairCuts?: number[];
}

/** Clocks [clock, clock + len) of `client` deleted by the update (len >= 1). */
export interface DeleteRange {
  client: number;
  clock: number;
  len: number;
}

export interface ParsedUpdate {
  /** In wire order: client sections in order, structs of a section by increasing clock. */
  structs: ParsedStruct[];
  /** In wire order. */
  deletes: DeleteRange[];
}

export interface YjsLimits {
  /** Largest update in bytes, checked before parsing. */
  maxBytes: number;
  /** Most containers (arrays/objects) open at once in an Any value or a JSON text. */
  maxDepth: number;
  /** Longest root type name, parentSub key, format key, XML node name or Any object key (UTF-16 units). */
  maxKeyChars: number;
  /** Most struct client sections, and separately most delete-set clients. */
  maxClients: number;
}

export const DEFAULT_YJS_LIMITS: YjsLimits = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxKeyChars: 1024,
  maxClients: 256
});

/** Struct refs (info & 0x1f). */
const REF_GC = 0;
const REF_DELETED = 1;
const REF_JSON = 2;
const REF_BINARY = 3;
const REF_STRING = 4;
const REF_EMBED = 5;
const REF_FORMAT = 6;
const REF_TYPE = 7;
const REF_ANY = 8;
const REF_DOC = 9;
const REF_SKIP = 10;
const REF_NAMES: Record<number, string> = {
  [REF_GC]: 'GC',
  [REF_DELETED]: 'ContentDeleted',
  [REF_DOC]: 'ContentDoc',
  [REF_SKIP]: 'Skip'
};

const INFO_ORIGIN = 0x80;
const INFO_RIGHT_ORIGIN = 0x40;
const INFO_PARENT_SUB = 0x20;
const INFO_REF = 0x1f;

/** Type refs of ContentType; these two carry a name string. */
const TYPE_REF_MAX = 6;
const TYPE_XML_ELEMENT = 3;
const TYPE_XML_HOOK = 5;

/** lib0 readAny tags. */
const ANY_UNDEFINED = 127;
const ANY_NULL = 126;
const ANY_INT = 125;
const ANY_FLOAT32 = 124;
const ANY_FLOAT64 = 123;
const ANY_BIGINT = 122;
const ANY_FALSE = 121;
const ANY_TRUE = 120;
const ANY_STRING = 119;
const ANY_OBJECT = 118;
const ANY_ARRAY = 117;
const ANY_BYTES = 116;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function fail(message: string): never {
  throw new MalformedPayloadError(`malformed Yjs update: ${message}`);
}

/** Bounds-checked cursor over the update bytes. */
class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  remaining(): number {
    return this.bytes.length - this.pos;
  }

  u8(): number {
    if (this.pos >= this.bytes.length) fail(`truncated at byte ${this.pos}`);
    return this.bytes[this.pos++];
  }

  skip(n: number): void {
    if (n > this.remaining()) fail(`truncated: ${n} bytes claimed at byte ${this.pos}, ${this.remaining()} left`);
    this.pos += n;
  }

  /** Minimal unsigned LEB128, at most 2^53-1. */
  varUint(): number {
    const start = this.pos;
    let num = 0;
    let mult = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      num += (b & 0x7f) * mult;
      if (num > MAX_SAFE) fail(`varuint above 2^53-1 at byte ${start}`);
      if (b < 0x80) {
        if (b === 0 && i > 0) fail(`non-minimal varuint at byte ${start}`);
        return num;
      }
      mult *= 128;
    }
    return fail(`varuint longer than 8 bytes at byte ${start}`);
  }

  /** lib0 varint: first byte carries continuation, sign and 6 bits; |value| <= 2^53-1, minimal. */
  varInt(): void {
    const start = this.pos;
    const first = this.u8();
    if (first < 0x80) return;
    let num = first & 0x3f;
    let mult = 64;
    for (let i = 1; i < 8; i++) {
      const b = this.u8();
      num += (b & 0x7f) * mult;
      if (num > MAX_SAFE) fail(`varint out of range at byte ${start}`);
      if (b < 0x80) {
        if (b === 0) fail(`non-minimal varint at byte ${start}`);
        return;
      }
      mult *= 128;
    }
    fail(`varint longer than 8 bytes at byte ${start}`);
  }

  /** A count of items that each take at least `minBytes` bytes: refused if the bytes cannot hold them. */
  count(what: string, minBytes: number): number {
    const n = this.varUint();
    if (n * minBytes > this.remaining()) fail(`${what} count ${n} exceeds the ${this.remaining()} bytes left`);
    return n;
  }

  /** A length-prefixed UTF-8 string (fatal decoding), optionally at most maxChars UTF-16 units. */
  string(what: string, maxChars?: number): string {
    const n = this.varUint();
    if (n > this.remaining()) fail(`${what}: ${n} bytes claimed, ${this.remaining()} left`);
    // Every UTF-16 unit takes at most 3 UTF-8 bytes: refuse before decoding.
    if (maxChars !== undefined && n > 3 * maxChars) fail(`${what} longer than ${maxChars} characters`);
    let s: string;
    try {
      s = utf8.decode(this.bytes.subarray(this.pos, this.pos + n));
    } catch {
      return fail(`${what} is not valid UTF-8 at byte ${this.pos}`);
    }
    this.pos += n;
    if (maxChars !== undefined && s.length > maxChars) fail(`${what} longer than ${maxChars} characters`);
    return s;
  }

  id(): YId {
    const client = this.varUint();
    const clock = this.varUint();
    return { client, clock };
  }
}

/**
 * Parses a Yjs v1 update strictly and within `limits` (defaults: DEFAULT_YJS_LIMITS), without
 * handing it to Yjs. Returns its structs (ids, lengths in clock units, origins, parent) and
 * delete ranges, in wire order.
 *
 * Throws MalformedPayloadError — and nothing else, ever — unless `bytes` is a well-formed, bounded
 * Yjs v1 update: over maxBytes, empty (no structs and no deletes), truncated, trailing bytes,
 * integers above 2^53-1 (also clock + length), GC/Skip structs, ContentDeleted/ContentDoc,
 * unknown refs, invalid UTF-8, keys over maxKeyChars, nesting over maxDepth, Any bigint, JSON
 * that does not parse, more than maxClients clients, a client twice, zero-length items or
 * delete ranges, or more clock units than bytes. Throws RangeError only for invalid `limits`
 * (a programming error, never caused by `bytes`).
 */
export function parseYjsUpdate(bytes: Uint8Array, limits?: Partial<YjsLimits>): ParsedUpdate {
  const lim = resolveLimits(limits);
  try {
    if (!(bytes instanceof Uint8Array)) fail('not a Uint8Array');
    if (bytes.length > lim.maxBytes) fail(`${bytes.length} bytes exceed the limit of ${lim.maxBytes}`);
    const r = new Reader(bytes);
    const structs = readStructs(r, lim);
    const deletes = readDeleteSet(r, lim);
    if (r.remaining() !== 0) fail(`${r.remaining()} trailing bytes`);
    if (structs.length === 0 && deletes.length === 0) fail('no structs and no deletes');
    return { structs, deletes };
  } catch (e) {
    if (e instanceof MalformedPayloadError) throw e;
    // Defensive: nothing above should throw anything else; never let another error type out.
    throw new MalformedPayloadError(`malformed Yjs update: ${(e as Error)?.message ?? String(e)}`);
  }
}

function resolveLimits(limits: Partial<YjsLimits> | undefined): YjsLimits {
  const lim = { ...DEFAULT_YJS_LIMITS, ...limits };
  for (const [k, v] of Object.entries(lim)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`YjsLimits.${k} must be a non-negative safe integer`);
  }
  return lim;
}

function readStructs(r: Reader, lim: YjsLimits): ParsedStruct[] {
  // A section takes at least 4 bytes (count, client, clock, one info byte).
  const numClients = r.count('client section', 4);
  if (numClients > lim.maxClients) fail(`${numClients} client sections exceed the limit of ${lim.maxClients}`);
  const structs: ParsedStruct[] = [];
  const seen = new Set<number>();
  let units = 0;
  for (let i = 0; i < numClients; i++) {
    // Each struct takes at least 2 bytes (info byte and some content).
    const numStructs = r.count('struct', 2);
    const client = r.varUint();
    let clock = r.varUint();
    if (numStructs === 0) fail(`empty struct section for client ${client}`);
    if (seen.has(client)) fail(`client ${client} has two struct sections`);
    seen.add(client);
    for (let j = 0; j < numStructs; j++) {
      const s = readStruct(r, lim, client, clock);
      if (s.length > MAX_SAFE - clock) fail(`clock of client ${client} passes 2^53-1`);
      clock += s.length;
      units += s.length;
      if (units > r.bytes.length) fail(`${units} clock units in ${r.bytes.length} bytes`);
      structs.push(s);
    }
  }
  return structs;
}

function readStruct(r: Reader, lim: YjsLimits, client: number, clock: number): ParsedStruct {
  const at = r.pos;
  const info = r.u8();
  const ref = info & INFO_REF;
  if (REF_NAMES[ref] !== undefined) fail(`${REF_NAMES[ref]} struct (ref ${ref}) at byte ${at} is not accepted`);
  if (ref > REF_SKIP) fail(`unknown struct ref ${ref} at byte ${at}`);
  const origin = info & INFO_ORIGIN ? r.id() : null;
  const rightOrigin = info & INFO_RIGHT_ORIGIN ? r.id() : null;
  let parent: string | YId | null = null;
  let parentSub: string | null = null;
  if ((info & (INFO_ORIGIN | INFO_RIGHT_ORIGIN)) === 0) {
    const parentInfo = r.varUint();
    if (parentInfo === 1) parent = r.string('root type name', lim.maxKeyChars);
    else if (parentInfo === 0) parent = r.id();
    else fail(`parent info ${parentInfo} at byte ${at} is neither 0 nor 1`);
    if (info & INFO_PARENT_SUB) parentSub = r.string('parentSub key', lim.maxKeyChars);
  }
  const { length, typeRef, pairCuts } = readContent(r, lim, ref);
  if (length < 1) fail(`struct ${client}:${clock} at byte ${at} has length 0`);
  const s: ParsedStruct = { client, clock, length, content: ref, origin, rightOrigin, parent, parentSub };
  if (typeRef !== undefined) s.typeRef = typeRef;
  if (pairCuts !== undefined) s.pairCuts = pairCuts;
  return s;
}

/**
 * The offsets in `s` (ascending) whose UTF-16 unit is the low half of a surrogate pair: a cut
 * there splits the pair. Undefined when there is none.
 */
export function surrogatePairCuts(s: string): number[] | undefined {
  let out: number[] | undefined;
  for (let i = 1; i < s.length; i++) {
    if (isLowSurrogate(s.charCodeAt(i)) && isHighSurrogate(s.charCodeAt(i - 1))) (out ??= []).push(i);
  }
  return out;
}

export const isHighSurrogate = (u: number): boolean => u >= 0xd800 && u <= 0xdbff;
export const isLowSurrogate = (u: number): boolean => u >= 0xdc00 && u <= 0xdfff;

/** Reads one item's content; returns its length in clock units. */
function readContent(
  r: Reader,
  lim: YjsLimits,
  ref: number
): { length: number; typeRef?: number; pairCuts?: number[] } {
  switch (ref) {
    case REF_JSON: {
      const n = r.count('JSON element', 1);
      for (let i = 0; i < n; i++) {
        const text = r.string('JSON element');
        if (text !== 'undefined') checkJsonText(text, lim.maxDepth);
      }
      return { length: n };
    }
    case REF_BINARY:
      r.skip(r.varUint());
      return { length: 1 };
    case REF_STRING: {
      const s = r.string('string content');
      const pairCuts = surrogatePairCuts(s);
      return pairCuts === undefined ? { length: s.length } : { length: s.length, pairCuts };
    }
    case REF_EMBED:
      checkJsonText(r.string('embed'), lim.maxDepth);
      return { length: 1 };
    case REF_FORMAT:
      r.string('format key', lim.maxKeyChars);
      checkJsonText(r.string('format value'), lim.maxDepth);
      return { length: 1 };
    case REF_TYPE: {
      const typeRef = r.varUint();
      if (typeRef > TYPE_REF_MAX) fail(`unknown type ref ${typeRef}`);
      if (typeRef === TYPE_XML_ELEMENT || typeRef === TYPE_XML_HOOK) r.string('XML node name', lim.maxKeyChars);
      return { length: 1, typeRef };
    }
    case REF_ANY: {
      const n = r.count('Any element', 1);
      for (let i = 0; i < n; i++) skipAny(r, lim);
      return { length: n };
    }
    default:
      return fail(`unexpected struct ref ${ref}`);
  }
}

/**
 * Skips one lib0 Any value, checking it, with an explicit stack: `left[k]` is how many children
 * the k-th open container still has to read; `keys[k]` holds an open object's keys (null for
 * an array). Depth = containers open at once.
 */
function skipAny(r: Reader, lim: YjsLimits): void {
  const left: number[] = [];
  const keys: (Set<string> | null)[] = [];
  for (;;) {
    const top = left.length - 1;
    if (top >= 0) {
      if (left[top] === 0) {
        left.pop();
        keys.pop();
        if (left.length === 0) return;
        continue;
      }
      left[top]--;
      const own = keys[top];
      if (own !== null) {
        const key = r.string('Any object key', lim.maxKeyChars);
        if (key === '__proto__') fail('Any object key "__proto__"');
        if (own.has(key)) fail(`Any object repeats key ${JSON.stringify(key)}`);
        own.add(key);
      }
    }
    const at = r.pos;
    const tag = r.u8();
    switch (tag) {
      case ANY_UNDEFINED:
      case ANY_NULL:
      case ANY_FALSE:
      case ANY_TRUE:
        break;
      case ANY_INT:
        r.varInt();
        break;
      case ANY_FLOAT32:
        r.skip(4);
        break;
      case ANY_FLOAT64:
        r.skip(8);
        break;
      case ANY_BIGINT:
        fail(`Any bigint at byte ${at} is not accepted`);
        break;
      case ANY_STRING:
        r.string('Any string');
        break;
      case ANY_BYTES:
        r.skip(r.varUint());
        break;
      case ANY_OBJECT:
      case ANY_ARRAY: {
        // An object entry takes at least 2 bytes (key length, value tag), an array element 1.
        const n = r.count(tag === ANY_OBJECT ? 'Any object entry' : 'Any array element', tag === ANY_OBJECT ? 2 : 1);
        if (left.length >= lim.maxDepth) fail(`Any value nested deeper than ${lim.maxDepth} at byte ${at}`);
        left.push(n);
        keys.push(tag === ANY_OBJECT ? new Set() : null);
        break;
      }
      default:
        fail(`unknown Any tag ${tag} at byte ${at}`);
    }
    if (left.length === 0) return;
  }
}

/** JSON text: bracket nesting (outside strings) at most maxDepth, checked before JSON.parse. */
function checkJsonText(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) fail(`JSON nested deeper than ${maxDepth}`);
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  try {
    JSON.parse(text);
  } catch {
    fail('JSON content does not parse');
  }
}

function readDeleteSet(r: Reader, lim: YjsLimits): DeleteRange[] {
  // A delete-set client takes at least 4 bytes (client, count, one clock and len).
  const numClients = r.count('delete-set client', 4);
  if (numClients > lim.maxClients) fail(`${numClients} delete-set clients exceed the limit of ${lim.maxClients}`);
  const deletes: DeleteRange[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < numClients; i++) {
    const client = r.varUint();
    const n = r.count('delete range', 2);
    if (n === 0) fail(`delete-set client ${client} has no ranges`);
    if (seen.has(client)) fail(`client ${client} appears twice in the delete set`);
    seen.add(client);
    for (let j = 0; j < n; j++) {
      const clock = r.varUint();
      const len = r.varUint();
      if (len < 1) fail(`empty delete range ${client}:${clock}`);
      if (len > MAX_SAFE - clock) fail(`delete range ${client}:${clock}+${len} passes 2^53-1`);
      deletes.push({ client, clock, len });
    }
  }
  return deletes;
}

/** Per client: the clocks [clock, end) its structs occupy in the update (one contiguous run each). */
export function clientRanges(p: ParsedUpdate): Map<number, { clock: number; end: number }> {
  const out = new Map<number, { clock: number; end: number }>();
  for (const s of p.structs) {
    const cur = out.get(s.client);
    if (cur === undefined) out.set(s.client, { clock: s.clock, end: s.clock + s.length });
    else {
      cur.clock = Math.min(cur.clock, s.clock);
      cur.end = Math.max(cur.end, s.clock + s.length);
    }
  }
  return out;
}

/**
 * Every id the update references outside its own structs: `refs` are the origins, right origins
 * and parent ids (deduplicated, first-seen order); `deletes` are the delete ranges minus the
 * clocks of the update's own structs (a range may split in two).
 */
export function referencedIds(p: ParsedUpdate): { refs: YId[]; deletes: DeleteRange[] } {
  const own = clientRanges(p);
  const inside = (id: YId) => {
    const range = own.get(id.client);
    return range !== undefined && id.clock >= range.clock && id.clock < range.end;
  };
  const refs: YId[] = [];
  const seen = new Set<string>();
  const add = (id: YId | string | null) => {
    if (id === null || typeof id === 'string' || inside(id)) return;
    const key = `${id.client}:${id.clock}`;
    if (seen.has(key)) return;
    seen.add(key);
    refs.push({ client: id.client, clock: id.clock });
  };
  for (const s of p.structs) {
    add(s.origin);
    add(s.rightOrigin);
    add(s.parent);
  }
  const deletes: DeleteRange[] = [];
  for (const d of p.deletes) {
    const range = own.get(d.client);
    const end = d.clock + d.len;
    if (range === undefined || end <= range.clock || d.clock >= range.end) {
      deletes.push({ ...d });
      continue;
    }
    if (d.clock < range.clock) deletes.push({ client: d.client, clock: d.clock, len: range.clock - d.clock });
    if (end > range.end) deletes.push({ client: d.client, clock: range.end, len: end - range.end });
  }
  return { refs, deletes };
}
