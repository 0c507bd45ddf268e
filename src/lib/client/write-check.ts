// The page's check of a write before it crosses to the node's worker (client.ts put/delete).
import { validateKey, validateValue, type JsonValue } from '../core/state/record-value.js';

/**
 * The value a put sends: the structured clone postMessage would make (a class instance becomes a
 * plain object, as the worker received it before this check), checked as the node checks it, as
 * the plain, frozen copy validateValue returns. A value the clone refuses (a Proxy, e.g. a Svelte
 * `$state` object; a function; nesting too deep for the clone) is checked as it is, so it gets
 * the typed error or its plain copy is sent. Throws the node's typed errors:
 * InvalidRecordKeyError, InvalidRecordValueError (a value nested thousands deep made postMessage
 * itself throw a RangeError).
 */
export function checkedPut(key: unknown, value: unknown): { key: string; value: JsonValue } {
  validateKey(key);
  let cloned: unknown;
  try {
    cloned = structuredClone(value);
  } catch {
    cloned = value; // not cloneable (a Proxy, a function, nested too deep for the clone): checked as it is
  }
  return { key: key as string, value: validateValue(cloned) };
}
