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
    const runner = new RowRunner(() => undefined, 50);
    const hung = await runner.run('row 5', () => new Promise<void>(() => undefined));
    const next = await runner.run('row 7', async () => undefined);
    expect([hung, next]).toEqual([false, true]);
    expect(runner.failures).toHaveLength(1);
    expect(runner.failures[0]).toMatchObject({ row: 'row 5' });
    expect(runner.failures[0].error).toMatch(/RowTimeoutError: still running after 50 ms/);
  });
});
