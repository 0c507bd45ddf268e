// Red team 6b (issue 6: "an import reports what it did honestly", "pending state visible"; the
// state digest fast path and light/join verification): the state digest hashes the INTEGRATED
// state only (state/digest.ts), while a light snapshot stores and loads every byte of its state,
// Yjs-pending structs included. So a light snapshot whose state is an honest state plus appended
// pending structs carries the honest `stateDigest`, imports as `verified` (digestOf matches), and
// the node then reports the honest digest: the join re-verification (join-driver `local:
// ledgerClaim`) and any operator checkpoint vouch for it and clear the unverified mark. The
// hidden structs later forge records under an honest author. (A join body is safe: checkState
// refuses pending structs and non-canonical bytes.)
//
// Input: honest node A holds H's entry (H's Yjs clock ends at c); a light snapshot of A is
//   re-exported with state = Y.mergeUpdates([A's state, forged]), forged = one struct under H's
//   clientID at clock c + 1 (records.evil), header digest = A's digest. Fresh node B imports it;
//   then H's next signed entry (clock c) reaches B.
// Expected: the import refuses a state with pending structs (or that is not canonical), e.g.
//   CorruptSnapshotError; or at least B's digest differs from A's so no quorum vouches for it,
//   and B never shows a record H did not sign.
// Actual (measured): the import succeeds; B.stats().stateDigest === A's; after H's next entry,
//   B shows records.evil = 'forged' by H (H never signed it), A does not.
// Suggested fix: light import and mergeLightSnapshot refuse a state that leaves pending structs
//   or a pending delete set (LedgerState.hasPending after the trial load), as join/verify.ts does;
//   better, require the canonical encoding (bytes equal to canonicalState), so the digest covers
//   every byte stored.
// Fixed (ledger-replay.ts trialState): a light state that leaves structs pending is refused
// (LightSnapshotRefusedError); light exports carry the canonical state.
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { collectBytes, exportSnapshot } from '../../src/lib/core/snapshot/index.js';
import { importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { yUpdateAt } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('redteam6b: a light snapshot whose state hides pending structs', () => {
  it('a light state with forged pending structs is refused (or its digest differs)', async () => {
    const H = await openLedger(memoryLocation(), 251, { compactEvery: 0 });
    await H.ledger.put('h1', 1);
    const A = await openLedger(memoryLocation(), 252, { compactEvery: 0 });
    await A.ledger.ingest(H.log);

    const client = clientIdOf(H.ledger.author);
    const honest = A.ledger.encodeState();
    const doc = new Y.Doc({ gc: false });
    Y.applyUpdate(doc, honest);
    const c = Y.getState(doc.store, client);
    doc.destroy();
    const forged = yUpdateAt('evil', { v: 'forged', a: H.ledger.author, t: 1_700_000_000_005, l: 3 }, client, c + 1);
    const heads = A.ledger.heads();
    const digest = A.ledger.stats().stateDigest;
    const file = await collectBytes(
      exportSnapshot(
        {
          genesis,
          store: A.ledger.store,
          exporter: A.ledger.author,
          heads,
          state: { bytes: Y.mergeUpdates([honest, forged]), digest },
          headers: () => A.ledger.headHeaders(heads)
        },
        { kind: 'light' }
      )
    );

    const B = await openLedger(memoryLocation(), 253, { compactEvery: 0 });
    const outcome = await importLedgerSnapshot(B.ledger, file).then(
      async () => {
        const sameDigest = B.ledger.stats().stateDigest === digest;
        await H.ledger.put('h2', 2);
        await B.ledger.ingest(H.log);
        await A.ledger.ingest(H.log);
        return { sameDigest, evilOnB: B.ledger.get('evil'), evilOnA: A.ledger.get('evil') };
      },
      (e: unknown) => (e as Error).name
    );
    await Promise.all([H.ledger.close(), A.ledger.close(), B.ledger.close()]);
    if (typeof outcome === 'string') expect(outcome).toMatch(/Snapshot|LightSnapshotRefused/);
    else expect(outcome).toEqual({ sameDigest: false, evilOnB: undefined, evilOnA: undefined });
  });
});
