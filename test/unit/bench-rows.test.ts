// The browser bench's row runner (bench/browser/rows.ts): a row that throws is recorded as not
// run and printed, and the rows after it still run (before, the first throw ended the bench
// without writing its results file).
import { describe, expect, it } from 'vitest';
import { RowRunner } from '../../bench/browser/rows.js';

describe('bench RowRunner', () => {
  it('records a throwing row as not run and still runs the next one', async () => {
    const printed: string[] = [];
    const runner = new RowRunner((l) => printed.push(l));
    const ran: string[] = [];
    const first = await runner.run('row 3', async () => {
      ran.push('row 3');
      throw new Error('page crashed');
    });
    const second = await runner.run('row 4', async () => {
      ran.push('row 4');
    });
    expect([first, second]).toEqual([false, true]);
    expect(ran).toEqual(['row 3', 'row 4']);
    expect(runner.failures).toHaveLength(1);
    expect(runner.failures[0].row).toBe('row 3');
    expect(runner.failures[0].error).toContain('page crashed');
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^## row 3: NOT RUN \(it threw or timed out\): .*page crashed/);
  });

  it('records a non-Error throw by its text', async () => {
    const runner = new RowRunner(() => undefined);
    expect(await runner.run('row 7', () => Promise.reject('timeout'))).toBe(false);
    expect(runner.failures).toEqual([{ row: 'row 7', error: 'timeout' }]);
  });

  it('gives up a row that hangs (timed out, recorded as not run) and still runs the next one', async () => {
    const runner = new RowRunner(() => undefined, 50, 50);
    const hung = await runner.run('row 5', () => new Promise<void>(() => undefined));
    const next = await runner.run('row 7', async () => undefined);
    expect([hung, next]).toEqual([false, true]);
    expect(runner.failures).toHaveLength(1);
    expect(runner.failures[0]).toMatchObject({ row: 'row 5' });
    expect(runner.failures[0].error).toMatch(/RowTimeoutError: still running after 50 ms/);
  });
});

// A row over its time used to be raced, not stopped: it kept running, and what it produced later
// still reached the tables of the results file. Now its signal aborts, its cleanups (its browser
// contexts) run, and what it keeps is applied only if it completed in time.
describe('bench RowRunner: output and stopping', () => {
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('applies what a row kept, in order, only once it completed', async () => {
    const tables: string[] = [];
    const runner = new RowRunner((l) => tables.push(l));
    const ok = await runner.run('row 3', async (row) => {
      row.keep(() => tables.push('batch 1'));
      expect(tables).toEqual([]);
      row.keep(() => tables.push('batch 100'));
    });
    expect(ok).toBe(true);
    expect(tables).toEqual(['batch 1', 'batch 100']);
  });

  it('drops what a throwing row kept: only its NOT RUN line', async () => {
    const tables: string[] = [];
    const runner = new RowRunner((l) => tables.push(l));
    let cleaned = 0;
    await runner.run('row 3', async (row) => {
      row.onAbort(() => cleaned++);
      row.keep(() => tables.push('batch 1'));
      throw new Error('page crashed');
    });
    expect(tables).toHaveLength(1);
    expect(tables[0]).toMatch(/^## row 3: NOT RUN/);
    expect(cleaned).toBe(1);
  });

  it('stops a row over its time: signal aborted, contexts closed, its later output never applied', async () => {
    const tables: string[] = [];
    const runner = new RowRunner((l) => tables.push(l), 30, 1000);
    let signal: AbortSignal | undefined;
    let closed = 0;
    let emitted = false;
    let release: () => void = () => undefined;
    const hung = await runner.run('row 5', async (row) => {
      signal = row.signal;
      row.onAbort(() => {
        closed++;
        // Closing its context makes the row's pending page work reject (as Playwright does).
        release();
      });
      await new Promise<void>((resolve) => (release = resolve));
      // It still tries to report, after the runner gave it up.
      row.keep(() => tables.push('## Row 5 table: 12.0× (met)'));
      emitted = true;
    });
    expect(hung).toBe(false);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toMatchObject({ name: 'RowTimeoutError' });
    expect(closed).toBe(1);
    // The runner waited for the row to stop before going on.
    expect(emitted).toBe(true);
    await runner.run('row 1', async (row) => row.keep(() => tables.push('row 1 table')));
    await tick(20);
    expect(tables).toHaveLength(2);
    expect(tables[0]).toMatch(/^## row 5: NOT RUN \(it threw or timed out\): RowTimeoutError/);
    expect(tables[1]).toBe('row 1 table');
    expect(runner.failures.map((f) => f.row)).toEqual(['row 5']);
  });

  it('gives up waiting for a row that ignores its signal, and still drops its output', async () => {
    const tables: string[] = [];
    const runner = new RowRunner((l) => tables.push(l), 20, 40);
    let keepLater: (() => void) | undefined;
    const hung = await runner.run('row 7', async (row) => {
      keepLater = () => row.keep(() => tables.push('late table'));
      await new Promise<void>(() => undefined);
    });
    expect(hung).toBe(false);
    keepLater?.();
    await tick(20);
    expect(tables).toEqual([expect.stringMatching(/^## row 7: NOT RUN/)]);
  });

  it('keeps the output of a row that could not measure everything, and records it as failed', async () => {
    const tables: string[] = [];
    const runner = new RowRunner((l) => tables.push(l));
    const ok = await runner.run('row 5', async (row) => {
      row.keep(() => tables.push('row 5 table with —'));
      row.fail('the replaying device did not catch up');
    });
    expect(ok).toBe(false);
    expect(tables).toEqual([
      'row 5 table with —',
      expect.stringMatching(/^## row 5: FAILED .*: the replaying device did not catch up$/)
    ]);
    expect(runner.failures).toEqual([{ row: 'row 5', error: 'the replaying device did not catch up', partial: true }]);
  });
});
