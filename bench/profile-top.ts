// Prints the top functions of a V8 .cpuprofile (from `node --cpu-prof` or CDP) by self and by
// total time, as the browser bench summarises the worker's profile.
// Run: npx tsx bench/profile-top.ts <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';
import { topSelf, topTotal, type CpuProfile } from './browser/worker-cdp.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: profile-top.ts <file.cpuprofile> [top]');
const top = Number(process.argv[3] ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
console.log(topSelf(profile, top).join('\n'));
console.log();
console.log(topTotal(profile, top).join('\n'));
