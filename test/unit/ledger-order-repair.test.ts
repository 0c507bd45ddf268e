// A ledger whose live document orders a list otherwise than its canonical state (a crafted list
// placement, test/unit/redteam-list-order.test.ts) reloads from the canonical state: it shows what
// a joining node or a restart shows, and every node converges on it (order-repair.ts).
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { craftedText } from '../helpers/yjs-craft.js';

const text = (n: TestLedger) => n.ledger.registerType('t', 'text').toString();
const own = (n: TestLedger) => n.log.filter((h) => toHex(h.entry.author) === n.ledger.author);

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

/** A types "abcdefgh"; H signs "P" with origin 'c' and right origin 'b'; B and C insert near the start. */
async function scenario() {
  const a = await openLedger(memoryLocation(), 1);
  const t = a.ledger.registerType('t', 'text');
  for (const [i, ch] of [...'abcdefgh'].entries()) await a.ledger.transact(() => t.insert(i, ch));
  const cA = clientIdOf(a.ledger.author);
  const hKeys = await keysFromByte(7);
  const top = a.log[a.log.length - 1].entry;
  const bad = await createEntry(
    {
      keys: hKeys,
      seq: 1,
      prev: new Uint8Array(32),
      lamport: top.lamport + 1,
      time: 1_700_000_000_000,
      clock: 1,
      deps: [{ author: a.ledger.author, seq: top.seq }],
      payload: craftedText(clientIdOf(toHex(hKeys.publicKey)), Y.createID(cA, 2), Y.createID(cA, 1), 'P')
    },
    a.ledger.networkId
  );
  const writer = async (byte: number, pos: number, ch: string) => {
    const n = await openLedger(memoryLocation(), byte);
    await n.ledger.ingest(a.log);
    const nt = n.ledger.registerType('t', 'text');
    await n.ledger.transact(() => nt.insert(pos, ch));
    return own(n);
  };
  return { base: [...a.log], bad, b: await writer(2, 0, 'B'), c: await writer(3, 1, 'C') };
}

describe('order repair', () => {
  it('reloads a node whose live order diverged, and every node then shows the canonical order', async () => {
    const { base, bad, b, c } = await scenario();
    const loc = memoryLocation();
    const v = await openLedger(loc, 4);
    v.ledger.registerType('t', 'text');
    for (const batch of [base, [bad], b, c]) expect((await v.ledger.ingest(batch)).rejected).toEqual([]);
    expect(text(v)).toBe('BaCPbcdefgh'); // applied live

    // A node joining from the canonical state (or restarting) shows another order, same digest.
    const joined = new Y.Doc({ gc: false });
    const { canonical, digest } = v.ledger.canonicalState(); // compares orders: a repair is due
    Y.applyUpdate(joined, canonical);
    expect(joined.getText('t').toString()).toBe('BaCbcPdefgh');
    expect(v.ledger.stats({ digest: false }).orderRepairPending).toBe(true);

    await until(() => v.ledger.stats({ digest: false }).orderRepairs === 1, 'the repair');
    expect(text(v)).toBe('BaCbcPdefgh');
    expect(v.ledger.stats()).toMatchObject({ stateDigest: digest, orderRepairPending: false, entries: 11 });

    // Another node, another delivery order (everything in one batch): the same order in the end.
    const w = await openLedger(memoryLocation(), 5);
    w.ledger.registerType('t', 'text');
    await w.ledger.ingest([...c, ...b, bad, ...base]);
    w.ledger.stats();
    await until(() => !w.ledger.stats({ digest: false }).orderRepairPending, 'w settled');
    expect(text(w)).toBe('BaCbcPdefgh');
    expect(w.ledger.stats().stateDigest).toBe(digest);

    // A restart keeps it (loaded from the compaction the repair stored) and has nothing to repair.
    await v.ledger.close();
    const v2 = await openLedger(loc, 4);
    expect(text(v2)).toBe('BaCbcPdefgh');
    expect(v2.ledger.stats()).toMatchObject({ stateDigest: digest, orderRepairs: 0, orderRepairPending: false });
    await Promise.all([v2.ledger.close(), w.ledger.close()]);
  });

  it('an honest text edited concurrently never triggers a repair', async () => {
    const a = await openLedger(memoryLocation(), 1);
    const b = await openLedger(memoryLocation(), 2);
    const ta = a.ledger.registerType('t', 'text');
    const tb = b.ledger.registerType('t', 'text');
    for (let round = 0; round < 6; round++) {
      await a.ledger.transact(() => ta.insert(Math.min(round, ta.length), `a${round}`));
      await b.ledger.transact(() => tb.insert(Math.min(round, tb.length), `b${round}`));
      await a.ledger.ingest(own(b));
      await b.ledger.ingest(own(a));
      a.ledger.stats();
      b.ledger.stats();
    }
    expect(ta.toString()).toBe(tb.toString());
    for (const n of [a, b]) expect(n.ledger.stats()).toMatchObject({ orderRepairs: 0, orderRepairPending: false });
  });
});
