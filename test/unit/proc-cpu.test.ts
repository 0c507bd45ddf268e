// The CPU counters S10 reports (test/helpers/proc-cpu.ts): a child process that burns a known
// amount of CPU time is charged with at least that much, under its kind, and the machine with
// at least as much; other processes stay out. Counted in CPU time, not wall time, so a loaded
// machine only makes the test slower.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coresBetween, cpuSnapshot, usedBetween } from '../helpers/proc-cpu.js';

/** CPU time the child burns before it exits, ms (by its own process.cpuUsage). */
const BURN_MS = 400;

describe.runIf(existsSync('/proc/stat'))('proc-cpu', () => {
  it('charges a busy child with the CPU time it used, and the machine with at least as much', async () => {
    const child = spawn(process.execPath, [
      '-e',
      `process.stdin.once('data', () => { const t = process.cpuUsage(); while ((process.cpuUsage(t).user + process.cpuUsage(t).system) / 1000 < ${BURN_MS}); process.stdout.write('done'); process.stdin.once('data', () => process.exit(0)); });`
    ]);
    const kindOf = (pid: number) => (pid === child.pid ? 'burner' : null);
    const spawned = new Promise((r) => child.once('spawn', r));
    await spawned;
    const a = cpuSnapshot(kindOf)!;
    const burnt = new Promise((r) => child.stdout.once('data', r));
    child.stdin.write('go\n');
    await burnt;
    const b = cpuSnapshot(kindOf)!; // taken while the child still lives (it waits for a second line)
    child.stdin.write('exit\n');
    await new Promise((r) => child.once('exit', r));
    const used = usedBetween(a, b);
    expect(used.get('burner')).toBeGreaterThanOrEqual((BURN_MS - 20) / 1000); // ticks of 10 ms, rounded
    expect(used.get('machine')).toBeGreaterThanOrEqual(used.get('burner')! - 0.02);
    expect([...used.keys()].sort()).toEqual(['burner', 'machine']);
    const cores = coresBetween(a, b);
    expect(cores.get('burner')).toBeGreaterThan(0);
  });
});
