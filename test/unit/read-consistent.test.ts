// Readers that pair the heads with the state (a join snapshot served to joiners, a snapshot file
// exported) read them where they agree: never while a local write group is applied but not yet
// stored, nor while a direct change on the document waits to be signed (Ledger.readConsistent;
// red team 6e's open point). Read in the middle of either, the heads did not cover what the state
// showed: a joiner refused the snapshot (JoinMismatchError), so the node's vote was wasted. (The
// file export already waited behind flushVoids; the last test keeps it so.)
import { describe, expect, it } from 'vitest';
import { defaultGenesis } from '../../src/lib/core/genesis.js';
import { ledgerJoinSource } from '../../src/lib/core/join/ledger-source.js';
import { verifyJoinSnapshot } from '../../src/lib/core/join/verify.js';
import { exportSnapshotFile } from '../../src/lib/worker/snapshot-files.js';
import { importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

/** A ledger whose store holds every local commit until `release()`. */
async function slowCommits(keyByte: number) {
  const tl = await openLedger(memoryLocation(), keyByte, { compactEvery: 0 });
  for (let i = 0; i < 3; i++) await tl.ledger.put(`k${i}`, i);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inCommit = new Promise<void>((r) => (entered = r));
  const append = tl.store.appendLocal.bind(tl.store);
  tl.store.appendLocal = async (h) => {
    entered();
    await gate;
    return append(h);
  };
  return { tl, release, inCommit };
}

describe('Ledger.readConsistent: heads and state read where they agree', () => {
  it('a join snapshot asked for during a local commit verifies against its claim', async () => {
    const { tl, release, inCommit } = await slowCommits(31);
    const put = tl.ledger.put('x', 'in flight');
    await inCommit; // the document holds x = 'in flight'; the store not yet
    const asked = ledgerJoinSource(tl.ledger, { rebuildMs: 0 }).snapshot();
    release();
    await put;
    const snap = (await asked)!;
    const v = await verifyJoinSnapshot(snap.body, snap.claim, {
      networkId: tl.ledger.networkId,
      genesis: defaultGenesis()
    });
    expect(v.entries).toBe(4);
  });

  it('a join snapshot asked for right after a direct change on the document covers it once signed', async () => {
    const tl = await openLedger(memoryLocation(), 32, { compactEvery: 0 });
    for (let i = 0; i < 3; i++) await tl.ledger.put(`k${i}`, i);
    tl.ledger.doc.getText('t').insert(0, 'direct'); // waits to be signed
    const snap = (await ledgerJoinSource(tl.ledger, { rebuildMs: 0 }).snapshot())!;
    const v = await verifyJoinSnapshot(snap.body, snap.claim, {
      networkId: tl.ledger.networkId,
      genesis: defaultGenesis()
    });
    expect(v.entries).toBe(4);
    expect(tl.ledger.stats().untracked).toEqual({ signed: 1, undone: 0 });
  });

  it('a light snapshot file exported during a local commit imports into a fresh node', async () => {
    const { tl, release, inCommit } = await slowCommits(34);
    const put = tl.ledger.put('y', 1);
    await inCommit;
    const exported = exportSnapshotFile(tl.ledger, 'light');
    release();
    await put;
    const fresh = await openLedger(memoryLocation(), 33, { compactEvery: 0 });
    await importLedgerSnapshot(fresh.ledger, (await exported).bytes);
    expect(fresh.ledger.get('y')).toBe(1);
    expect(fresh.ledger.stats().stateDigest).toBe(tl.ledger.stats().stateDigest);
  });
});
