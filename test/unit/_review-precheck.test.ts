import { describe, expect, it, vi } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { defaultGenesis } from '../../src/lib/core/genesis.js';

const genesis = defaultGenesis();

describe('review: precheckRun vs ingest', () => {
  it('race: a dep that joined the FeedSet but is not applied yet', async () => {
    const me = await openLedger(memoryLocation(), 1, { genesis });
    const A = await openLedger(memoryLocation(), 2, { genesis });
    const B = await openLedger(memoryLocation(), 3, { genesis });
    A.ledger.registerType('doc', 'text');
    await A.ledger.transact((d) => d.getText('doc').insert(0, 'abc'));
    await B.ledger.ingest(A.log);
    B.ledger.registerType('doc', 'text');
    await B.ledger.put('plain', 1); // B:1, no deps
    await B.ledger.transact((d) => d.getText('doc').insert(1, 'X')); // B:2, between A's a and b
    const bRun = B.log.filter((h) => toHex(h.entry.author) === toHex(B.keys.publicKey));
    expect(bRun.map((h) => h.entry.seq)).toEqual([1, 2]);
    expect(bRun[1].entry.deps.length).toBe(1);
    // Alone, with A:1 stored and applied: ok
    const solo = await openLedger(memoryLocation(), 4, { genesis });
    await solo.ledger.ingest(A.log);
    expect(await solo.ledger.precheckRun(bRun)).toEqual({ verdict: 'ok', at: 2 });

    // me: A:1 in the middle of an ingest step (FeedSet has it, store write in flight, not applied)
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const atStore = new Promise<void>((r) => (reached = r));
    const real = me.store.ingest.bind(me.store);
    vi.spyOn(me.store, 'ingest').mockImplementation(async (hs) => {
      reached();
      await gate;
      return real(hs);
    });
    const ing = me.ledger.ingest(A.log);
    await atStore;
    const during = await me.ledger.precheckRun(bRun);
    const duringHead = await me.ledger.precheck(bRun[0]);
    release();
    await ing;
    const after = await me.ledger.precheckRun(bRun);
    const rep = await me.ledger.ingest(bRun);
    console.log('during', during, 'head only (old behaviour)', duringHead, 'after', after, 'ingest', rep.added, rep.rejected);
  });
});
