// Break-it review (2026-12-04): tagged writes that never settle.
import { describe, expect, it } from 'vitest';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const settled = (p: Promise<unknown>, ms = 1500) =>
  Promise.race([
    p.then(
      () => 'resolved',
      (e: Error) => `rejected:${e.name}`
    ),
    new Promise((r) => setTimeout(() => r('PENDING'), ms))
  ]);

describe('s25b tagged writes never settling', () => {
  it('control: an untagged put followed by a direct doc write settles', async () => {
    const t = await openLedger(memoryLocation(new MemoryDisk()), 1, { compactEvery: 0 });
    const p = t.ledger.put('k', 1);
    t.ledger.doc.getText('t').insert(0, 'x');
    expect(await settled(p)).toBe('resolved');
    await t.ledger.close();
  });

  it('a tagged put followed (same tick) by a direct doc write settles', async () => {
    const t = await openLedger(memoryLocation(new MemoryDisk()), 1, { compactEvery: 0 });
    const p = t.ledger.put('k', 1, { tag: 'tab:1' });
    t.ledger.doc.getText('t').insert(0, 'x');
    const r = await settled(p);
    console.log('tagged put + direct write:', r, 'get(k)=', t.ledger.get('k'), 'entries', t.ledger.stats().entries);
    expect(r).toBe('resolved');
    await t.ledger.close();
  });

  it('two tagged writes with one tag in one group, the first refused: the second settles', async () => {
    const t = await openLedger(memoryLocation(new MemoryDisk()), 1, { compactEvery: 0 });
    const a = t.ledger.put('', 1, { tag: 'tab:2' }); // invalid key: refused
    const b = t.ledger.put('', 1, { tag: 'tab:2', retry: true });
    const ra = await settled(a);
    const rb = await settled(b);
    console.log('twin refused:', ra, rb);
    expect(ra).toMatch(/^rejected/);
    expect(rb).toMatch(/^rejected/);
    await t.ledger.close();
  });

  it('two tagged puts with one tag, the second a valid retry while the first is refused by the own void feed', async () => {
    const N = await openLedger(memoryLocation(), 1, { compactEvery: 0 });
    const twin = await openLedger(memoryLocation(), 1, { compactEvery: 0 });
    await N.ledger.put('a', 1);
    await twin.ledger.put('a', 2);
    await N.ledger.ingest(twin.log);
    const a = N.ledger.put('k', 1, { tag: 'tab:3' });
    const b = N.ledger.put('k', 1, { tag: 'tab:3', retry: true });
    const ra = await settled(a);
    const rb = await settled(b);
    console.log('void twin:', ra, rb);
    expect(rb).toMatch(/^rejected/);
    await N.ledger.close();
  });
});
