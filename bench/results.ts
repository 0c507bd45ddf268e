// Writes bench/results/<date>-<commit>.json (the commit the run started at: runCommits): every
// row, the Node benches' printed output and the machine (cores, versions, load average), so runs
// on different days can be compared.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  chromium?: string;
  loadAverage: { start: number[]; end?: number[] };
}

export function commitId(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * The commit a run measured and the one checked out when its results are written. A run takes
 * 10–20 minutes and the main checkout is shared: naming the file after HEAD at the end named it
 * after commits that did not run. `started` is the commit when the run began (BENCH_COMMIT, set by
 * `startCommit`); `commitAtEnd` is kept only when HEAD moved meanwhile (the browser half builds
 * the app when it starts, a few minutes in, so it may then have built a later commit).
 */
export function runCommits(started: string | undefined, headNow: string): { commit: string; commitAtEnd?: string } {
  const commit = started || headNow;
  return commit === headNow ? { commit } : { commit, commitAtEnd: headNow };
}

/**
 * Records the commit this run measures in BENCH_COMMIT (once: the browser half inherits the Node
 * half's), with "-dirty" when tracked files differ from it; returns it.
 */
export function startCommit(): string {
  if (!process.env.BENCH_COMMIT) {
    let dirty = false;
    try {
      dirty =
        execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    } catch {
      // no git: the commit is 'unknown' anyway
    }
    process.env.BENCH_COMMIT = `${commitId()}${dirty ? '-dirty' : ''}`;
  }
  return process.env.BENCH_COMMIT;
}

export function machine(): Machine {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadAverage: { start: loadavg() }
  };
}

/** Writes the results file; returns its path. */
export function writeResults(data: { machine: Machine; [k: string]: unknown }): string {
  const dir = join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  const commits = runCommits(process.env.BENCH_COMMIT, commitId());
  const file = join(dir, `${date}-${commits.commit}.json`);
  data.machine.loadAverage.end = loadavg();
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...commits, ...data }, null, 2) + '\n');
  return file;
}
