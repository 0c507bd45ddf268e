// A hand-encoded Yjs v1 update holding one list item (no parentSub: no key) in the root map
// `records`: Yjs integrates it, but it is no record (its key reads as null). Shared by the red-team
// tests of that shape (test/unit/redteam-map-list-item.test.ts and the ones that reuse it).
import * as encoding from 'lib0/encoding';

/** One struct by `client` at `clock`: a ContentString "ab" parented by root name, no origins, no parentSub. */
export function listItemInRecords(client: number, clock = 0): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, 1); // one client's structs
  encoding.writeVarUint(enc, 1); // one struct
  encoding.writeVarUint(enc, client);
  encoding.writeVarUint(enc, clock);
  encoding.writeUint8(enc, 4); // ContentString, no origins, no parentSub
  encoding.writeVarUint(enc, 1); // parent by root name
  encoding.writeVarString(enc, 'records');
  encoding.writeVarString(enc, 'ab');
  encoding.writeVarUint(enc, 0); // empty delete set
  return encoding.toUint8Array(enc);
}
