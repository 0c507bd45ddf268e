// The Yjs documents the state is built in.
import * as Y from 'yjs';

/**
 * A document without garbage collection (deleted content is kept, so every node encodes the same
 * structs) that keeps exactly what the updates applied to it say.
 *
 * After a transaction that is not local (Y.applyUpdate's always is not), Yjs cleans up the
 * formatting of every Y.Text it touched: it deletes the format items it finds redundant, in a
 * transaction of its own (YText._callObserver sets Transaction._needFormattingCleanup, then
 * cleanupYTextAfterTransaction runs; yjs 13.6). Those deletions are signed by no entry and
 * depend on how updates were batched: two nodes given the same entries one by one and in one
 * batch held different states, and a ledger captured the deletions as a write of its own.
 * The flag is cleared on 'afterTransaction', which Yjs emits after the observers set it and
 * before it reads it.
 */
export function newStateDoc(): Y.Doc {
  return withoutFormattingCleanup(new Y.Doc({ gc: false }));
}

/** `doc`, its formatting cleanup turned off (see newStateDoc); idempotent. */
export function withoutFormattingCleanup(doc: Y.Doc): Y.Doc {
  doc.on('afterTransaction', skipFormattingCleanup);
  return doc;
}

function skipFormattingCleanup(tr: Y.Transaction): void {
  tr._needFormattingCleanup = false;
}
