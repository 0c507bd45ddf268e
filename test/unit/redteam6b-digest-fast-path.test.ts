// Red team 6b (state digest fast path, state/digest.ts loadedCanonical, state/doc.ts canonical()):
// a FRESH LedgerState loaded from bytes that are already canonical returns those bytes as its
// canonical state after one encode. Attack: find bytes where the fast path and the full path
// (canonicalState of the same document) disagree, or where the fast path takes bytes that are
// not what the document holds (pending structs, pending deletes, GC structs, splits/merges made
// by concurrent editing, deletes across clients), and states whose layout differs by arrival
// order.
//
// Input: seeded random concurrent edits of 3-4 Yjs clients (maps, arrays, text, nested types,
//   deletes, partial syncs), each node's state as (a) canonicalState bytes, (b) Yjs'
//   encodeStateAsUpdate bytes (non-canonical layout), (c) (a) with a missing-dependency update
//   merged in (pending structs and pending deletes); each loaded into a fresh LedgerState with a
//   local author and a registered records map, as replay does.
// Expected: canonical() and digest() equal canonicalState/stateDigest of the loaded document in
//   every case, and (a) and (b) give the same digest as the source document.
// Held (measured): all cases agree. (A defence that held; kept as a regression test.)
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { LedgerState } from '../../src/lib/core/state/doc.js';
import { canonicalState, stateDigest } from '../../src/lib/core/state/digest.js';
import { bytesEqual, toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { mulberry } from '../helpers/ledger-nodes.js';

const AUTHOR = 'ab'.repeat(32);

function randomDocs(rand: () => number): Y.Doc[] {
  const n = 3 + Math.floor(rand() * 2);
  const docs = Array.from({ length: n }, (_, i) => {
    const d = new Y.Doc({ gc: false });
    // One of them uses the local author's clientID (replay integrates our own structs remotely).
    d.clientID = i === 0 ? clientIdOf(AUTHOR) : 1000 + i;
    return d;
  });
  const steps = 20 + Math.floor(rand() * 40);
  for (let s = 0; s < steps; s++) {
    const d = docs[Math.floor(rand() * n)];
    const r = rand();
    const key = `k${Math.floor(rand() * 5)}`;
    if (r < 0.2) d.getMap('records').set(key, { v: Math.floor(rand() * 100) });
    else if (r < 0.3) d.getMap('records').delete(key);
    else if (r < 0.45) {
      const t = d.getText('text');
      const at = Math.floor(rand() * (t.length + 1));
      t.insert(at, 'xyz'.slice(0, 1 + Math.floor(rand() * 3)));
    } else if (r < 0.55) {
      const t = d.getText('text');
      if (t.length > 0) {
        const at = Math.floor(rand() * t.length);
        t.delete(at, Math.min(t.length - at, 1 + Math.floor(rand() * 3)));
      }
    } else if (r < 0.7) {
      const a = d.getArray('list');
      a.insert(Math.floor(rand() * (a.length + 1)), [Math.floor(rand() * 9), 'v']);
    } else if (r < 0.78) {
      const a = d.getArray('list');
      if (a.length > 0) a.delete(Math.floor(rand() * a.length), 1);
    } else if (r < 0.85) {
      const m = new Y.Map();
      d.getMap('nested').set(key, m);
      m.set('x', rand());
    } else {
      // partial sync: one doc receives another's full state
      const other = docs[Math.floor(rand() * n)];
      if (other !== d) Y.applyUpdate(d, Y.encodeStateAsUpdate(other));
    }
  }
  return docs;
}

function fresh(bytes: Uint8Array): LedgerState {
  const s = new LedgerState({ author: AUTHOR });
  s.registerType('records', 'map');
  s.loadState(bytes);
  return s;
}

describe('redteam6b: digest fast path vs full path', () => {
  it('fresh loads of canonical, non-canonical and pending bytes agree with the full path', () => {
    const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31);
    console.log(`redteam6b digest fast path seed=${seed}`);
    const rand = mulberry(seed);
    for (let round = 0; round < 60; round++) {
      const docs = randomDocs(rand);
      const src = docs[Math.floor(rand() * docs.length)];
      const want = stateDigest(src);
      const canon = canonicalState(src);
      // A later update of another doc, without its dependencies: pending structs and deletes.
      const other = docs.find((d) => d !== src)!;
      const sv = Y.encodeStateVector(other);
      other.getText('text').insert(0, 'late');
      if (other.getArray('list').length > 0) other.getArray('list').delete(0, 1);
      other.getMap('records').set('late', { v: 1 });
      const late = Y.encodeStateAsUpdate(other, sv);
      const cases: [string, Uint8Array][] = [
        ['canonical', canon],
        ['yjs', Y.encodeStateAsUpdate(src)],
        ['pending', Y.mergeUpdates([canon, late])]
      ];
      for (const [name, bytes] of cases) {
        const s = fresh(bytes);
        const fast = s.canonical();
        const full = canonicalState(s.doc);
        const ctx = `seed=${seed} round=${round} case=${name}`;
        expect(bytesEqual(fast.canonical, full), ctx).toBe(true);
        expect(fast.digest, ctx).toBe(stateDigest(s.doc));
        if (name !== 'pending') expect(fast.digest, ctx).toBe(want);
        if (name === 'canonical') expect(toHex(fast.canonical), ctx).toBe(toHex(canon));
        s.destroy();
      }
      for (const d of docs) d.destroy();
    }
  });
});
