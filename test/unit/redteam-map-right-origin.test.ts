// Red team (review 2026-12-02; fixed: LedgerState.checkPlacement refuses a map item with a right
// origin). Y.Map.set, and the UndoManager's redo of a map entry, write an item whose origin is the
// key's last item and whose right origin is null. A signed entry holding an item of the same key
// with a right origin at or before its origin passed every check (both origins lie in the same
// place), and Yjs placed it by what each node already held: the node that applied it showed
// {"k": "X"}, a node that loaded that node's canonical state (a join, or the node itself after a
// restart from its compaction) showed {}, with equal state digests.
import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { LedgerState } from '../../src/lib/core/state/doc.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { parsePayload } from '../../src/lib/core/payload.js';

const A1 = '11'.repeat(32);
const A2 = '22'.repeat(32);

/** One ContentAny item at (client, 0) with the given origin and right origin (no explicit parent). */
function crafted(client: number, origin: Y.ID | null, right: Y.ID | null, value: string): Uint8Array {
  const enc = new Y.UpdateEncoderV1();
  encoding.writeVarUint(enc.restEncoder, 1);
  encoding.writeVarUint(enc.restEncoder, 1);
  enc.writeClient(client);
  encoding.writeVarUint(enc.restEncoder, 0);
  new Y.Item(Y.createID(client, 0), null, origin, null, right, null, null, new Y.ContentAny([value])).write(enc, 0);
  encoding.writeVarUint(enc.restEncoder, 0);
  return enc.toUint8Array();
}

/** A state holding author A1's three writes of key k (items c1:0..2), and those updates. */
function honestState(): { state: LedgerState; updates: Uint8Array[] } {
  const w = new Y.Doc({ gc: false });
  w.clientID = clientIdOf(A1);
  const updates: Uint8Array[] = [];
  w.on('update', (u: Uint8Array) => updates.push(u));
  for (const v of ['v1', 'v2', 'v3']) w.getMap('records').set('k', v);
  const state = new LedgerState({ author: 'aa'.repeat(32) });
  state.registerType('records', 'map');
  updates.forEach((u, i) => {
    state.checkIntegrable(parsePayload(u, 1 << 20));
    state.applyRemote(u, { author: A1, seq: i + 1, lamport: i + 1, time: 0 });
  });
  return { state, updates };
}

describe('map items with a right origin', () => {
  it('are refused, whatever their origin', () => {
    const c1 = clientIdOf(A1);
    const c2 = clientIdOf(A2);
    const { state } = honestState();
    for (const [o, r] of [
      [2, 0],
      [2, 1],
      [2, 2],
      [1, 0],
      [0, 0],
      [1, 2],
      [null, 1]
    ] as const) {
      const u = crafted(c2, o === null ? null : Y.createID(c1, o), Y.createID(c1, r), 'X');
      expect(() => state.checkIntegrable(parsePayload(u, 1 << 20)), `origin ${o} right ${r}`).toThrow(
        /a map item with a right origin/
      );
    }
  });

  it('honest map writes still pass: sets, overwrites, deletes, nested maps, and an undo/redo', () => {
    const w = new Y.Doc({ gc: false });
    w.clientID = clientIdOf(A2);
    const updates: Uint8Array[] = [];
    w.on('update', (u: Uint8Array) => updates.push(u));
    const m = w.getMap<unknown>('records');
    const undo = new Y.UndoManager(m, { captureTimeout: 0 });
    m.set('a', 1);
    m.set('a', 2);
    m.set('b', new Y.Map());
    (m.get('b') as Y.Map<unknown>).set('x', 'y');
    m.delete('a');
    undo.undo();
    undo.redo();
    const { state } = honestState();
    updates.forEach((u, i) => {
      state.checkIntegrable(parsePayload(u, 1 << 20));
      state.applyRemote(u, { author: A2, seq: i + 1, lamport: 10 + i, time: 0 });
    });
  });
});
