// Payload validation: an entry's payload must be a Yjs update (v1 update format).
import * as Y from 'yjs';
import { ForeignClientError, MalformedPayloadError } from './errors.js';

/** Throws MalformedPayloadError unless the payload is acceptable. Must not mutate any state. */
export type PayloadValidator = (payload: Uint8Array) => void;

/**
 * Structural check: the update must decode (structs and delete set) without applying it to any
 * document. It does not prove the update integrates cleanly with a given document state; the
 * state layer owns that.
 */
export const validateYjsUpdate: PayloadValidator = (payload) => {
  if (payload.length === 0) throw new MalformedPayloadError('empty payload');
  decodeYjsUpdate(payload);
};

export type YjsStructs = ReturnType<typeof Y.decodeUpdate>['structs'];

/** Decodes an update's structs without applying it anywhere; MalformedPayloadError if it does not decode. */
export function decodeYjsUpdate(payload: Uint8Array): YjsStructs {
  try {
    return Y.decodeUpdate(payload).structs;
  } catch (e) {
    throw new MalformedPayloadError(`payload is not a Yjs update: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** Every struct must carry the author's clientID: one author can never write as another. */
export function assertStructsOf(structs: YjsStructs, client: number): void {
  for (const s of structs) {
    if (s.id.client !== client) {
      throw new ForeignClientError(`struct of client ${s.id.client} in a payload of client ${client}`);
    }
  }
}
