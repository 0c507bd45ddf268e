// CPU time from Linux's /proc, for the load scenario's report (S10): how busy the machine was and
// which processes took the cores, between two snapshots. The machine's figure is every CPU's
// non-idle time (/proc/stat); the others sum user + system time of the threads of matching
// processes (/proc/PID/task/TID/stat), classified by `kindOf`. Not Linux (no /proc): null.
// bench/cpu-sample.py samples the same counters every second for diagnosis.
import { readdirSync, readFileSync } from 'node:fs';

/** A thread's kind for the report, or null to leave it out. */
export type ThreadKind = (pid: number, cmdline: string, thread: string) => string | null;

export interface CpuSnapshot {
  /** performance.now() when taken (just before the counters are read), ms. */
  at: number;
  /** Non-idle CPU time of the whole machine, s. */
  machine: number;
  /** CPU time per thread (`pid/tid`) of a kind, s. */
  threads: Map<string, { kind: string; s: number }>;
}

/** Clock ticks per second of /proc's counters (USER_HZ: 100 on Linux whatever the kernel's HZ). */
const TICKS_PER_S = 100;

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process or thread ended meanwhile
  }
}

/** Non-idle ticks of all CPUs: user, nice, system, irq, softirq, steal (not idle, iowait). */
function machineTicks(): number | null {
  const line = read('/proc/stat')?.split('\n')[0];
  if (line === undefined || !line.startsWith('cpu ')) return null;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
}

/** The current counters, or null without /proc. */
export function cpuSnapshot(kindOf: ThreadKind): CpuSnapshot | null {
  // Taken with the machine's counter, before the scan (which can take a while on a busy machine).
  const at = performance.now();
  const machine = machineTicks();
  if (machine === null) return null;
  const threads = new Map<string, { kind: string; s: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = read(`/proc/${name}/cmdline`)?.replaceAll('\0', ' ');
    if (cmdline === undefined) continue;
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${name}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const stat = read(`/proc/${name}/task/${tid}/stat`);
      if (stat === null) continue;
      // The thread's name sits in parentheses and may itself hold spaces or parentheses.
      const thread = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const kind = kindOf(Number(name), cmdline, thread);
      if (kind === null) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(`${name}/${tid}`, { kind, s: (Number(f[11]) + Number(f[12])) / TICKS_PER_S });
    }
  }
  return { at, machine: machine / TICKS_PER_S, threads };
}

/**
 * CPU seconds used between two snapshots: the machine's (`machine`) and each kind's. A thread that
 * ended between them is missing from the second and left out; one started between them counts
 * from 0.
 */
export function usedBetween(a: CpuSnapshot, b: CpuSnapshot): Map<string, number> {
  const used = new Map<string, number>([['machine', b.machine - a.machine]]);
  for (const [id, t] of b.threads) used.set(t.kind, (used.get(t.kind) ?? 0) + t.s - (a.threads.get(id)?.s ?? 0));
  return used;
}

/** usedBetween per wall second (cores), two decimals. */
export function coresBetween(a: CpuSnapshot, b: CpuSnapshot): Map<string, number> {
  const wall = (b.at - a.at) / 1000;
  return new Map([...usedBetween(a, b)].map(([kind, s]) => [kind, +(s / wall).toFixed(2)]));
}
