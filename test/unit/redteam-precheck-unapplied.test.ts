// Gossip's causal precheck (Ledger.precheckRun) runs outside the ledger's queue. While an ingest
// step has planned an entry into its feed but not applied it to the document yet, a run placing
// items among that entry's was judged against the document without them and refused, though
// ingest accepts it: an honest run was not forwarded and its entry remembered as a refused
// variant (review of 7636e84; the run's head had the same window before). Such a dependency is
// now 'unknown' until it is applied.
import { describe, expect, it, vi } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

/** A fresh node `me`; A wrote `text` into a shared text type (A:1); B holds A:1 and the type. */
async function textFixture(keyBytes: [number, number, number], text: string) {
  const [me, A, B] = await Promise.all(keyBytes.map((k) => openLedger(memoryLocation(), k)));
  A.ledger.registerType('doc', 'text');
  await A.ledger.transact((d) => d.getText('doc').insert(0, text));
  await B.ledger.ingest(A.log);
  B.ledger.registerType('doc', 'text');
  return { me, A, B };
}

describe('precheckRun during an ingest step that has not applied its entries yet', () => {
  it('a text insert between a dependency’s characters is unknown, not refused; ok once applied, and ingest accepts it', async () => {
    const { me, A, B } = await textFixture([1, 2, 3], 'abc');
    await B.ledger.put('plain', 1); // B:1, no deps
    await B.ledger.transact((d) => d.getText('doc').insert(1, 'X')); // B:2 between A's a and b
    const run = B.log.filter((h) => toHex(h.entry.author) === toHex(B.keys.publicKey));
    expect(run.map((h) => [h.entry.seq, h.entry.deps.length])).toEqual([
      [1, 0],
      [2, 1]
    ]);

    // A:1's ingest step holds at its store write: planned into the FeedSet, not applied yet.
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
    const ingesting = me.ledger.ingest(A.log);
    await atStore;
    expect(await me.ledger.precheckRun(run)).toEqual({ verdict: 'unknown', at: 1 });
    expect(await me.ledger.precheck(run[1])).not.toBe('refused');
    release();
    await ingesting;
    expect(await me.ledger.precheckRun(run)).toEqual({ verdict: 'ok', at: 2 });
    const report = await me.ledger.ingest(run);
    expect({ added: report.added, rejected: report.rejected }).toEqual({ added: 2, rejected: [] });
    expect(me.ledger.doc.getText('doc').toString()).toBe('aXbc');
  });
});

describe('precheckRun reads each dependency once per run', () => {
  it('a run of entries naming the same dependency looks its header up once', async () => {
    const { me, A, B } = await textFixture([11, 12, 13], 'abcdef');
    // Each between two of A's characters: every entry names A:1.
    for (let i = 0; i < 5; i++) await B.ledger.transact((d) => d.getText('doc').insert(2 * i + 1, 'X'));
    const run = B.log.filter((h) => toHex(h.entry.author) === toHex(B.keys.publicKey));
    const named = run.flatMap((h) => h.entry.deps.map((d) => `${d.author}:${d.seq}`));
    await me.ledger.ingest(A.log);
    const header = vi.spyOn(me.ledger as unknown as { header: (a: string, s: number) => unknown }, 'header');
    expect(await me.ledger.precheckRun(run)).toEqual({ verdict: 'ok', at: 5 });
    // The head's predecessor (genesis, seq 0) plus each distinct dependency, once.
    expect(header.mock.calls.length).toBe(1 + new Set(named).size);
    expect(named.length).toBeGreaterThan(new Set(named).size); // the same dependency named again
  });
});
