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
// Suggested fix: never let a delete range (or an origin) cut a surrogate pair on an undeleted
// item, e.g. refuse in the payload rules any delete range / origin / right origin whose boundary
// falls between a high and a low surrogate of a ContentString (the unit after a boundary is a low
// surrogate DC00-DFFF): a pure function of the referenced item's content, same on every node.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { newStateDoc } from '../../src/lib/core/state/yjs-doc.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, openLedger, testClock } from '../helpers/ledger-nodes.js';
import { observe } from '../fuzz/kit.js';

interface Feed {
  keys: IdentityKeys;
  doc: Y.Doc;
  seq: number;
  prev: Uint8Array;
  lamport: number;
  seen: Map<Feed, { seq: number; lamport: number }>;
}

/** Authors editing their own documents, each change signed as the next entry of their feed. */
class Authors {
  readonly entries: HashedEntry[] = [];
  constructor(
    private readonly networkId: Uint8Array,
    readonly feeds: Feed[]
  ) {}

  static async create(networkId: Uint8Array, keyBytes: number[]): Promise<Authors> {
    const feeds: Feed[] = [];
    for (const byte of keyBytes) {
      const keys = await keysFromByte(byte);
      const doc = newStateDoc();
      doc.clientID = clientIdOf(toHex(keys.publicKey));
      feeds.push({ keys, doc, seq: 0, prev: new Uint8Array(32), lamport: 0, seen: new Map() });
    }
    return new Authors(networkId, feeds);
  }

  async write(f: Feed, change: () => void): Promise<HashedEntry> {
    const updates: Uint8Array[] = [];
    const keep = (u: Uint8Array) => updates.push(u);
    f.doc.on('update', keep);
    f.doc.transact(change);
    f.doc.off('update', keep);
    const deps = [...f.seen].map(([g, s]) => ({ author: toHex(g.keys.publicKey), ...s }));
    const lamport = 1 + Math.max(f.lamport, ...deps.map((d) => d.lamport));
    const h = await createEntry(
      {
        keys: f.keys,
        seq: f.seq + 1,
        prev: f.prev,
        lamport,
        time: 1_700_000_000_000 + this.entries.length,
        clock: Y.getState(f.doc.store, f.doc.clientID),
        payload: updates[0],
        deps: deps.map(({ author, seq }) => ({ author, seq }))
      },
      this.networkId
    );
    Object.assign(f, { seq: f.seq + 1, prev: h.hash, lamport });
    this.entries.push(h);
    return h;
  }

  sync(from: Feed, to: Feed): void {
    Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc)));
    const heard = new Map(from.seen).set(from, { seq: from.seq, lamport: from.lamport });
    for (const [g, s] of heard) if (g !== to && (to.seen.get(g)?.seq ?? 0) < s.seq) to.seen.set(g, s);
  }
}

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
  return { a1, b1, c1 };
}

async function ingestOneByOne(entries: HashedEntry[], keyByte: number) {
  const loc = memoryLocation();
  const n = await openLedger(loc, keyByte);
  for (const e of entries) expect((await n.ledger.ingest([e])).rejected).toEqual([]);
  return { ...n, loc };
}

describe('red team s23: a delete cutting a surrogate pair', () => {
  it('two orders of the same concurrent deletes give one state digest', async () => {
    const networkId = (await openLedger(memoryLocation(), 9)).ledger.networkId;
    const { a1, b1, c1 } = await scenario(networkId);
    const first = await ingestOneByOne([a1, b1, c1], 1);
    const second = await ingestOneByOne([a1, c1, b1], 2);
    const one = await observe(first.ledger, first.store);
    const two = await observe(second.ledger, second.store);
    expect(two.heads).toBe(one.heads); // the very same entries
    // Fails: B-then-C stored "x" "\uFFFD" "\uFFFDy", C-then-B kept "x😀y" (both deleted).
    expect(two.digest).toBe(one.digest);
    for (const n of [first, second]) await n.ledger.close();
  });

  it('a node reopened (replay in author order) reports the digest it had live', async () => {
    const networkId = (await openLedger(memoryLocation(), 9)).ledger.networkId;
    const { a1, b1, c1 } = await scenario(networkId);
    // Whatever the authors' key order, one of the two live orders is not the replay's.
    for (const [order, byte] of [
      [[a1, b1, c1], 3],
      [[a1, c1, b1], 4]
    ] as [HashedEntry[], number][]) {
      const n = await ingestOneByOne(order, byte);
      const live = await observe(n.ledger, n.store);
      await n.ledger.close();
      const again = await Ledger.open({ genesis, keys: n.keys, store: await n.loc.open(), now: testClock() });
      expect(await observe(again, again.store), `order ${order.map((h) => h === b1 ? 'B' : h === c1 ? 'C' : 'A').join('')}`).toEqual(live);
      await again.close();
    }
  });
});
