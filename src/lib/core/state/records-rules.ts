// A rule of the bundled records app, checked before a payload is applied: a record item may only
// be deleted by a payload that also writes the same key (Y.Map set, whose new item names the
// deleted one as its origin), i.e. by a new value or a tombstone. A bare delete-set entry would
// remove another author's record with no trace; this way every removal is a signed write that
// names who, when and what (see Removal in types.ts).
//
// The verdict depends only on the payload and the items it references, which the causal rules
// place within the entry's dependencies: whether an item is a record item is fixed when the item
// is created, and whether it is already deleted is NOT consulted (that would depend on what
// else a node has applied). Items created earlier in the same batch (not applied yet) are
// judged from their parsed structs.
import * as Y from 'yjs';
import { MalformedPayloadError } from '../errors.js';
import { RECORDS_TYPE_NAME } from '../constants.js';
import type { ParsedStruct, ParsedUpdate, YId } from '../yjs-update.js';
import { layered, lookupOf, StructIndex, type StructLookup } from './struct-index.js';

/**
 * Clock units a payload's delete ranges may cover at most (their lengths summed), so the walk
 * below takes at most one step per unit. A bound on the payload alone: one on the items walked
 * depended on how Yjs had split or merged them, so the same entry was refused in a batch and
 * accepted one by one (red team s23, `test/unit/redteam-s23-delete-walk-merge.test.ts`).
 */
export const MAX_DELETED_UNITS = 65_536;

/** Whether the struct (not yet applied) is a keyed item of the records map: follows origins to the parent. */
function batchStructIsRecord(doc: Y.Doc, earlier: StructLookup, s: ParsedStruct): boolean {
  let cur: ParsedStruct | undefined = s;
  for (let hops = 0; cur !== undefined && hops <= earlier.size; hops++) {
    if (typeof cur.parent === 'string') return cur.parent === RECORDS_TYPE_NAME && cur.parentSub !== null;
    if (cur.parent !== null) return false; // a nested type's child
    const next: YId | null = cur.origin ?? cur.rightOrigin;
    if (next === null) return false;
    const inDoc = next.clock < Y.getState(doc.store, next.client);
    if (inDoc) return docItemIsRecord(doc, Y.getItem(doc.store, Y.createID(next.client, next.clock)));
    cur = earlier.find(next);
  }
  return false;
}

const idKey = (id: YId): string => `${id.client}:${id.clock}`;

function docItemIsRecord(doc: Y.Doc, item: Y.Item | Y.GC): boolean {
  const records = doc.share.get(RECORDS_TYPE_NAME);
  return item instanceof Y.Item && records !== undefined && item.parent === records && item.parentSub !== null;
}

/**
 * Throws MalformedPayloadError if `parsed` deletes a record item without writing its key in the
 * same payload. `earlier`: structs of entries admitted before this one in the same batch.
 */
export function checkRecordDeletes(
  doc: Y.Doc,
  parsed: ParsedUpdate,
  batch: StructLookup | readonly ParsedStruct[] = []
): void {
  if (parsed.deletes.length === 0) return;
  let units = 0;
  for (const d of parsed.deletes) units += d.len;
  if (units > MAX_DELETED_UNITS) throw new MalformedPayloadError(`delete ranges cover ${units} units`);
  const earlier = lookupOf(batch);
  const origins = new Set(parsed.structs.flatMap((s) => (s.origin === null ? [] : [idKey(s.origin)])));
  // Every deleted unit of a record item must be named as its origin by a new item of the payload
  // (Y.Map.set names the key's current item, the one it deletes). Per unit, not per item: Yjs
  // merges a client's deleted consecutive items of one key into one item once applied, while a
  // batch judges them one by one (red team s23, `redteam-s23-record-delete-merged.test.ts`).
  const requireOverwrite = (client: number, from: number, to: number, key: string): void => {
    for (let c = from; c < to; c++)
      if (!origins.has(idKey({ client, clock: c })))
        throw new MalformedPayloadError(`deletes record "${key}" without writing its key`);
  };
  for (const d of parsed.deletes) {
    for (let clock = d.clock; clock < d.clock + d.len;) {
      if (clock < Y.getState(doc.store, d.client)) {
        const item = Y.getItem(doc.store, Y.createID(d.client, clock));
        if (docItemIsRecord(doc, item)) {
          const it = item as Y.Item;
          const from = Math.max(clock, it.id.clock);
          const to = Math.min(d.clock + d.len, it.id.clock + it.length);
          requireOverwrite(d.client, from, to, String(it.parentSub));
        }
        clock = item.id.clock + item.length;
        continue;
      }
      const s = earlier.find({ client: d.client, clock });
      if (s === undefined) break; // beyond what exists: the causal rules refused such ranges already
      if (batchStructIsRecord(doc, earlier, s))
        requireOverwrite(
          s.client,
          Math.max(clock, s.clock),
          Math.min(d.clock + d.len, s.clock + s.length),
          s.parentSub ?? ''
        );
      clock = s.clock + s.length;
    }
  }
}

/**
 * Every write to a record is one value: a record item spans one clock unit. (Yjs would accept a
 * multi-unit item, and each unit would cost conflict tracking work on every later change.)
 */
export function checkRecordWrites(
  doc: Y.Doc,
  parsed: ParsedUpdate,
  earlier: StructLookup | readonly ParsedStruct[] = []
): void {
  const all = layered(lookupOf(earlier), new StructIndex(parsed.structs));
  for (const s of parsed.structs) {
    if (s.length !== 1 && batchStructIsRecord(doc, all, s))
      throw new MalformedPayloadError(`a record write of ${s.length} values (one expected)`);
  }
}
