// The ledger's work queue (step-queue.ts): one step at a time; a write step runs before
// replicated steps queued ahead of it, never before a barrier or an earlier write, and never twice
// in a row ahead of replication.
import { describe, expect, it } from 'vitest';
import { StepQueue, type StepKind } from '../../src/lib/core/step-queue.js';
import { mulberry } from '../helpers/ledger-nodes.js';

const KINDS: StepKind[] = ['replicated', 'write', 'barrier'];

/** Queues `kinds` as steps named by index; returns the order they ran in once all settled. */
async function runOrder(kinds: StepKind[], q = new StepQueue()): Promise<number[]> {
  const ran: number[] = [];
  await Promise.all(kinds.map((k, i) => q.push(k, async () => void ran.push(i))));
  return ran;
}

describe('StepQueue', () => {
  it('runs steps one at a time, first come first served while no write waits behind replication', async () => {
    const q = new StepQueue();
    let active = 0;
    let most = 0;
    const ran: number[] = [];
    const step = (i: number) => async () => {
      active++;
      most = Math.max(most, active);
      await new Promise((r) => setTimeout(r, 1));
      ran.push(i);
      active--;
    };
    await Promise.all(
      ['replicated', 'barrier', 'write', 'replicated', 'replicated'].map((k, i) => q.push(k as StepKind, step(i)))
    );
    expect(most).toBe(1);
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    expect(q.overtaken).toBe(0);
  });

  it('a write runs before the replicated steps queued ahead of it, then the oldest step runs', async () => {
    // 0 runs at once; then 1..3 (replicated) and 4 (write) wait.
    expect(await runOrder(['replicated', 'replicated', 'replicated', 'replicated', 'write'])).toEqual([4, 0, 1, 2, 3]);
  });

  it('never overtakes a barrier or an earlier write', async () => {
    expect(await runOrder(['replicated', 'barrier', 'write'])).toEqual([0, 1, 2]);
    expect(await runOrder(['replicated', 'replicated', 'barrier', 'write'])).toEqual([0, 1, 2, 3]);
    // Writes keep their order: the first write overtakes, the second waits behind the oldest.
    expect(await runOrder(['replicated', 'write', 'replicated', 'write'])).toEqual([1, 0, 3, 2]);
  });

  it('a write that was first in line counts: the next write waits for the replicated step behind it', async () => {
    const q = new StepQueue();
    const ran: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const steps: Promise<unknown>[] = [];
    steps.push(
      q.push('replicated', async () => {
        ran.push('r0');
        await gate;
      })
    );
    while (ran.length === 0) await new Promise((r) => setImmediate(r)); // r0 runs
    steps.push(
      q.push('write', async () => {
        ran.push('wa');
        steps.push(q.push('write', async () => void ran.push('wb'))); // requested while wa runs
      })
    );
    steps.push(q.push('replicated', async () => void ran.push('r1')));
    release();
    while (ran.length < 4) await Promise.all([...steps]);
    expect(ran).toEqual(['r0', 'wa', 'r1', 'wb']);
  });

  it('never starts a step synchronously, and a step that throws synchronously rejects only its caller', async () => {
    const q = new StepQueue();
    let started = false;
    const p = q.push('barrier', async () => void (started = true));
    expect(started).toBe(false);
    const bad = q.push('barrier', (() => {
      throw new Error('boom');
    }) as () => Promise<void>);
    const after = q.push('barrier', async () => 7);
    await p;
    await expect(bad).rejects.toThrow('boom');
    expect(await after).toBe(7);
  });

  it('a failing pause before a step does not stop the queue', async () => {
    let n = 0;
    const q = new StepQueue(() => {
      if (n++ % 2 === 0) throw new Error('pause failed');
    });
    expect(await runOrder(['barrier', 'write', 'replicated'], q)).toEqual([0, 1, 2]);
  });

  it('seeded: every step runs once; barriers and writes keep their order; writes get ahead; no write follows a write while older replication waits', async () => {
    const seed = Number(process.env.SEED ?? 20261203);
    console.log(`SEED=${seed}`);
    const rand = mulberry(seed);
    let overtakes = 0;
    for (let round = 0; round < 200; round++) {
      const q = new StepQueue();
      const kinds: StepKind[] = [];
      const ran: number[] = [];
      const all: Promise<void>[] = [];
      const waiting = new Set<number>();
      /** Per step run: a replicated step queued before it was still waiting when it started. */
      const olderReplicationWaiting: boolean[] = [];
      // Steps arrive before the queue starts and while steps run (each step may add more).
      const add = () => {
        const i = kinds.length;
        const k = KINDS[Math.floor(rand() * 3)]!;
        kinds.push(k);
        waiting.add(i);
        all.push(
          q.push(k, async () => {
            waiting.delete(i);
            olderReplicationWaiting.push([...waiting].some((j) => j < i && kinds[j] === 'replicated'));
            ran.push(i);
            if (kinds.length < 40 && rand() < 0.7) add();
            if (rand() < 0.3) await new Promise((r) => setImmediate(r));
          })
        );
      };
      for (let i = 0, n = 1 + Math.floor(rand() * 10); i < n; i++) add();
      while (ran.length < kinds.length) await Promise.all([...all]);
      const where = new Map(ran.map((s, pos) => [s, pos]));
      expect(new Set(ran).size, `seed ${seed} round ${round}`).toBe(kinds.length);
      for (let a = 0; a < kinds.length; a++)
        for (let b = a + 1; b < kinds.length; b++) {
          const ordered = where.get(a)! < where.get(b)!;
          // Nothing passes a barrier either way; writes keep their order, and so does replication.
          if (kinds[a] === 'barrier' || kinds[b] === 'barrier')
            expect(ordered, `round ${round}: ${a} before ${b}`).toBe(true);
          if (kinds[a] !== 'replicated' && kinds[b] !== 'replicated') expect(ordered).toBe(true);
          if (kinds[a] === 'replicated' && kinds[b] === 'replicated') expect(ordered).toBe(true);
        }
      // Only writes get ahead, and never right after a write: replication gets every other step.
      for (let pos = 0; pos < ran.length; pos++) {
        if (!olderReplicationWaiting[pos]) continue;
        expect(kinds[ran[pos]!], `round ${round}: step ${ran[pos]} ran ahead`).toBe('write');
        expect(pos > 0 && kinds[ran[pos - 1]!] === 'write', `round ${round}: two writes in a row at ${pos}`).toBe(
          false
        );
      }
      overtakes += q.overtaken;
      expect(q.overtaken).toBe(olderReplicationWaiting.filter(Boolean).length);
    }
    expect(overtakes).toBeGreaterThan(50); // the rule is exercised, not only first-come order
  });
});
