// What an entry did to the records map, for a person reading a feed's history: the keys it wrote
// and the values (or deletions) it wrote there. An overwrite's payload does not carry its key
// (Yjs leaves parentSub out when an item has an origin), so the items are looked up in the
// node's document, which keeps every item ever applied (gc off): an entry a light replica pruned
// was applied before it was pruned. Pure (Yjs only).
import * as Y from 'yjs';
import { parsePayload } from '../payload.js';
import { RECORDS_TYPE_NAME } from '../constants.js';
import { toHex } from '../bytes.js';
import { decodeStored, type JsonValue } from '../state/record-value.js';
import type { HashedEntry } from '../types.js';

/** One record write of an entry. `value` is absent for a deletion. */
export interface HistoryWrite {
  key: string;
  deleted: boolean;
  value?: JsonValue;
}

/** One entry of a feed's history, as shown to a reader. */
export interface HistoryItem {
  /** Author key, 64 lowercase hex. */
  author: string;
  seq: number;
  /** SHA-256 of the entry, 64 lowercase hex. */
  hash: string;
  /** Author's wall clock at signing, ms since the Unix epoch. */
  time: number;
  lamport: number;
  /** Encoded size of the payload, bytes. */
  payloadBytes: number;
  /** Record writes found (empty for an entry that only touched nested types, or not applied here). */
  writes: HistoryWrite[];
  /** Deleted Yjs units (overwritten values count here too). */
  deletes: number;
  /** Held in this node's store (false: fetched back from a peer and verified). */
  held: boolean;
}

/** Most record writes listed per entry (a bulk transaction lists its first ones). */
export const HISTORY_MAX_WRITES = 64;

/** Describes `h` using `doc`, the node's document (in which `h` has been applied). */
export function describeEntry(doc: Y.Doc, h: HashedEntry, held: boolean): HistoryItem {
  const e = h.entry;
  const parsed = parsePayload(e.payload);
  const writes: HistoryWrite[] = [];
  const records = doc.share.get(RECORDS_TYPE_NAME);
  for (const s of parsed.structs) {
    if (writes.length >= HISTORY_MAX_WRITES) break;
    const item = itemAt(doc, s.client, s.clock);
    if (item === undefined || records === undefined || item.parent !== records || item.parentSub === null) continue;
    const stored = decodeStored(item.content.getContent()[s.clock - item.id.clock], s.client);
    if (stored === null) continue;
    writes.push({ key: item.parentSub, deleted: stored.deleted, ...(stored.deleted ? {} : { value: stored.value }) });
  }
  return {
    author: toHex(e.author),
    seq: e.seq,
    hash: toHex(h.hash),
    time: e.time,
    lamport: e.lamport,
    payloadBytes: e.payload.length,
    writes,
    deletes: parsed.deletes.reduce((n, d) => n + d.len, 0),
    held
  };
}

function itemAt(doc: Y.Doc, client: number, clock: number): Y.Item | undefined {
  if (clock >= Y.getState(doc.store, client)) return undefined;
  const s = Y.getItem(doc.store, Y.createID(client, clock));
  return s instanceof Y.Item ? s : undefined;
}
