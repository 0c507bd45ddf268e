// What a local transaction did to strings that its payload would not show to receivers.
import * as Y from 'yjs';

/** What Yjs puts in place of each half of a surrogate pair it splits (ContentString.splice). */
export const REPLACEMENT = '\uFFFD';
/** A UTF-16 surrogate without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `tr` (a local transaction, seen on 'afterTransaction') left this document with strings no
 * receiver of its payload would hold, or null. Two ways (red team s23):
 * - it split a string inside a surrogate pair: Yjs replaces both halves with U+FFFD
 *   (ContentString.splice) and may merge the halves back at the end of the transaction, so a
 *   format changing nothing or two unit deletes whose ranges Yjs joins alter this document only.
 *   The split items are still listed in Transaction._mergeStructs here (yjs 13.6 merges them after
 *   'afterTransaction'); a right half starting, and its left neighbour ending, with U+FFFD count
 *   (two real U+FFFD split apart count too: stricter, never looser);
 * - it inserted a lone surrogate: the payload carries U+FFFD (lib0 writes strings as UTF-8), the
 *   document the lone half.
 */
export function localStringDefect(tr: Y.Transaction, client: number): string | null {
  const store = tr.doc.store;
  for (const s of tr._mergeStructs) {
    if (!(s instanceof Y.Item) || !(s.content instanceof Y.ContentString) || s.id.clock === 0) continue;
    if (!s.content.str.startsWith(REPLACEMENT)) continue;
    const left = Y.getItem(store, Y.createID(s.id.client, s.id.clock - 1));
    if (left instanceof Y.Item && left.content instanceof Y.ContentString && left.content.str.endsWith(REPLACEMENT))
      return 'the change splits a surrogate pair (half a character)';
  }
  const from = tr.beforeState.get(client) ?? 0;
  const structs = store.clients.get(client);
  if (structs === undefined || (tr.afterState.get(client) ?? 0) <= from) return null;
  for (let i = Y.findIndexSS(structs, from); i < structs.length; i++) {
    const s = structs[i];
    if (s instanceof Y.Item && s.content instanceof Y.ContentString && LONE_SURROGATE.test(s.content.str))
      return 'the change writes a lone surrogate (half a character)';
  }
  return null;
}
