// Shares of a V8 .cpuprofile's busy samples (idle excluded) by part of the node, within a time
// window of the profile: each sample goes to the first category whose pattern matches a frame
// of its stack, walking from the root (so a category is charged with everything it calls),
// `gc` to garbage collection, `other` to the rest. Used for S10's simulated nodes (README
// "Reliability", bench/results/soak-2026-12-03e-S10-threads.txt); wall-clock sampling, so a
// starved process's shares are those of its time on the CPU and in the run queue together.
// Run: npx tsx bench/profile-share.ts <file.cpuprofile> [fromS] [toS]
import { readFileSync } from 'node:fs';
import type { CpuProfile } from './browser/worker-cdp.js';

/** Categories in the order they are tried, each a pattern over `functionName@url`. */
const CATEGORIES: readonly [string, RegExp][] = [
  ['discovery outside gossipsub (peer store)', /pubsub-peer-discovery|discovery-feed|peer-store|dialer|announcement/],
  ['gossip', /gossipsub|entry-gossip|gossip-outbox|gossip-origin|gossip-msg/],
  ['sync', /core\/sync\/|sync-driver|on-demand/],
  [
    'status (pushes, digest, clocks)',
    /telemetry|status-digest|clock-status|node-runtime\.ts|clock-sync|time-protocol|network\.ts/
  ],
  ['ledger-write', /prepareWrite|commitGroup|timedPrepare/],
  ['ledger', /core\/ledger|core\/feeds|memory-store|apply-batch|state\//],
  [
    'transport',
    /RTCDataChannel|RTCPeerConnection|abstract-message-stream|muxer|websocket|noise|yamux|stream\.js|receiver\.js|connection\.js/
  ]
];

const [file, fromArg, toArg] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: profile-share.ts <file.cpuprofile> [fromS] [toS]');
const from = Number(fromArg ?? 0);
const to = Number(toArg ?? Infinity);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const categoryOf = new Map<number, string>();
function category(id: number): string {
  const known = categoryOf.get(id);
  if (known !== undefined) return known;
  const stack: string[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const f = byId.get(at)!.callFrame;
    stack.push(`${f.functionName}@${f.url}`);
  }
  stack.reverse();
  const found = stack.map((frame) => CATEGORIES.find(([, re]) => re.test(frame))?.[0]).find((c) => c !== undefined);
  categoryOf.set(id, found ?? 'other');
  return found ?? 'other';
}

const counts = new Map<string, number>();
let busy = 0;
let t = profile.startTime;
const samples = profile.samples ?? [];
for (let i = 0; i < samples.length; i++) {
  t += profile.timeDeltas?.[i] ?? 0;
  const s = (t - profile.startTime) / 1e6;
  if (s < from || s >= to) continue;
  const name = byId.get(samples[i])!.callFrame.functionName;
  if (name === '(idle)') continue;
  busy++;
  const k = name === '(garbage collector)' ? 'gc' : category(samples[i]);
  counts.set(k, (counts.get(k) ?? 0) + 1);
}
console.log(
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([k, c]) => `${k} ${((100 * c) / Math.max(1, busy)).toFixed(0)}%`)
    .join(', ')
);
