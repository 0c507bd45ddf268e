// LoopSlicer (core/loop-slice.ts) and the ledger queue that uses it: work that chains in
// microtasks only (memory store, synchronous crypto) must still give the event loop turns.
import { describe, expect, it } from 'vitest';
import { setSyncSigner, setSyncVerifier } from '../../src/lib/core/ed25519.js';
import { LoopSlicer } from '../../src/lib/core/loop-slice.js';
import { installNodeEd25519 } from '../../src/lib/platform/node-ed25519.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

describe('LoopSlicer', () => {
  it('goes on at once within a slice, yields after it, and starts a new slice after idle time', async () => {
    let t = 0;
    let turns = 0;
    const s = new LoopSlicer(
      10,
      1,
      () => t,
      async () => void turns++
    );
    expect(s.turn()).toBeUndefined();
    t = 5;
    s.done();
    expect(s.turn()).toBeUndefined(); // 5 ms into the slice, no gap
    t = 12;
    s.done();
    await s.turn(); // 12 ms of chained work: one turn
    expect(turns).toBe(1);
    s.done();
    t = 15;
    expect(s.turn()).toBeUndefined(); // a new slice began at the turn (t = 12)
    t = 40;
    s.done();
    t = 45; // 5 ms idle since the last work
    expect(s.turn()).toBeUndefined();
    expect(turns).toBe(1);
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
