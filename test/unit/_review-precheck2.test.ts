import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { defaultGenesis } from '../../src/lib/core/genesis.js';

const genesis = defaultGenesis();

describe('review: precheckRun on runs overlapping what is stored and applied', () => {
  it('stored entries judged again', async () => {
    const me = await openLedger(memoryLocation(), 1, { genesis });
    const A = await openLedger(memoryLocation(), 2, { genesis });
    const B = await openLedger(memoryLocation(), 3, { genesis });
    A.ledger.registerType('doc', 'text');
    A.ledger.registerType('arr', 'array');
    await A.ledger.transact((d) => d.getText('doc').insert(0, 'abc'));
    await A.ledger.put('k', 'a1');
    await B.ledger.ingest(A.log);
    B.ledger.registerType('doc', 'text');
    B.ledger.registerType('arr', 'array');
    await B.ledger.put('k', 'b1'); // overwrite A's
    await B.ledger.put('k', 'b2'); // overwrite own
    await B.ledger.delete('k');
    await B.ledger.put('k', 'b3');
    await B.ledger.transact((d) => d.getText('doc').insert(1, 'XY'));
    await B.ledger.transact((d) => d.getText('doc').delete(0, 3));
    await B.ledger.transact((d) => d.getText('doc').insert(1, 'Z'));
    await B.ledger.transact((d) => d.getArray('arr').insert(0, [1, 2, 3]));
    await B.ledger.transact((d) => d.getArray('arr').insert(1, [9]));
    await B.ledger.transact((d) => d.getArray('arr').delete(0, 2));
    await B.ledger.delete('k');
    const bRun = B.log.filter((h) => toHex(h.entry.author) === toHex(B.keys.publicKey));
    await me.ledger.ingest(A.log);
    expect(await me.ledger.precheckRun(bRun)).toEqual({ verdict: 'ok', at: bRun.length });
    const out: string[] = [];
    for (let cut = 0; cut <= bRun.length; cut++) {
      const m = await openLedger(memoryLocation(), 1, { genesis });
      await m.ledger.ingest([...A.log, ...bRun.slice(0, cut)]);
      for (let from = 0; from <= cut && from < bRun.length; from++) {
        const v = await m.ledger.precheckRun(bRun.slice(from));
        if (v.verdict !== 'ok') out.push(`stored ${cut}, run from ${from}: ${JSON.stringify(v)}`);
      }
    }
    console.log(out.join('\n') || 'all ok');
  });
});
