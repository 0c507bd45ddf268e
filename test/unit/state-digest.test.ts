// The state digest's fast path (state/digest.ts loadedCanonical): a fresh document loaded from
// canonical bytes digests those bytes directly (one encode to check they are canonical); loaded
// from any other encoding of the same state (delivery order, Yjs' own encodeStateAsUpdate), it
// falls back to rebuilding the canonical form. Both give stateDigest's answer. Seeded.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  canonicalDigest,
  canonicalDigestAsync,
  canonicalState,
  encodeIntegrated,
  loadedCanonical,
  stateDigest
} from '../../src/lib/core/state/digest.js';
import { LedgerState } from '../../src/lib/core/state/doc.js';
import { mulberry } from '../helpers/ledger-nodes.js';

const SEED = Number(process.env.SEED ?? 4242);

/** A document written by 3 clients (puts, deletes, overwrites), its updates shuffled. */
function randomDoc(seed: number): { doc: Y.Doc; updates: Uint8Array[] } {
  const r = mulberry(seed);
  const writers = [1, 2, 3].map((c) => {
    const d = new Y.Doc({ gc: false });
    d.clientID = c * 1000 + seed;
    return d;
  });
  const updates: Uint8Array[] = [];
  for (const d of writers) d.on('update', (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < 200; i++) {
    const d = writers[Math.floor(r() * 3)];
    const k = `k${Math.floor(r() * 15)}`;
    if (r() < 0.2) d.getMap('records').delete(k);
    else d.getMap('records').set(k, { v: i, s: 'x'.repeat(Math.floor(r() * 8)) });
    if (r() < 0.3) Y.applyUpdate(writers[Math.floor(r() * 3)], Y.encodeStateAsUpdate(d));
  }
  const doc = new Y.Doc({ gc: false });
  for (const u of updates.map((u) => [r(), u] as const).sort((a, b) => a[0] - b[0])) Y.applyUpdate(doc, u[1]);
  return { doc, updates };
}

describe('state digest fast path', () => {
  it(`canonical bytes reload to themselves, and every path gives the same digest (SEED=${SEED})`, () => {
    for (let i = 0; i < 20; i++) {
      const { doc } = randomDoc(SEED + i);
      const canonical = canonicalState(doc);
      const want = stateDigest(doc);
      const fresh = new Y.Doc({ gc: false });
      Y.applyUpdate(fresh, canonical);
      expect(encodeIntegrated(fresh), `SEED=${SEED + i}`).toEqual(canonical);
      expect(loadedCanonical(fresh, canonical), `SEED=${SEED + i}`).toEqual({ canonical, digest: want });
      // Yjs' own encoding of the same state is not canonical: the fallback rebuilds it.
      const plain = Y.encodeStateAsUpdate(doc);
      const other = new Y.Doc({ gc: false });
      Y.applyUpdate(other, plain);
      expect(loadedCanonical(other, plain).digest, `SEED=${SEED + i}`).toBe(want);
      // LedgerState: loaded fresh, digest() agrees; after a change, it is recomputed.
      const s = new LedgerState();
      s.loadState(canonical);
      expect(s.digest()).toBe(want);
      expect(s.canonical().canonical).toBe(canonical); // the loaded bytes themselves
      s.loadState(plain); // into a non-empty state: idempotent, nothing new
      expect(s.digest()).toBe(want);
      s.destroy();
    }
  });

  it('a fresh state refuses bytes that do not decode with a typed error', () => {
    const s = new LedgerState();
    expect(() => s.loadState(new Uint8Array([5, 200, 1, 2]))).toThrow(
      expect.objectContaining({ name: 'MalformedPayloadError' })
    );
    s.destroy();
  });
});

describe('canonicalAsync (WebCrypto SHA-256)', () => {
  it('gives canonical() and stateDigest exactly, loaded fresh or from any encoding', async () => {
    for (let seed = SEED; seed < SEED + 8; seed++) {
      const { doc } = randomDoc(seed);
      const want = stateDigest(doc);
      for (const bytes of [canonicalState(doc), Y.encodeStateAsUpdate(doc)]) {
        const s = new LedgerState();
        s.loadState(bytes);
        const got = await s.canonicalAsync();
        expect(got.digest, `seed ${seed}`).toBe(want);
        expect(got.canonical).toEqual(canonicalState(doc));
        expect(s.canonical().digest).toBe(want); // cached, same value
        s.destroy();
      }
      expect(await canonicalDigestAsync(canonicalState(doc))).toBe(canonicalDigest(canonicalState(doc)));
    }
  });
});
