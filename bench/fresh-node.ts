// A fresh node (no heads) compared with a node holding n feeds: the Merkle exchange alone, both
// ways round (the fresh node begins, or the full node begins), over encoded messages. Prints the
// bytes each way, messages, the largest step, CPU ms of the whole exchange (both sides, encoding
// included) and the most heads the full side held queued at once (sampled after each of its
// steps: what an open exchange costs it in memory beyond the differences it records). A fresh node learns every feed this
// way before gap fill fetches them, so this is the step that must stay as fast as it was.
// Usage: npx tsx bench/fresh-node.ts (BENCH_FRESH_N=100000, BENCH_FRESH_REPS=3). Never a test.
import { HeadsTree } from '../src/lib/core/sync/merkle.js';
import { Exchange } from '../src/lib/core/sync/reconcile.js';
import { decodeSyncMessage, encodeSyncMessage } from '../src/lib/core/sync/codec.js';
import type { CompareMsg, ReplyMsg } from '../src/lib/core/sync/messages.js';
import { toHex } from '../src/lib/core/bytes.js';
import { cpuNow } from './reconcile-peers.js';
import { mulberry32 } from '../test/helpers/fake-feed.js';

const N = Number(process.env.BENCH_FRESH_N ?? 100_000);
const REPS = Number(process.env.BENCH_FRESH_REPS ?? 3);

const rand = mulberry32(7);
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));

/** Heads an exchange holds queued (built nodes waiting to be sent; a private field). */
function held(x: Exchange): number {
  const q = (x as unknown as { queue: { items?: unknown[] }[] }).queue;
  return q.reduce((s, n) => s + (n.items?.length ?? 0), 0);
}

function run(full: HeadsTree, fresh: HeadsTree, freshBegins: boolean) {
  const opts = { random: bytes, now: () => 0 };
  const [ti, tr] = freshBegins ? [fresh, full] : [full, fresh];
  const t0 = cpuNow();
  const salt = bytes(16);
  const { exchange: xi, begin } = Exchange.initiate(ti, 1, salt, opts, true);
  let wire = encodeSyncMessage(begin);
  const out = { i: wire.length, r: 0 };
  let largest = wire.length;
  const { exchange: xr, reply } = Exchange.respond(tr, decodeSyncMessage(wire) as typeof begin, salt, opts);
  const xFull = freshBegins ? xr : xi;
  let maxHeld = held(xFull);
  wire = encodeSyncMessage(reply);
  out.r += wire.length;
  largest = Math.max(largest, wire.length);
  let msgs = 2;
  let next: ReplyMsg | CompareMsg | null = decodeSyncMessage(wire) as ReplyMsg;
  let toI = true;
  while (next) {
    const m: CompareMsg | null = (toI ? xi : xr).receive(next);
    if (!m) break;
    maxHeld = Math.max(maxHeld, held(xFull));
    wire = encodeSyncMessage(m);
    if (toI) out.i += wire.length;
    else out.r += wire.length;
    largest = Math.max(largest, wire.length);
    msgs++;
    next = decodeSyncMessage(wire) as CompareMsg;
    toI = !toI;
  }
  const cpuMs = cpuNow() - t0;
  const xFresh = freshBegins ? xi : xr;
  const found = xFresh.differences().filter((d) => d.theirs > 0 && d.mine === 0).length;
  return { cpuMs, msgs, largest, maxHeld, found, ...out };
}

const full = HeadsTree.from(
  Array.from({ length: N }, () => ({
    author: toHex(bytes(32)),
    seq: 1 + Math.floor(rand() * 100),
    hash: toHex(bytes(32))
  }))
);
full.rootHash();
const fresh = new HeadsTree();
console.log(`fresh node vs ${N} feeds (Merkle exchange alone; CPU: median of ${REPS})`);
console.log(
  '| who begins | initiator→ | responder→ | messages | largest step | CPU ms | full side queued at most | feeds found |'
);
console.log('|---|---|---|---|---|---|---|---|');
for (const freshBegins of [true, false]) {
  const runs = Array.from({ length: REPS }, () => run(full, fresh, freshBegins));
  const r = runs[0];
  const cpu = runs.map((x) => x.cpuMs).sort((a, b) => a - b)[REPS >> 1];
  const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
  console.log(
    `| ${freshBegins ? 'fresh' : 'full'} | ${kib(r.i)} | ${kib(r.r)} | ${r.msgs} | ${kib(r.largest)} | ${cpu.toFixed(0)} | ${r.maxHeld} | ${r.found} |`
  );
}
