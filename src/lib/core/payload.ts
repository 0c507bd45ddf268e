// Payload validation: an entry's payload must be a Yjs update (v1 update format).
import * as Y from 'yjs';
import { MalformedPayloadError } from './errors.js';

/** Throws MalformedPayloadError unless the payload is acceptable. Must not mutate any state. */
export type PayloadValidator = (payload: Uint8Array) => void;

/**
 * Structural check: the update must decode (structs and delete set) without applying it to any
 * document. It does not prove the update integrates cleanly with a given document state; the
 * state layer owns that.
 */
export const validateYjsUpdate: PayloadValidator = (payload) => {
  if (payload.length === 0) throw new MalformedPayloadError('empty payload');
  try {
    Y.decodeUpdate(payload);
  } catch (e) {
    throw new MalformedPayloadError(`payload is not a Yjs update: ${(e as Error)?.message ?? String(e)}`);
  }
};
