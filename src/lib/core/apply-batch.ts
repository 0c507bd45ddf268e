// Applying a batch of stored entries' payloads to the state in as few Yjs transactions as
// possible: one per ingest batch instead of one per entry (each transaction runs the observers,
// the conflict refresh of the keys it changed and the update event). Each payload is still
// checked on its own before it touches the document (LedgerState.applyRemote). After a payload
// is refused the transaction ends and the rest start a new one, so a refusal is contained as it
// was when every entry had its own transaction.
import { toHex } from './bytes.js';
import { LedgerError } from './errors.js';
import type { LedgerState } from './state/doc.js';
import type { HashedEntry } from './types.js';

export interface ApplyOutcome {
  /** Highest lamport among the entries. */
  lamport: number;
  /** Entries whose payload the state refused, with the error (a LedgerError). */
  refused: { h: HashedEntry; error: LedgerError }[];
}

/** Applies `list` in order; refusals (LedgerErrors) are returned, anything else is thrown. */
export function applyStored(state: LedgerState, list: readonly HashedEntry[]): ApplyOutcome {
  const out: ApplyOutcome = { lamport: 0, refused: [] };
  let i = 0;
  while (i < list.length) {
    state.transactRemote(() => {
      while (i < list.length) {
        const h = list[i++];
        const { seq, lamport, time, payload } = h.entry;
        out.lamport = Math.max(out.lamport, lamport);
        try {
          state.applyRemote(payload, { author: toHex(h.entry.author), seq, lamport, time });
        } catch (e) {
          if (!(e instanceof LedgerError)) throw e;
          out.refused.push({ h, error: e });
          return; // end this transaction; the rest start a new one
        }
      }
    });
  }
  return out;
}
