// The canonical encoding's fast path (state/digest.ts maximallyMerged, taken by LedgerState while
// no payload may have misplaced an item, state/order.ts): when no two neighbouring structs of a
// document could merge, its own encoding is taken as canonical, without rebuilding it in a
// fresh document. It must give exactly the bytes of the rebuild (canonicalState) whatever
// the document and its delivery order: a wrong "maximally merged" verdict would make nodes holding
// the same state disagree on its digest. Seeded random documents of 3 clients typing text (runs
// Yjs merges; every other round without text), editing arrays and maps (nested too), deleting,
// syncing partially, each delivered
// to two replicas in different orders and in pieces; plus a ledger-like map-only workload, where
// the fast path is the rule. SEED=n picks the seed (printed).
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { canonicalState, encodeIntegrated, maximallyMerged } from '../../src/lib/core/state/digest.js';
import { bytesEqual } from '../../src/lib/core/bytes.js';
import { mulberry } from '../helpers/ledger-nodes.js';
import { encodeYUpdate } from '../fuzz/kit.js';

const SEED = Number(process.env.SEED ?? 20261202);

/** What LedgerState.canonical() computes for a document no payload may have misplaced in. */
const fast = (d: Y.Doc): Uint8Array => (maximallyMerged(d) ? encodeIntegrated(d) : canonicalState(d));

type Rand = () => number;
const pick = (r: Rand, n: number) => Math.floor(r() * n);

/** One random edit by `d`; `noText`: maps and arrays only (runs merge less often). */
function edit(d: Y.Doc, r: Rand, i: number, noText: boolean): void {
  const text = d.getText('t');
  const arr = d.getArray<unknown>('a');
  const map = d.getMap<unknown>('m');
  const op = noText ? 0.45 + r() * 0.55 : r();
  if (op < 0.35) text.insert(pick(r, text.length + 1), 'abcdefgh'.slice(0, 1 + pick(r, 8)));
  else if (op < 0.45 && text.length > 0) {
    const at = pick(r, text.length);
    text.delete(at, 1 + pick(r, Math.min(4, text.length - at)));
  } else if (op < 0.6) arr.insert(pick(r, arr.length + 1), [i, `s${i}`]);
  else if (op < 0.68 && arr.length > 0) arr.delete(pick(r, arr.length), 1);
  else if (op < 0.9) map.set(`k${pick(r, 12)}`, r() < 0.15 ? new Y.Map() : { v: i });
  else map.delete(`k${pick(r, 12)}`);
}

/** The updates of 3 clients editing with occasional partial syncs. */
function randomUpdates(r: Rand, edits: number, mapOnly = false, noText = false): Uint8Array[] {
  const docs = [1, 2, 3].map((c) => {
    const d = new Y.Doc({ gc: false });
    d.clientID = c;
    return d;
  });
  const updates: Uint8Array[] = [];
  for (const d of docs) d.on('update', (u: Uint8Array, origin: unknown) => origin !== 'sync' && updates.push(u));
  for (let i = 0; i < edits; i++) {
    const d = docs[pick(r, 3)];
    if (mapOnly) d.getMap('records').set(`k${pick(r, 40)}`, { v: i, s: 'x'.repeat(pick(r, 6)) });
    else edit(d, r, i, noText);
    if (r() < 0.15) {
      const to = docs[pick(r, 3)];
      Y.applyUpdate(to, Y.encodeStateAsUpdate(d, Y.encodeStateVector(to)), 'sync');
    }
  }
  return updates;
}

/** A replica receiving `updates` shuffled, some merged into one update first. */
function replica(r: Rand, updates: Uint8Array[]): Y.Doc {
  const shuffled = updates.map((u) => [r(), u] as const).sort((a, b) => a[0] - b[0]);
  const doc = new Y.Doc({ gc: false });
  for (let i = 0; i < shuffled.length;) {
    const n = 1 + pick(r, 4);
    const group = shuffled.slice(i, i + n).map((x) => x[1]);
    Y.applyUpdate(doc, group.length === 1 ? group[0] : Y.mergeUpdates(group));
    i += n;
  }
  return doc;
}

describe('canonicalState fast path (maximally merged documents)', () => {
  it(`gives the rebuild's bytes on random documents in any delivery order (SEED=${SEED})`, () => {
    console.log(`digest fast path SEED=${SEED}`);
    const r = mulberry(SEED);
    let fastCount = 0;
    let rebuilt = 0;
    for (let round = 0; round < 200; round++) {
      const updates = randomUpdates(r, 20 + pick(r, 120), false, round % 2 === 1);
      const a = replica(r, updates);
      const b = replica(r, updates);
      if (a.store.pendingStructs !== null || b.store.pendingStructs !== null) throw new Error('pending structs');
      for (const d of [a, b]) {
        const merged = maximallyMerged(d);
        if (merged) {
          fastCount++;
          expect(bytesEqual(encodeIntegrated(d), canonicalState(d)), `round ${round}`).toBe(true);
        } else rebuilt++;
        expect(bytesEqual(fast(d), canonicalState(d)), `round ${round}`).toBe(true);
      }
      expect(bytesEqual(fast(a), fast(b)), `round ${round}: delivery order changed it`).toBe(true);
    }
    // Both paths ran: typing makes mergeable runs; maps and arrays alone often have none.
    expect(fastCount).toBeGreaterThan(0);
    expect(rebuilt).toBeGreaterThan(0);
  });

  it('takes the fast path for ledger-like map writes, and its bytes are the rebuild', () => {
    const r = mulberry(SEED + 1);
    for (let round = 0; round < 20; round++) {
      const d = replica(r, randomUpdates(r, 300, true));
      expect(maximallyMerged(d)).toBe(true);
      expect(bytesEqual(fast(d), canonicalState(d))).toBe(true);
    }
  });

  // The ledger fuzzer's counterexample (SEED=1901023467): a map value of two units, then an entry
  // inserted after its first unit. The split leaves the first half undeleted with a right
  // neighbour; a fresh document integrates the halves apart and deletes it. Taking the
  // document's own encoding gave a digest other nodes holding the same state did not.
  it('rebuilds a document whose split map value left a stale entry undeleted', () => {
    const client = 5;
    const d = new Y.Doc({ gc: false });
    const value = { parent: 'm', parentSub: 'k', content: { k: 'any' as const, values: [1, 2] } };
    Y.applyUpdate(d, encodeYUpdate({ sections: [{ client, clock: 0, structs: [value] }], deletes: [] }));
    const after = { origin: { client, clock: 0 }, content: { k: 'any' as const, values: [3] } };
    Y.applyUpdate(d, encodeYUpdate({ sections: [{ client, clock: 2, structs: [after] }], deletes: [] }));
    const first = d.store.clients.get(client)![0] as Y.Item;
    expect([first.length, first.deleted, first.right !== null]).toEqual([1, false, true]);
    expect(maximallyMerged(d)).toBe(false);
    expect(bytesEqual(encodeIntegrated(d), canonicalState(d))).toBe(false);
    expect(bytesEqual(fast(d), canonicalState(d))).toBe(true);
    // A node that got the same state from the canonical bytes reports the same digest.
    const joined = new Y.Doc({ gc: false });
    Y.applyUpdate(joined, canonicalState(d));
    expect(bytesEqual(fast(joined), fast(d))).toBe(true);
  });

  it('text typed in two updates gives the bytes of the same text in one update', () => {
    const w = new Y.Doc({ gc: false });
    w.clientID = 7;
    const parts: Uint8Array[] = [];
    w.on('update', (u: Uint8Array) => parts.push(u));
    w.getText('t').insert(0, 'abc');
    w.getText('t').insert(3, 'def');
    const d = new Y.Doc({ gc: false });
    for (const u of parts) Y.applyUpdate(d, u);
    const viaOneUpdate = new Y.Doc({ gc: false });
    Y.applyUpdate(viaOneUpdate, Y.encodeStateAsUpdate(w));
    expect(bytesEqual(fast(d), fast(viaOneUpdate))).toBe(true);
    expect(bytesEqual(fast(d), canonicalState(d))).toBe(true);
  });
});
