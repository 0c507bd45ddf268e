// A rule of the bundled records app, checked before a payload is applied: a record's current
// value may only be removed by writing a new value or a tombstone for its key (Y.Map set, whose
// new item names the removed one as its origin). A bare delete-set entry would remove another
// author's record with no trace; this way every removal is a signed write that names who, when
// and what (see Removal in types.ts).
import * as Y from 'yjs';
import { MalformedPayloadError } from '../errors.js';
import { RECORDS_TYPE_NAME } from '../constants.js';
import type { ParsedUpdate } from '../yjs-update.js';

/** Items walked per payload at most: a delete range over more items is refused. */
const MAX_ITEMS_CHECKED = 4096;

/** Throws MalformedPayloadError if `parsed` deletes a live record item without overwriting its key. */
export function checkRecordDeletes(doc: Y.Doc, parsed: ParsedUpdate): void {
  if (parsed.deletes.length === 0 || !doc.share.has(RECORDS_TYPE_NAME)) return;
  const records = doc.getMap(RECORDS_TYPE_NAME);
  const origins = new Set(parsed.structs.map((s) => (s.origin === null ? '' : `${s.origin.client}:${s.origin.clock}`)));
  let walked = 0;
  for (const d of parsed.deletes) {
    const known = Y.getState(doc.store, d.client);
    for (let clock = d.clock; clock < Math.min(d.clock + d.len, known);) {
      if (++walked > MAX_ITEMS_CHECKED) throw new MalformedPayloadError('delete ranges cover too many items');
      const item = Y.getItem(doc.store, Y.createID(d.client, clock));
      if (item instanceof Y.Item && !item.deleted && item.parent === records && item.parentSub !== null) {
        const last = `${item.id.client}:${item.id.clock + item.length - 1}`;
        if (!origins.has(last))
          throw new MalformedPayloadError(`deletes record "${item.parentSub}" without writing its key`);
      }
      clock = item.id.clock + item.length;
    }
  }
}
