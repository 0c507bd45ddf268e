// Record keys, values and their stored form in the records Y.Map.
//
// Stored form: { v, a, t, l } for a value, { del: true, a, t, l } for a deletion (a tombstone,
// so that a delete is a write with an author and can take part in conflicts like a put).
// `a` is the writer's claim; it is trusted only when it hashes to the struct's clientID.
import { InvalidRecordKeyError, InvalidRecordValueError } from '../errors.js';
import { RECORD_KEY_MAX_CHARS, RECORD_VALUE_MAX_BYTES, RECORD_VALUE_MAX_DEPTH } from '../constants.js';
import { cachedClientId, clientIdOf } from './client-id.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface StoredRecord {
  /** Absent for a tombstone. */
  value?: JsonValue;
  deleted: boolean;
  author: string;
  time: number;
  lamport: number;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const AUTHOR_HEX = /^[0-9a-f]{64}$/;
const utf8 = new TextEncoder();

/** A string Yjs can encode and decode unchanged (lone surrogates would become U+FFFD). */
function wellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export function validateKey(key: unknown): string {
  if (typeof key !== 'string') throw new InvalidRecordKeyError('record key must be a string');
  if (key.length === 0) throw new InvalidRecordKeyError('record key must not be empty');
  if (key.length > RECORD_KEY_MAX_CHARS) {
    throw new InvalidRecordKeyError(`record key longer than ${RECORD_KEY_MAX_CHARS} characters`);
  }
  if (!wellFormed(key)) throw new InvalidRecordKeyError('record key is not well-formed Unicode');
  return key;
}

export function isValidKey(key: string): boolean {
  return key.length > 0 && key.length <= RECORD_KEY_MAX_CHARS && wellFormed(key);
}

/**
 * Returns a deep, frozen copy of `value` if it is plain JSON within the limits; throws
 * InvalidRecordValueError otherwise. The copy keeps callers from mutating stored state later.
 */
export function validateValue(value: unknown): JsonValue {
  checkJson(value, 0);
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new InvalidRecordValueError(`record value is not serializable: ${(e as Error).message}`);
  }
  if (utf8.encode(text).length > RECORD_VALUE_MAX_BYTES) {
    throw new InvalidRecordValueError(`record value larger than ${RECORD_VALUE_MAX_BYTES} bytes`);
  }
  return deepFreeze(JSON.parse(text) as JsonValue);
}

function checkJson(value: unknown, depth: number): void {
  if (depth > RECORD_VALUE_MAX_DEPTH)
    throw new InvalidRecordValueError(`record value nested deeper than ${RECORD_VALUE_MAX_DEPTH} levels`);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidRecordValueError('numbers must be finite');
    return;
  }
  if (typeof value === 'string') {
    if (!wellFormed(value)) throw new InvalidRecordValueError('string is not well-formed Unicode');
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) checkJson(item, depth + 1);
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidRecordValueError('objects must be plain objects');
    }
    // Own enumerable keys, as Object.entries gives them, without an array per object and per
    // property (every stored record is checked when a state loads: short-lived garbage).
    const obj = value as Record<string, unknown>;
    for (const k in obj) {
      if (!Object.hasOwn(obj, k)) continue;
      if (k === '__proto__' || !wellFormed(k)) throw new InvalidRecordValueError(`invalid object key`);
      checkJson(obj[k], depth + 1);
    }
    return;
  }
  throw new InvalidRecordValueError(`${typeof value} is not a JSON value`);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** `a` is a key (64 lowercase hex) whose clientID is `client`. */
function isAuthorOf(a: string, client: number): boolean {
  // A key seen before (clientIdOf's cache) was checked then: no pattern test for each record.
  const known = cachedClientId(a);
  if (known !== undefined) return known === client;
  return AUTHOR_HEX.test(a) && clientIdOf(a) === client;
}

/** The object written into the Y.Map for a put (value) or a delete (undefined). */
export function encodeStored(value: JsonValue | undefined, author: string, time: number, lamport: number) {
  return value === undefined
    ? { del: true, a: author, t: time, l: lamport }
    : { v: value, a: author, t: time, l: lamport };
}

/**
 * Reads a stored record written by `client`. Anything else in the map (a raw write by a buggy
 * or hostile app, a claimed author that is not the writer) reads as null, on every node alike.
 */
export function decodeStored(raw: unknown, client: number): StoredRecord | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const { a, t, l } = r;
  if (typeof a !== 'string' || !isAuthorOf(a, client)) return null;
  if (typeof t !== 'number' || !Number.isFinite(t) || typeof l !== 'number' || !Number.isFinite(l)) return null;
  if (r.del === true) return { deleted: true, author: a, time: t, lamport: l };
  if (!('v' in r)) return null;
  try {
    checkJson(r.v, 0);
  } catch {
    return null;
  }
  return { value: r.v as JsonValue, deleted: false, author: a, time: t, lamport: l };
}
