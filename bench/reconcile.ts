// Reconciliation benchmark: the Merkle exchange (src/lib/core/sync) against a naive exchange of
// every head, a Yjs-style state vector (author, seq), rateless IBLT (@peerbit/riblt) and
// negentropy (@nostr-dev-kit/sync), side by side in one run. Bytes are the encoded messages each
// way; round trips count begin/reply as the first. Merkle CPU is the comparison alone (both trees
// are built and maintained incrementally beforehand; their build cost is printed separately),
// encoding and decoding every message included: the median of MERKLE_REPS exchanges with fresh
// salts (a node syncs every 30 s, so its code is warm); the first, cold run is printed as
// `cold`. The IBLT and negentropy load their n items each time (uncached), one run each. Every
// time is the process's CPU time (process.cpuUsage: user + system, GC threads included), not
// wall-clock, so a loaded machine does not inflate it.
// Kinds of difference: `scattered` — d feeds picked at random across the write history advanced
// by one entry on B; `tail` — the d most recently written feeds advanced by one entry on B.
// Usage: npx tsx bench/reconcile.ts (or npm run bench). BENCH_1M=1 adds n = 1,000,000 (about
// 2.7 GB and 16 minutes); BENCH_N=1000000 BENCH_D=0,1 picks sizes and difference counts;
// BENCH_MERKLE_ONLY=1 skips the comparators.
// Every row's `found` is checked against the d feeds that differ: a method that found fewer (or
// more) is marked INCOMPLETE in its row, and once the table is printed the bench throws (in `npm
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
  foundCell,
  loadPeers,
  negentropyRow,
  ribltRow,
  symbolOf,
  type Row
} from './reconcile-peers.js';
import { mulberry32 } from '../test/helpers/fake-feed.js';
import { envFlag } from './knobs.js';

const rand = mulberry32(42);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
const head = (): FeedHead => ({
  author: toHex(bytes(32)),
  seq: 1 + Math.floor(rand() * 10_000),
  hash: toHex(bytes(32))
});

/** Merkle exchanges per row; CPU is their median. */
const MERKLE_REPS = 5;

function merkle(ta: HeadsTree, tb: HeadsTree, eager: boolean, d: number): Row & { coldMs: number } {
  // Large differences take seconds per exchange: one run is enough there.
  const reps = d > 1000 ? 1 : MERKLE_REPS;
  const runs = Array.from({ length: reps }, () => merkleOnce(ta, tb, eager));
  const sorted = runs.map((r) => r.cpuMs).sort((x, y) => x - y);
  // Every run must find the differences (each draws a new salt): the fewest found is the row's.
  const found = Math.min(...runs.map((r) => r.found));
  return { ...runs[0], found, cpuMs: sorted[reps >> 1], coldMs: runs[0].cpuMs };
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
  '| n | d | kind | method | A→B | B→A | round trips | CPU ms | found | ratio: Merkle bytes ÷ this method’s (lower is better for us) |'
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
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
      const rows: ((Row & { coldMs?: number }) | null)[] = [
        ...(d === 0 ? [merkle(ta, tb, false, d)] : []),
        merkle(ta, tb, true, d),
        ...(merkleOnly
          ? []
          : [
              listExchange(base, b, true),
              listExchange(base, b, false),
              ribltRow(base, b, baseSym, bSym),
              await negentropyRow(base, b, baseTime, bTime)
            ])
      ];
      const eager = rows.find((r) => r?.method === 'merkle') ?? undefined;
      for (const r of rows) {
        if (!r) continue;
        if (r.found !== d) incomplete.push(`n=${n} d=${d} ${kind} ${r.method}: found ${r.found}`);
        console.log(
          `| ${n} | ${d} | ${kind} | ${r.method} | ${fmtBytes(r.aToB)} | ${fmtBytes(r.bToA)} | ${r.rtts} | ${r.cpuMs.toFixed(1)}${r.coldMs === undefined ? '' : ` (cold ${r.coldMs.toFixed(1)})`} | ${foundCell(r.found, d)} | ${bytesRatioCell(eager, r, d)} |`
        );
      }
      // Restore B to the base set, incrementally.
      for (const j of picked) tb.set(base[j]);
    }
  }
}
if (incomplete.length > 0)
  throw new Error(`methods that did not find every differing feed (rows marked INCOMPLETE): ${incomplete.join('; ')}`);
