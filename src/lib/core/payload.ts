// Payload validation: an entry's payload must be a bounded Yjs v1 update whose structs all
// belong to the entry's author (PROTOCOL.md §5.2 step 5). The update is parsed by our own strict
// parser (yjs-update.ts) before Yjs ever sees it, so every verdict is the same on every engine.
import { ForeignClientError, MalformedPayloadError } from './errors.js';
import { parseYjsUpdate, type ParsedUpdate } from './yjs-update.js';
import { clientIdOf } from './state/client-id.js';
import { toHex } from './bytes.js';
import { RECORD_VALUE_MAX_DEPTH } from './constants.js';

/**
 * Throws MalformedPayloadError (or ForeignClientError) unless the payload is acceptable for an
 * entry of `author` (32-byte key). Must not mutate any state.
 */
export type PayloadValidator = (payload: Uint8Array, author: Uint8Array) => void;

const parsedCache = new WeakMap<Uint8Array, ParsedUpdate>();
/** A record value may nest RECORD_VALUE_MAX_DEPTH deep inside its stored wrapper (two more levels). */
const LIMITS = { maxDepth: RECORD_VALUE_MAX_DEPTH + 2 };

/**
 * The parsed payload (cached per payload array, which entries own and never mutate). Throws
 * MalformedPayloadError when it is not a well-formed, bounded update of at most `maxBytes`.
 */
export function parsePayload(payload: Uint8Array, maxBytes?: number): ParsedUpdate {
  const hit = parsedCache.get(payload);
  if (hit !== undefined) return hit;
  if (!(payload instanceof Uint8Array)) throw new MalformedPayloadError('payload must be bytes');
  const parsed = parseYjsUpdate(payload, maxBytes === undefined ? LIMITS : { ...LIMITS, maxBytes });
  parsedCache.set(payload, parsed);
  return parsed;
}

/** Every struct must carry the author's clientID: one author can never write as another. */
export function assertStructsOf(parsed: ParsedUpdate, client: number): void {
  for (const s of parsed.structs) {
    if (s.client !== client) {
      throw new ForeignClientError(`struct of client ${s.client} in a payload of client ${client}`);
    }
  }
}

/** The default validator: a bounded Yjs update, every struct under the author's clientID. */
export const validateYjsUpdate: PayloadValidator = (payload, author) => {
  assertStructsOf(parsePayload(payload), clientIdOf(toHex(author)));
};
