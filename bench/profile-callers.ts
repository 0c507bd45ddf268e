// Prints who calls a function in a V8 .cpuprofile: the call chains (innermost caller first) under
// which `name` spent its self time, as a share of all samples. For a native function that
// profile-top.ts shows high (e.g. `send`, `importKey`), this says whose work it is.
// Run: npx tsx bench/profile-callers.ts <file.cpuprofile> <functionName> [top] [depth]
import { readFileSync } from 'node:fs';
import type { CpuProfile } from './browser/worker-cdp.js';

const [file, name] = process.argv.slice(2);
if (file === undefined || name === undefined)
  throw new Error('usage: profile-callers.ts <file.cpuprofile> <functionName> [top] [depth]');
const top = Number(process.argv[4] ?? 6);
const depth = Number(process.argv[5] ?? 8);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const hits = new Map<number, number>();
for (const s of profile.samples ?? []) hits.set(s, (hits.get(s) ?? 0) + 1);
const total = Math.max(1, profile.samples?.length ?? 0);

const chains = new Map<string, number>();
for (const n of profile.nodes) {
  const h = hits.get(n.id) ?? 0;
  if (n.callFrame.functionName !== name || h === 0) continue;
  const chain: string[] = [];
  for (let at = parent.get(n.id); at !== undefined && chain.length < depth; at = parent.get(at)) {
    const f = byId.get(at)!.callFrame;
    chain.push(`${f.functionName || '(anonymous)'} (${f.url.split('/').pop()}:${f.lineNumber + 1})`);
  }
  const key = chain.join(' < ');
  chains.set(key, (chains.get(key) ?? 0) + h);
}
for (const [chain, h] of [...chains].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${((100 * h) / total).toFixed(1)}% ${name} < ${chain}`);
