// Red team 6b (issue 6: "an export never silently leaves out what its header claims", and the
// void-feed snapshot/join work, PROTOCOL.md §9.2, §13.4): a void feed whose canonical part
// (1 .. s - 1) the node does not fully hold. Fork evidence needs only two signed entries at one
// seq, whatever their prev (§6.1.4), so hostile X (one fresh key) publishes seq 1..3 and two
// entries at seq 10 with made-up prevs. Every node that receives them (gossip forwards the
// evidence) holds X void from 10 with entries 1..3: its canonical part 4..9 never exists.
//
// Input: node A ingests X's 1..3, an honest author's entry, and X's two entries at seq 10.
// Expected: A can still export a full snapshot, a light snapshot, and serve joins (the void
//   feed's covered part is what A holds, or the void head is exported with its evidence and
//   X's real last entry), and a fresh node importing the export reaches A's records and digest.
// Actual (measured): full export throws IncompleteExportError "the store lacks entry 4 of …
//   (head 9007199254740981); export a light snapshot instead"; light export throws
//   StateUsageError "no entry header for head …:9007199254740981"; ledgerJoinSource(A).snapshot()
//   is undefined. One cheap fork disables every export and all join serving network-wide, for
//   good (the canonical part can never be completed: X simply never signs 4..9).
// Suggested fix: a void feed's covered part is its contiguous canonical part below s: define the
//   void head's light header, the exported entries and the join body's head entry from the
//   highest contiguous entry below s (and say so in §6.1.2/§9.2/§13.4), or void from the feed's
//   head + 1 when evidence lies above it. Keep `entries` counts consistent with that.
import { beforeAll, describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { ledgerJoinSource } from '../../src/lib/core/join/ledger-source.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';

let input: HashedEntry[] = [];

beforeAll(async () => {
  const X = await keysFromByte(201);
  const net = networkId(genesis);
  const chain = await makeChain(X, 3, net);
  const client = clientIdOf(toHex(X.publicKey));
  const S = 10;
  const fork = await Promise.all(
    ['p', 'q'].map((t, i) =>
      createEntry(
        {
          keys: X,
          seq: S,
          prev: new Uint8Array(32).fill(i + 1),
          lamport: S,
          time: 1_700_000_000_100,
          clock: 4,
          payload: yUpdateAt(`far${t}`, t, client, 3)
        },
        net
      )
    )
  );
  const H = await openLedger(memoryLocation(), 202, { compactEvery: 0 });
  await H.ledger.put('h1', 1);
  await H.ledger.close();
  input = [...chain, ...H.log, ...fork];
}, 30_000);

async function holder(byte: number): Promise<TestLedger> {
  const a = await openLedger(memoryLocation(), byte, { compactEvery: 0 });
  await a.ledger.ingest(input);
  expect(a.ledger.voidFrom(toHex((await keysFromByte(201)).publicKey))).toBe(10);
  return a;
}

const outcome = <T>(p: Promise<T>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as Error).name
  );

describe('redteam6b: a void feed whose canonical part has a gap', () => {
  for (const kind of ['full', 'light'] as const) {
    it(`a ${kind} snapshot exports and imports into a fresh node with the same digest`, async () => {
      const a = await holder(203);
      const fresh = await openLedger(memoryLocation(), 204, { compactEvery: 0 });
      const result = await outcome(
        collectBytes(exportLedgerSnapshot(a.ledger, kind)).then((b) => importLedgerSnapshot(fresh.ledger, b))
      );
      const same = fresh.ledger.stats().stateDigest === a.ledger.stats().stateDigest;
      await a.ledger.close();
      await fresh.ledger.close();
      expect({ result, same }).toEqual({ result: 'ok', same: true });
    });
  }

  it('the node still serves joins', async () => {
    const a = await holder(205);
    const snap = await ledgerJoinSource(a.ledger, { rebuildMs: 0 }).snapshot();
    await a.ledger.close();
    expect(snap).toBeDefined();
  });
});
