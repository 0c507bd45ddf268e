// LoopSlicer (core/loop-slice.ts) and the ledger queue that uses it: work that chains in
// microtasks only (memory store, synchronous crypto) must still give the event loop ticks.
import { describe, expect, it } from 'vitest';
import { setSyncSigner, setSyncVerifier } from '../../src/lib/core/ed25519.js';
import { LoopSlicer } from '../../src/lib/core/loop-slice.js';
import { installNodeEd25519 } from '../../src/lib/platform/node-ed25519.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('LoopSlicer', () => {
  it('yields only after sliceMs with no macrotask tick; a tick seen meanwhile starts a new slice', async () => {
    let t = 0;
    // Macrotasks by hand: each macro() call waits until release() runs the pending ones.
    let pending: (() => void)[] = [];
    let yields = 0;
    const release = async (): Promise<void> => {
      const run = pending;
      pending = [];
      for (const r of run) r();
      await Promise.resolve();
    };
    const s = new LoopSlicer(
      10,
      () => t,
      () => new Promise<void>((r) => pending.push(r))
    );
    expect(s.beforeStep()).toBeUndefined(); // first work: a slice starts (its probe is pending)
    t = 5;
    expect(s.beforeStep()).toBeUndefined(); // 5 ms without a tick: go on
    t = 12;
    const y = s.beforeStep(); // 12 ms without a tick: yield
    expect(y).toBeInstanceOf(Promise);
    void y!.then(() => void yields++);
    await release(); // the tick comes: the probe and the yield resolve
    await Promise.resolve();
    expect(yields).toBe(1);
    // The loop had ticks on its own (e.g. IndexedDB events): no yield however long the work.
    t = 13;
    expect(s.beforeStep()).toBeUndefined(); // a new slice started after the yield; probe pending
    await release(); // a tick happened (the probe came back)
    t = 100;
    expect(s.beforeStep()).toBeUndefined(); // the tick was seen: a fresh slice, no yield
  });
});

describe('ledger queue slices', () => {
  it('a long run of queue steps on the memory store lets a timer run in between', async () => {
    // As in the relay and Node peers: signatures synchronous, so nothing else yields.
    installNodeEd25519();
    const { ledger } = await openLedger(memoryLocation(), 151, { compactEvery: 0 });
    try {
      // One write after another: each its own queue step, every step resolving in microtasks.
      let doneAtTimer = -1;
      let done = 0;
      setTimeout(() => (doneAtTimer = done), 0);
      for (; done < 300; done++) await ledger.put(`k${done}`, done);
      // The timer ran before the last write (it would run only after them, without slices).
      expect(doneAtTimer).toBeGreaterThanOrEqual(0);
      expect(doneAtTimer).toBeLessThan(300);
    } finally {
      await ledger.close();
      setSyncSigner(undefined);
      setSyncVerifier(undefined);
    }
  });
});
