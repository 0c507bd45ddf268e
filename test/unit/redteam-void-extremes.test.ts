// Red team (PROTOCOL.md §6.1.1/3): hostile entries at the edges of a void clock space: a delete
// range far beyond the author's clock, into the void space, an item anchored at the last void clock,
// a dependency at the highest possible seq of a void feed. Delivered in several batchings (with
// the fork evidence, before it, after it) to nodes that compact often, then reopened. Nothing may
// throw anything but a LedgerError, leave Yjs structs or deletes parked, or diverge.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { LedgerError } from '../../src/lib/core/errors.js';
import { MAX_ENTRY_CLOCK, MAX_ENTRY_SEQ } from '../../src/lib/core/constants.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { MAX_DELETED_UNITS } from '../../src/lib/core/state/records-rules.js';
import { keysFromByte, yUpdateAt, deleteOnly, yItemAnchoredAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger, ledgerView } from '../helpers/ledger-nodes.js';

const T0 = 1_700_000_000_000;

function view(l: Ledger) {
  return { ...ledgerView(l), yjsPending: l.stats().yjsPending };
}

async function entries() {
  const net = (await openLedger(memoryLocation(), 30)).ledger.networkId;
  const [fk, hk] = await Promise.all([keysFromByte(103), keysFromByte(104)]);
  const F = toHex(fk.publicKey);
  const H = toHex(hk.publicKey);
  const cF = clientIdOf(F);
  const cH = clientIdOf(H);
  const variant = (v: string, dt: number) =>
    createEntry(
      {
        keys: fk,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 1,
        time: T0 + dt,
        clock: 1,
        payload: yUpdateAt('f', { v, a: F, t: T0 + dt, l: 1 }, cF, 0)
      },
      net
    );
  const f1a = await variant('a', 0);
  const f1b = await variant('b', 1);
  const d1 = await createEntry(
    {
      keys: hk,
      seq: 1,
      prev: new Uint8Array(32),
      lamport: 2,
      time: T0 + 2,
      clock: 0,
      deps: [{ author: F, seq: 1 }],
      // As far into the void space as one payload may delete (records-rules.ts MAX_DELETED_UNITS;
      // the whole space [0, MAX_ENTRY_CLOCK) was taken before that bound).
      payload: deleteOnly(cF, 0, MAX_DELETED_UNITS)
    },
    net
  );
  const d2 = await createEntry(
    {
      keys: hk,
      seq: 2,
      prev: d1.hash,
      lamport: 3,
      time: T0 + 3,
      clock: 1,
      deps: [{ author: F, seq: MAX_ENTRY_SEQ }],
      payload: yItemAnchoredAt(cH, 0, { client: cF, clock: MAX_ENTRY_CLOCK - 1 }, 'edge')
    },
    net
  );
  const d3 = await createEntry(
    {
      keys: hk,
      seq: 3,
      prev: d2.hash,
      lamport: 4,
      time: T0 + 4,
      clock: 2,
      payload: yUpdateAt('h', { v: 'own', a: H, t: T0 + 4, l: 4 }, cH, 1)
    },
    net
  );
  return { f1a, f1b, d1, d2, d3 };
}

describe('redteam: entries at the edges of a void clock space', () => {
  it('every batching gives the same state, only LedgerErrors, nothing parked; reopen gives the same', async () => {
    const { f1a, f1b, d1, d2, d3 } = await entries();
    const plans: HashedEntry[][][] = [
      [[f1a, f1b, d1, d2, d3]],
      [
        [f1a, f1b],
        [d1, d2, d3]
      ],
      [[d1, d2, d3], [f1b], [f1a]],
      [[f1a], [d1, d2, d3], [f1b]],
      [[d2], [d3], [f1a, d1], [f1b]]
    ];
    let ref: ReturnType<typeof view> | undefined;
    for (const [i, plan] of plans.entries()) {
      const loc = memoryLocation();
      const node = await openLedger(loc, 140 + i, { compactEvery: 1 });
      for (const batch of plan) {
        try {
          await node.ledger.ingest(batch);
        } catch (e) {
          expect({ plan: i, ledgerError: e instanceof LedgerError, e: String(e) }).toMatchObject({ ledgerError: true });
        }
      }
      await node.ledger.ingest([f1a, f1b, d1, d2, d3]); // re-offered, as sync would
      const v = view(node.ledger);
      ref ??= v;
      expect({ plan: i, ...v }).toEqual({ plan: i, ...ref });
      await node.ledger.put('after', i); // the node still writes
      await node.ledger.close();
      const again = await openLedger(loc, 140 + i, { compactEvery: 1 });
      expect(again.ledger.get('after')).toBe(i);
      expect(again.ledger.stats().yjsPending).toBe(false);
      await again.ledger.close();
    }
    expect(ref!.pending).toBe(0);
    expect(ref!.yjsPending).toBe(false);
    expect(JSON.parse(ref!.records).map((r: { key: string }) => r.key)).toEqual(['h']);
  });
});
