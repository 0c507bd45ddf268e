// Writes bench/results/<date>-<commit>.json: every row, the Node benches' printed output and the
// machine (cores, versions, load average), so runs on different days can be compared.
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
  const commit = commitId();
  const file = join(dir, `${date}-${commit}.json`);
  data.machine.loadAverage.end = loadavg();
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), commit, ...data }, null, 2) + '\n');
  return file;
}
