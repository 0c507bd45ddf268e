// Reconciliation benchmark: the Merkle exchange (src/lib/core/sync) against a naive exchange of
// every head, a Yjs-style state vector (author, seq), rateless IBLT (@peerbit/riblt) and
// negentropy (@nostr-dev-kit/sync), side by side in one run. Bytes are the encoded messages each
// way; round trips count begin/reply as the first. Merkle CPU is the comparison alone (both trees
// are built and maintained incrementally beforehand; their build cost is printed separately),
// encoding and decoding every message included; each exchange draws fresh salts (a node syncs
// every 30 s, so its code is warm); its first, cold run is printed as `cold` (it is one of the
// runs). The IBLT and negentropy load their n items each run (uncached). Every method of a row
// runs the same number of times (repsFor: 5 at n ≤ 100k and d ≤ 1,000, 3 at d = 10,000; at n = 1M
// the comparators once), shown in the `runs` column: CPU is printed as the median and p99 of the
// runs (nearest-rank: with so few runs the p99 is the largest); bytes and round trips as the
// median, with the largest in parentheses when the runs differed. Every time is the process's
// CPU time (process.cpuUsage: user + system, GC threads included), not wall-clock, so a loaded
// machine does not inflate it.
// Kinds of difference: `scattered` — d feeds picked at random across the write history advanced
// by one entry on B; `tail` — the d most recently written feeds advanced by one entry on B.
// Usage: npx tsx bench/reconcile.ts (or npm run bench). BENCH_1M=1 adds n = 1,000,000 (about
// 2.7 GB and 16 minutes); BENCH_N=1000000 BENCH_D=0,1 picks sizes and difference counts;
// BENCH_MERKLE_ONLY=1 skips the comparators.
// Every run's `found` is checked against the d feeds that differ: a method that found fewer (or
// more) in any run is marked INCOMPLETE in its row, and once the table is printed the bench throws (in `npm
// run bench` row 2 is then NOT RUN, listed under `nodeNotRun`, exit 1): its bytes are not the cost
// of reconciling the sets.
// Never a test: it prints a table and exits non-zero only when it could not run (in full).
import * as encoding from 'lib0/encoding';
import { HeadsTree } from '../src/lib/core/sync/merkle.js';
import { Exchange } from '../src/lib/core/sync/reconcile.js';
import { decodeSyncMessage, encodeSyncMessage } from '../src/lib/core/sync/codec.js';
import type { CompareMsg, ReplyMsg } from '../src/lib/core/sync/messages.js';
import type { FeedHead } from '../src/lib/core/types.js';
import { fromHex, toHex } from '../src/lib/core/bytes.js';
import {
  bytesRatioCell,
  cpuNow,
  foundRunsCell,
  loadPeers,
  missingComparators,
  negentropyRow,
  repsFor,
  ribltRow,
  summarizeRuns,
  symbolOf,
  type Row,
  type RowRuns
} from './reconcile-peers.js';
import { medianMaxCell } from './runs.js';
import { mulberry32 } from '../test/helpers/fake-feed.js';
import { envFlag } from './knobs.js';

const rand = mulberry32(42);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
const head = (): FeedHead => ({
  author: toHex(bytes(32)),
  seq: 1 + Math.floor(rand() * 10_000),
  hash: toHex(bytes(32))
});

/** Runs `once` `reps` times (in a row, so its code is warm after the first); null when the method is not loaded. */
async function repeat(reps: number, d: number, once: () => Row | null | Promise<Row | null>): Promise<RowRuns | null> {
  const runs: Row[] = [];
  for (let i = 0; i < reps; i++) {
    const r = await once();
    if (!r) return null;
    runs.push(r);
  }
  return summarizeRuns(runs, d);
}

/** The Merkle exchange, each run under new salts (every run must find the d differences). */
function merkle(ta: HeadsTree, tb: HeadsTree, eager: boolean, n: number, d: number): RowRuns {
  const runs = Array.from({ length: repsFor(n, d, 'merkle') }, () => merkleOnce(ta, tb, eager));
  return { ...summarizeRuns(runs, d), coldMs: runs[0].cpuMs };
}

function merkleOnce(ta: HeadsTree, tb: HeadsTree, eager: boolean): Row {
  const opts = { random: bytes, now: () => 0 };
  const t0 = cpuNow();
  let aToB = 0;
  let bToA = 0;
  let msgs = 2;
  const helloSalt = bytes(16);
  const { exchange: xa, begin } = Exchange.initiate(ta, 1, helloSalt, opts, eager);
  const beginBytes = encodeSyncMessage(begin);
  aToB += beginBytes.length;
  const { exchange: xb, reply } = Exchange.respond(tb, decodeSyncMessage(beginBytes) as typeof begin, helloSalt, opts);
  const replyBytes = encodeSyncMessage(reply);
  let lastWithNodes = reply.nodes.length > 0 ? 2 : 1;
  bToA += replyBytes.length;
  let next: ReplyMsg | CompareMsg | null = decodeSyncMessage(replyBytes) as ReplyMsg;
  let toA = true;
  while (next) {
    const out: CompareMsg | null = (toA ? xa : xb).receive(next);
    if (!out) break;
    const b = encodeSyncMessage(out);
    if (toA) aToB += b.length;
    else bToA += b.length;
    msgs++;
    if (out.nodes.length > 0) lastWithNodes = msgs;
    next = decodeSyncMessage(b) as CompareMsg;
    toA = !toA;
  }
  const cpuMs = cpuNow() - t0;
  // Round trips until both sides know every difference: messages up to the last one carrying
  // nodes (a trailing empty `end` step only closes the exchange), two per round trip.
  const rtts = Math.ceil(lastWithNodes / 2);
  return { method: eager ? 'merkle' : 'merkle (lazy begin)', aToB, bToA, rtts, cpuMs, found: xa.differences().length };
}

function fullList(heads: FeedHead[], withHash: boolean): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, heads.length);
  for (const h of heads) {
    encoding.writeUint8Array(enc, fromHex(h.author));
    encoding.writeVarUint(enc, h.seq);
    if (withHash) encoding.writeUint8Array(enc, fromHex(h.hash));
  }
  return encoding.toUint8Array(enc);
}

/** Both sides send every head (or every (author, seq) for the state vector) and diff locally. */
function listExchange(a: FeedHead[], b: FeedHead[], withHash: boolean): Row {
  const t0 = cpuNow();
  const ea = fullList(a, withHash);
  const eb = fullList(b, withHash);
  const mine = new Map(a.map((h) => [h.author, h]));
  let found = 0;
  const seen = new Set<string>();
  for (const h of b) {
    seen.add(h.author);
    const m = mine.get(h.author);
    if (!m || m.seq !== h.seq || (withHash && m.hash !== h.hash)) found++;
  }
  for (const h of a) if (!seen.has(h.author)) found++;
  const cpuMs = cpuNow() - t0;
  return { method: withHash ? 'naive heads' : 'state vector', aToB: ea.length, bToA: eb.length, rtts: 1, cpuMs, found };
}

function fmtBytes(n: number): string {
  return n < 10_000 ? `${n} B` : n < 10_000_000 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
}

const list = (v: string | undefined) => v?.split(',').map(Number);
const sizes = list(process.env.BENCH_N) ?? [10_000, 100_000, ...(envFlag(process.env.BENCH_1M) ? [1_000_000] : [])];
const diffs = list(process.env.BENCH_D) ?? [0, 1, 100, 10_000];
/** BENCH_MERKLE_ONLY=1: skip the comparators (for profiling the Merkle exchange alone). */
const merkleOnly = process.env.BENCH_MERKLE_ONLY === '1';
const loaded = await loadPeers();
console.log(
  `rateless IBLT (@peerbit/riblt): ${loaded.riblt ? 'loaded' : 'NOT loaded'}; negentropy (@nostr-dev-kit/sync): ${loaded.negentropy ? 'loaded' : 'NOT loaded'}\n`
);
const incomplete: string[] = [];
console.log(
  'runs: every method of a row runs that many times (5 at n ≤ 100k and d ≤ 1,000; 3 at d = 10,000; at n = 1M the comparators once). ' +
    'A→B, B→A, round trips: the median over the runs, with the largest in parentheses where the runs differed. ' +
    'CPU ms: median and p99 over the runs (p99 of so few runs is their largest); Merkle’s first (cold) run is one of them. ' +
    'found: every run must find the d differing feeds (INCOMPLETE otherwise). Ratio: of the median bytes.\n'
);
console.log(
  '| n | d | kind | method | runs | A→B | B→A | round trips | CPU ms median | CPU ms p99 | found | ratio: Merkle bytes ÷ this method’s (lower is better for us) |'
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const n of sizes) {
  // base[i] was last written at time i: the tail of the array is the most recently written.
  const base = Array.from({ length: n }, head);
  const baseTime = base.map((_, i) => i);
  const baseSym = base.map(symbolOf);
  const tb0 = cpuNow();
  const ta = HeadsTree.from(base);
  ta.rootHash();
  const build = cpuNow() - tb0;
  const tb = HeadsTree.from(base);
  tb.rootHash();
  // Incremental maintenance: one head change plus reading the root again.
  const tu0 = cpuNow();
  for (let i = 0; i < 1000; i++) {
    ta.set({ ...base[i], seq: base[i].seq + 1 });
    ta.rootHash();
  }
  const perUpdate = (cpuNow() - tu0) / 1000;
  for (let i = 0; i < 1000; i++) ta.set(base[i]);
  ta.rootHash();
  console.log(
    `n=${n}: Merkle tree build ${build.toFixed(0)} ms, incremental update + root ${(perUpdate * 1000).toFixed(1)} µs\n`
  );
  for (const d of diffs) {
    if (d > n) continue;
    for (const kind of ['scattered', 'tail'] as const) {
      if (d === 0 && kind === 'tail') continue;
      const b = [...base];
      const bTime = [...baseTime];
      const bSym = [...baseSym];
      const picked = new Set<number>();
      if (kind === 'tail') for (let i = n - d; i < n; i++) picked.add(i);
      else while (picked.size < d) picked.add(Math.floor(rand() * n));
      let t = n;
      for (const j of picked) {
        b[j] = { ...b[j], seq: b[j].seq + 1, hash: toHex(bytes(32)) };
        bTime[j] = t++;
        bSym[j] = symbolOf(b[j]);
        tb.set(b[j]);
      }
      tb.rootHash();
      const reps = repsFor(n, d, 'comparator');
      const rows: (RowRuns | null)[] = [
        ...(d === 0 ? [merkle(ta, tb, false, n, d)] : []),
        merkle(ta, tb, true, n, d),
        ...(merkleOnly
          ? []
          : [
              await repeat(reps, d, () => listExchange(base, b, true)),
              await repeat(reps, d, () => listExchange(base, b, false)),
              await repeat(reps, d, () => ribltRow(base, b, baseSym, bSym)),
              await repeat(reps, d, () => negentropyRow(base, b, baseTime, bTime))
            ])
      ];
      const eager = rows.find((r) => r?.method === 'merkle') ?? undefined;
      for (const r of rows) {
        if (!r) continue;
        if (r.short > 0)
          incomplete.push(`n=${n} d=${d} ${kind} ${r.method}: found ${r.found} (${r.short} of ${r.runs} runs)`);
        const cold = r.coldMs === undefined ? '' : ` (cold ${r.coldMs.toFixed(1)})`;
        console.log(
          `| ${n} | ${d} | ${kind} | ${r.method} | ${r.runs} | ${medianMaxCell(r.bytesAToB, fmtBytes)} | ${medianMaxCell(r.bytesBToA, fmtBytes)} | ${medianMaxCell(r.roundTrips)} | ${r.cpu.median.toFixed(1)}${cold} | ${r.cpu.p99.toFixed(1)} | ${foundRunsCell(r, d)} | ${bytesRatioCell(eager, r, d)} |`
        );
      }
      // Restore B to the base set, incrementally.
      for (const j of picked) tb.set(base[j]);
    }
  }
}
const missing = missingComparators(loaded, merkleOnly);
if (incomplete.length > 0 || missing.length > 0)
  throw new Error(
    [
      ...(incomplete.length > 0
        ? [`methods that did not find every differing feed (rows marked INCOMPLETE): ${incomplete.join('; ')}`]
        : []),
      ...(missing.length > 0 ? [`comparators that could not load (their rows are missing): ${missing.join('; ')}`] : [])
    ].join('. ')
  );
