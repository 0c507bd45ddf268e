// Installing a verified join snapshot takes over the document verification loaded (issue 9/11
// row 5: the joiner loaded the same state twice, ~0.4 s each at 100k entries), and only when the
// stored compaction is exactly that document's canonical state; otherwise the ledger loads what it
// stored, as before. Either way the joined ledger shows the server's records and digest, takes
// local writes, and a reopen from the store gives the same view.
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { networkId } from '../../src/lib/core/genesis.js';
import { verifyJoinSnapshot, type VerifiedSnapshot } from '../../src/lib/core/join/verify.js';
import { installJoinSnapshot, ledgerJoinSource } from '../../src/lib/core/join/ledger-source.js';
import type { ServedSnapshot } from '../../src/lib/core/join/server.js';
import type { JoinVerdict } from '../../src/lib/core/join/joiner.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf, overrideClientIds } from '../../src/lib/core/state/client-id.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { genesis, ledgerView, memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';

const ctx = { networkId: networkId(genesis), genesis };
let server: TestLedger;
let other: TestLedger;
let snap: ServedSnapshot;
let otherSnap: ServedSnapshot;

const verdict = (s: ServedSnapshot): JoinVerdict => ({
  verified: true,
  by: 'quorum',
  asked: 3,
  agreeing: 3,
  claim: s.claim,
  checkpoint: null
});

/** Records which document `v.loaded` handed out. */
function watch(v: VerifiedSnapshot): { doc?: Y.Doc } {
  const seen: { doc?: Y.Doc } = {};
  const take = v.loaded!;
  v.loaded = () => {
    const l = take();
    seen.doc = l?.doc;
    return l;
  };
  return seen;
}

beforeAll(async () => {
  server = await openLedger(memoryLocation(), 171, { compactEvery: 0 });
  const w = await openLedger(memoryLocation(), 172, { compactEvery: 0 });
  for (let i = 0; i < 30; i++) await w.ledger.put(`k${i % 7}`, { i });
  await w.ledger.delete('k3');
  await server.ledger.ingest(w.log);
  await server.ledger.put('s', 'server');
  snap = (await ledgerJoinSource(server.ledger).snapshot())!;
  other = await openLedger(memoryLocation(), 173, { compactEvery: 0 });
  await other.ledger.put('o', 'other');
  otherSnap = (await ledgerJoinSource(other.ledger).snapshot())!;
}, 30_000);

describe('join install takes over the verified document', () => {
  it('hands the loaded document out once', async () => {
    const v = await verifyJoinSnapshot(snap.body, snap.claim, ctx);
    const first = v.loaded?.();
    expect(first?.doc).toBeInstanceOf(Y.Doc);
    expect(first?.digest).toBe(snap.claim.stateDigest);
    expect(v.loaded?.()).toBeUndefined();
  });

  it('installs without loading again: the ledger holds that document and the server view', async () => {
    const v = await verifyJoinSnapshot(snap.body, snap.claim, ctx);
    const seen = watch(v);
    const loc = memoryLocation();
    const joined = await openLedger(loc, 174, { compactEvery: 0 });
    await installJoinSnapshot(joined.ledger, v, verdict(snap));
    expect(seen.doc).toBeDefined();
    expect(joined.ledger.doc).toBe(seen.doc);
    const want = ledgerView(server.ledger);
    expect(ledgerView(joined.ledger)).toEqual(want);
    expect(joined.ledger.stats().unverified).toBe(false);
    // Local writes go on under this node's own clientID, and a reopen shows the same.
    await joined.ledger.put('mine', 1);
    expect(joined.ledger.records().find((r) => r.key === 'mine')?.value).toBe(1);
    const view = ledgerView(joined.ledger);
    await joined.ledger.close();
    const again = await openLedger(loc, 174, { compactEvery: 0 });
    expect(ledgerView(again.ledger)).toEqual(view);
    await again.ledger.close();
  });

  it("a state holding structs of this node's clientID is still refused (checked on the loaded document)", async () => {
    const v = await verifyJoinSnapshot(snap.body, snap.claim, ctx);
    const seen = watch(v);
    // A joiner whose key maps to the clientID of w (a writer in the state); its own key has no head.
    const [wKeys, jKeys] = await Promise.all([keysFromByte(172), keysFromByte(176)]);
    const wClient = clientIdOf(toHex(wKeys.publicKey));
    const joiner = toHex(jKeys.publicKey);
    const restore = overrideClientIds((author, real) => (author === joiner ? wClient : real));
    try {
      const self = await openLedger(memoryLocation(), 176, { compactEvery: 0 });
      expect(v.heads.some((h) => h.author === joiner)).toBe(false);
      await expect(installJoinSnapshot(self.ledger, v, verdict(snap))).rejects.toMatchObject({
        name: 'LightSnapshotRefusedError'
      });
      expect(seen.doc).toBeDefined();
      expect(self.ledger.records()).toEqual([]);
      await self.ledger.close();
    } finally {
      restore();
    }
  });

  it('a document that is not the stored state is not taken over: the stored state is loaded', async () => {
    const v = await verifyJoinSnapshot(snap.body, snap.claim, ctx);
    const foreign = await verifyJoinSnapshot(otherSnap.body, otherSnap.claim, ctx);
    const wrong = foreign.loaded!()!;
    const joined = await openLedger(memoryLocation(), 175, { compactEvery: 0 });
    await joined.ledger.mergeLightSnapshot({
      state: v.state,
      heads: v.heads,
      headers: v.headers,
      headsRoot: v.headsRoot,
      exporter: 'test',
      verifiedDigest: v.stateDigest,
      loaded: wrong
    });
    expect(joined.ledger.doc).not.toBe(wrong.doc);
    expect(ledgerView(joined.ledger)).toEqual(ledgerView(server.ledger));
    expect(joined.ledger.records().find((r) => r.key === 'o')).toBeUndefined();
    await joined.ledger.close();
  });
});
