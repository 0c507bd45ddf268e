// Red team 6c (light snapshots with void heads, PROTOCOL.md §9.4, §10; issue 6 kinds "an import is
// all-or-nothing and reports what it did honestly", "state and ledger never disagree"): a light
// import stores the file's state, heads and headers after checking only that the state loads with
// nothing pending (storeLightState trialState). Replay, at the next open, also checks that every
// clientID in the state belongs to a head and ends at its header's clock (checkCompaction). A file
// whose state does not end where its headers say is therefore stored, and the importer's store
// no longer opens: CorruptStoreError at every start, until the site data is cleared. An honest
// node produces such a file too: one whose state is kept unverified after a fork below a head it
// bootstrapped (PROTOCOL.md §6.1.4) exports E's void head with canonical top 0 and a state that
// still holds E's items. Also: when every head of the file is a void head with top 0 (it covers
// no entry), mergeLightSnapshot skips its rebuild (`covered > 0`), so the running node's memory
// lacks the state its store now holds.
//
// Input: (1) node L bootstrapped E@10 from a light snapshot, then learnt a fork of E at 4; L
//   exports a light snapshot; fresh node M imports it, closes, reopens. (2) node V holds only a
//   fork of X at seq 1 (void head v(1, 0), the placeholder); fresh node W imports V's light
//   snapshot.
// Expected: (1) the import is refused (LightSnapshotRefusedError) with nothing stored, and M
//   reopens. (2) W's digest right after the import equals V's and W's after a reopen.
// Actual (measured): (1) the import reports { added: 0 }, and M's reopen fails with
//   CorruptStoreError "the compacted state does not end at its head entry". (2) W's memory stays
//   empty after the import; only a restart loads the state.
// Suggested fix: storeLightState checks the state's clientIDs and clocks against the heads and
//   headers the way checkCompaction will (before anything is stored), and mergeLightSnapshot
//   rebuilds whenever it stored something (heads.length > 0), not only when the heads cover entries.
// Fixed (ledger-replay.ts storeLightState trialState/clockFlaw, ledger.ts mergeLightSnapshot): as suggested.
import { describe, expect, it } from 'vitest';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

async function reopenOutcome(loc: ReturnType<typeof memoryLocation>, key: number): Promise<string> {
  return openLedger(loc, key, { compactEvery: 0 }).then(
    async (x) => {
      const d = x.ledger.stats().stateDigest;
      await x.ledger.close();
      return d;
    },
    (e: Error) => `${e.name}: ${e.message}`
  );
}

describe('redteam6c: a light import whose state does not match its headers', () => {
  it('is refused before anything is stored, so the importer still opens', async () => {
    const F = await openLedger(memoryLocation(), 91, { compactEvery: 0 });
    const net = F.ledger.networkId;
    const E = await keysFromByte(93);
    const chain = await makeChain(E, 10, net);
    await F.ledger.ingest(chain);
    const L = await openLedger(memoryLocation(), 94, { compactEvery: 0 });
    await importLedgerSnapshot(L.ledger, await collectBytes(exportLedgerSnapshot(F.ledger, 'light')));
    const alt4 = await createEntry({ ...chain[3].entry, keys: E, time: chain[3].entry.time + 7 }, net);
    expect((await L.ledger.ingest([chain[3], alt4])).forks).toBe(1);
    const file = await collectBytes(exportLedgerSnapshot(L.ledger, 'light'));

    const loc = memoryLocation();
    const M = await openLedger(loc, 95, { compactEvery: 0 });
    const empty = M.ledger.stats().stateDigest;
    const r = await importLedgerSnapshot(M.ledger, file).then(
      () => 'imported',
      (e: Error) => e.name
    );
    await M.ledger.close();
    expect({ r, reopen: await reopenOutcome(loc, 95) }).toEqual({ r: 'LightSnapshotRefusedError', reopen: empty });
  });

  it('a file of void heads only is loaded into memory at once', async () => {
    const V = await openLedger(memoryLocation(), 96, { compactEvery: 0 });
    const net = V.ledger.networkId;
    const X = await keysFromByte(97);
    const [x1] = await makeChain(X, 1, net);
    const x1b = await createEntry({ ...x1.entry, keys: X, time: x1.entry.time + 7 }, net);
    expect((await V.ledger.ingest([x1, x1b])).forks).toBe(1);
    const vDigest = V.ledger.stats().stateDigest;

    const loc = memoryLocation();
    const W = await openLedger(loc, 98, { compactEvery: 0 });
    await importLedgerSnapshot(W.ledger, await collectBytes(exportLedgerSnapshot(V.ledger, 'light')));
    const now = W.ledger.stats().stateDigest;
    await W.ledger.close();
    expect({ now, reopened: await reopenOutcome(loc, 98) }).toEqual({ now: vDigest, reopened: vDigest });
  });
});
