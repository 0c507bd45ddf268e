// Red team (s23): a delete that cuts a UTF-16 surrogate pair changes the stored text, or not,
// depending on the delivery order.
//
// Yjs 13.6 ContentString.splice (what splitItem calls) refuses to leave half a surrogate pair on
// either side of a split: it REPLACES both halves with U+FFFD, in place and for good (yjs#248).
// readAndApplyDeleteSet splits an item at a delete range's ends only when the item is not deleted
// yet (`if (!struct.deleted && struct.id.clock < clock)` and `if (!struct.deleted) { if (clockEnd
// < ...) splitItem }`). So with gc off (deleted content is kept and encoded):
//   A writes "x😀y"; B (seeing A) deletes the high surrogate only (Y.Text.delete(1, 1), honest
//   Yjs code does that when an editor's index falls inside an emoji); C (seeing A, not B) deletes
//   the whole text.
//   - B before C: B's range splits the undeleted item inside the pair: the content becomes
//     "x" "\uFFFD" "\uFFFDy"; C then deletes the rest.
//   - C before B: the item is deleted whole first; B's range finds it deleted and splits nothing:
//     the content stays "x😀y".
// Same entries, same deletions, different struct contents: canonical state (digest.ts encodes the
// deleted content too) and digest differ. The same happens on restart (Ledger.open replays feed by
// feed in author order, not in the order the node applied them; deletes that wait in Yjs'
// pendingDs are even merged into one range, which splits nothing) and a node that joins from a
// light snapshot holds whatever the exporter's order produced.
// Fixed: a payload whose delete range, origin or right origin cuts a surrogate pair is refused
// (LedgerState.checkPairCuts, PROTOCOL.md §5.3 rule 8), judged from the intact pair on every node;
// a local write is checked after Yjs has replaced the halves, by the U+FFFD on both sides of the cut.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Ledger } from '../../src/lib/core/ledger.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { Authors, type Feed } from '../helpers/yjs-authors.js';
import { genesis, memoryLocation, openLedger, testClock } from '../helpers/ledger-nodes.js';
import { observe } from '../fuzz/kit.js';

const text = (f: Feed): Y.Text => f.doc.getMap('records').get('k') as Y.Text;

/** A writes "x😀y"; B deletes only the emoji's high surrogate; C (concurrently) deletes everything. */
async function scenario(networkId: Uint8Array): Promise<{ a1: HashedEntry; b1: HashedEntry; c1: HashedEntry }> {
  const w = await Authors.create(networkId, [41, 42, 43]);
  const [a, b, c] = w.feeds;
  const a1 = await w.write(a, () => a.doc.getMap('records').set('k', new Y.Text('x\u{1F600}y')));
  w.sync(a, b);
  w.sync(a, c);
  const b1 = await w.write(b, () => text(b).delete(1, 1));
  const c1 = await w.write(c, () => text(c).delete(0, 4));
  return { a1: a1!, b1: b1!, c1: c1! };
}

/** A ledger given `entries` one at a time; returns it with each entry's rejection codes. */
async function ingestOneByOne(entries: HashedEntry[], keyByte: number) {
  const loc = memoryLocation();
  const n = await openLedger(loc, keyByte);
  const codes: string[][] = [];
  for (const e of entries) codes.push((await n.ledger.ingest([e])).rejected.map((r) => r.code));
  return { ...n, loc, codes };
}

describe('red team s23: a delete cutting a surrogate pair', () => {
  it('is refused in either order, so both orders give one state digest', async () => {
    const networkId = (await openLedger(memoryLocation(), 9)).ledger.networkId;
    const { a1, b1, c1 } = await scenario(networkId);
    const first = await ingestOneByOne([a1, b1, c1], 1);
    const second = await ingestOneByOne([a1, c1, b1], 2);
    // Was: both stored B's entry; B-then-C kept "x" "\uFFFD" "\uFFFDy", C-then-B "x😀y".
    expect(first.codes).toEqual([[], ['malformed-payload'], []]);
    expect(second.codes).toEqual([[], [], ['malformed-payload']]);
    const one = await observe(first.ledger, first.store);
    expect(await observe(second.ledger, second.store)).toEqual(one);
    await first.ledger.close();
    const again = await Ledger.open({ genesis, keys: first.keys, store: await first.loc.open(), now: testClock() });
    expect(await observe(again, again.store)).toEqual(one);
    await again.close();
    await second.ledger.close();
  });

  it('an insert inside a pair is refused; a delete of the whole emoji is taken', async () => {
    const networkId = (await openLedger(memoryLocation(), 9)).ledger.networkId;
    const w = await Authors.create(networkId, [44, 45]);
    const [a, b] = w.feeds;
    const a1 = (await w.write(a, () => a.doc.getMap('records').set('k', new Y.Text('x\u{1F600}y'))))!;
    w.sync(a, b);
    const inside = (await w.write(b, () => text(b).insert(2, '!')))!; // origin: the high half
    const n = await openLedger(memoryLocation(), 5);
    expect((await n.ledger.ingest([a1, inside])).rejected).toMatchObject([{ code: 'malformed-payload' }]);
    const w2 = await Authors.create(networkId, [46]);
    const [c] = w2.feeds;
    Y.applyUpdate(c.doc, Y.encodeStateAsUpdate(a.doc, new Uint8Array([0])));
    c.seen.set(a, { seq: 1, lamport: a1.entry.lamport });
    const whole = (await w2.write(c, () => text(c).delete(1, 2)))!;
    expect((await n.ledger.ingest([whole])).rejected).toEqual([]);
    await n.ledger.close();
  });

  it("a node's own write that cuts a pair is refused before it is signed", async () => {
    const n = await openLedger(memoryLocation(), 6);
    const t = n.ledger.registerType('notes', 'text');
    await n.ledger.transact(() => t.insert(0, 'x\u{1F600}y'));
    await expect(n.ledger.transact(() => t.delete(1, 1))).rejects.toThrow(/surrogate pair/);
    expect(await n.store.count()).toBe(1);
    await n.ledger.close();
  });
});
