// Red team (PROTOCOL.md §6.1.1/3): an entry of another author that overwrites an item of a
// forked variant (dependency on the void feed) must integrate the same way whether it arrives in
// the same batch as the fork evidence, in a later batch, before the evidence (held by the
// dependency gate), or on a node that later reopens. A variant's child and a pile of further
// variants ride along. Nothing may throw anything but a LedgerError, leave Yjs structs parked,
// or leave the node broken.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger, ledgerView } from '../helpers/ledger-nodes.js';

const T0 = 1_700_000_000_000;

function view(l: Ledger) {
  return { ...ledgerView(l), yjsPending: l.stats().yjsPending };
}

/** A record put by `keys` on top of `base` (updates already applied), as its own doc would encode it. */
function put(keys: IdentityKeys, base: Uint8Array[], key: string, value: string, l: number, t: number): Uint8Array {
  const a = toHex(keys.publicKey);
  const doc = new Y.Doc({ gc: false });
  for (const u of base) Y.applyUpdate(doc, u);
  doc.clientID = clientIdOf(a);
  let out: Uint8Array | undefined;
  doc.on('update', (u: Uint8Array) => (out = u)); // this transaction only (its own deletes)
  doc.getMap('records').set(key, { v: value, a, t, l });
  doc.destroy();
  return out!;
}

async function scenario() {
  const net = (await openLedger(memoryLocation(), 30)).ledger.networkId;
  const [fk, hk] = await Promise.all([keysFromByte(95), keysFromByte(96)]);
  const F = toHex(fk.publicKey);
  const variant = async (v: string, dt: number) =>
    createEntry(
      {
        keys: fk,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 1,
        time: T0 + dt,
        clock: 1,
        payload: put(fk, [], 'f', v, 1, T0 + dt)
      },
      net
    );
  const f1a = await variant('a', 0);
  const f1b = await variant('b', 1);
  const f1c = await variant('c', 2); // a third variant: one piece of evidence per seq is kept
  const fChild = await createEntry(
    {
      keys: fk,
      seq: 2,
      prev: f1a.hash,
      lamport: 2,
      time: T0 + 3,
      clock: 2,
      payload: put(fk, [f1a.entry.payload], 'g', 'child', 2, T0 + 3)
    },
    net
  );
  // H overwrites variant a's record "f" (origin: F's item at clock 0) and writes one of its own.
  const h1 = await createEntry(
    {
      keys: hk,
      seq: 1,
      prev: new Uint8Array(32),
      lamport: 2,
      time: T0 + 4,
      clock: 1,
      deps: [{ author: F, seq: 1 }],
      payload: put(hk, [f1a.entry.payload], 'f', 'over', 2, T0 + 4)
    },
    net
  );
  const h2 = await createEntry(
    {
      keys: hk,
      seq: 2,
      prev: h1.hash,
      lamport: 3,
      time: T0 + 5,
      clock: 2,
      payload: put(hk, [f1a.entry.payload, h1.entry.payload], 'h', 'own', 3, T0 + 5)
    },
    net
  );
  return { f1a, f1b, f1c, fChild, h1, h2 };
}

describe('redteam: a write on a forked item, in every batching', () => {
  it('same heads, records and digest for every batching and order; reopen gives the same', async () => {
    const { f1a, f1b, f1c, fChild, h1, h2 } = await scenario();
    const plans: HashedEntry[][][] = [
      [[f1a, f1b, h1, h2]],
      [
        [f1a, f1b],
        [h1, h2]
      ],
      [[h1, h2], [f1a], [f1b]],
      [[f1a, h1, h2], [f1b]],
      [[f1a, fChild, h1], [h2, f1c], [f1b]],
      [[h2], [h1], [f1b], [fChild], [f1a], [f1c]],
      [[f1b, h1, f1a, h2, fChild, f1c]]
    ];
    let ref: ReturnType<typeof view> | undefined;
    for (const [i, plan] of plans.entries()) {
      const loc = memoryLocation();
      const node = await openLedger(loc, 110 + i, { compactEvery: 2 });
      for (const batch of plan) {
        const r = await node.ledger.ingest(batch);
        // The only refusal: the variant's child, once its parent is off the chain (never causal).
        for (const x of r.rejected) expect({ plan: i, code: x.code }).toEqual({ plan: i, code: 'broken-chain' });
      }
      await node.ledger.ingest([f1a, f1b, h1, h2]); // re-offered, as sync would
      const v = view(node.ledger);
      ref ??= v;
      expect({ plan: i, ...v }).toEqual({ plan: i, ...ref });
      await node.ledger.close();
      const again = await openLedger(loc, 110 + i, { compactEvery: 2 });
      expect({ plan: i, reopened: true, ...view(again.ledger) }).toEqual({ plan: i, reopened: true, ...ref });
      await again.ledger.close();
    }
    expect(ref!.pending).toBe(0);
    expect(ref!.yjsPending).toBe(false);
    expect(JSON.parse(ref!.records).map((r: { key: string }) => r.key)).toEqual(['h']);
  });
});
