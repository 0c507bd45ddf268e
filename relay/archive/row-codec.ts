// Encodes the store's structured values (entries, forks, compaction, meta) as SQLite BLOBs with
// Node's structured-clone serializer (node:v8), the same value model as IndexedDB. Decoding is
// size-capped and returns byte arrays that own their buffers (v8 hands out views of the row).
import { deserialize, serialize } from 'node:v8';
import { CorruptStoreError } from '../../src/lib/core/errors.js';

/** Largest BLOB decoded from a row, bytes: a bigger one is corruption, not data. */
export const MAX_ROW_BYTES = 64 * 1024 * 1024;
/** Nesting depth at most walked when copying a decoded value. */
const MAX_DEPTH = 32;

/** The BLOB of `value` (structured-cloneable: plain objects, arrays, strings, numbers, Uint8Array...). */
export function encodeRow(value: unknown): Buffer {
  return serialize(value);
}

/** The value of a BLOB written by encodeRow. Throws CorruptStoreError when oversized or unreadable. */
export function decodeRow<T>(blob: Uint8Array, what: string): T {
  if (blob.byteLength > MAX_ROW_BYTES) {
    throw new CorruptStoreError(`${what}: row of ${blob.byteLength} bytes exceeds ${MAX_ROW_BYTES}`);
  }
  let value: unknown;
  try {
    value = deserialize(blob);
  } catch (e) {
    throw new CorruptStoreError(`${what}: unreadable row`, { cause: e });
  }
  return owned(value, 0) as T;
}

/** Copies every Uint8Array view into its own buffer; other values as they are. */
function owned(v: unknown, depth: number): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (v === null || typeof v !== 'object') return v;
  if (depth > MAX_DEPTH) throw new CorruptStoreError('row value nested too deeply');
  if (Array.isArray(v)) return v.map((x) => owned(x, depth + 1));
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = owned(x, depth + 1);
  return out;
}
