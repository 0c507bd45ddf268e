// Fixtures for sync tests: random feed heads, and running one Merkle exchange between two trees
// in memory (through the real codec, so every step is encoded and decoded).
import { toHex } from '../../src/lib/core/bytes.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import { HeadsTree } from '../../src/lib/core/sync/merkle.js';
import { Exchange, type Difference } from '../../src/lib/core/sync/reconcile.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { CompareMsg, ReplyMsg, SyncMsg } from '../../src/lib/core/sync/messages.js';
import { randomBytes, type Rand } from './fake-feed.js';

export function randomHead(rand: Rand, author?: string): FeedHead {
  return {
    author: author ?? toHex(randomBytes(32, rand)),
    seq: 1 + Math.floor(rand() * 1000),
    hash: toHex(randomBytes(32, rand))
  };
}

export interface ExchangeRun {
  a: Difference[];
  b: Difference[];
  /** Messages sent, both ways (begin and reply included). */
  messages: number;
  bytesAtoB: number;
  bytesBtoA: number;
  /** Messages (1-based, begin = 1) up to the last one carrying compare nodes. */
  lastWithNodes: number;
  /** `final` nodes sent in answer to an `answer` (tag pairings the lister corrected). */
  corrections: number;
}

const wire = <T extends SyncMsg>(m: T): { msg: T; size: number } => {
  const bytes = encodeSyncMessage(m);
  return { msg: decodeSyncMessage(bytes) as T, size: bytes.length };
};

/** Runs a full exchange A (initiator) ↔ B; throws if it does not finish in 200 messages. */
export function runExchange(
  ta: HeadsTree,
  tb: HeadsTree,
  rand: Rand,
  maxTurnBytes?: number,
  eager = true
): ExchangeRun {
  const opts = { random: (n: number) => randomBytes(n, rand), now: () => 0, maxTurnBytes };
  const helloSaltB = randomBytes(16, rand);
  const { exchange: xa, begin } = Exchange.initiate(ta, 1, helloSaltB, opts, eager);
  const b0 = wire(begin);
  const { exchange: xb, reply } = Exchange.respond(tb, b0.msg, helloSaltB, opts);
  const r0 = wire(reply);
  const run: ExchangeRun = {
    a: [],
    b: [],
    messages: 2,
    bytesAtoB: b0.size,
    bytesBtoA: r0.size,
    lastWithNodes: reply.nodes.length > 0 ? 2 : 1,
    corrections: 0
  };
  let answerPaths = new Set(reply.nodes.filter((n) => n.k === 'answer').map((n) => n.path));
  let next: ReplyMsg | CompareMsg | null = r0.msg;
  let toA = true;
  while (next) {
    if (run.messages > 200) throw new Error('exchange did not finish');
    const out: CompareMsg | null = (toA ? xa : xb).receive(next);
    if (!out) break;
    const w = wire(out);
    run.messages++;
    if (out.nodes.length > 0) run.lastWithNodes = run.messages;
    run.corrections += out.nodes.filter((n) => n.k === 'final' && answerPaths.has(n.path)).length;
    answerPaths = new Set(out.nodes.filter((n) => n.k === 'answer').map((n) => n.path));
    if (toA) run.bytesAtoB += w.size;
    else run.bytesBtoA += w.size;
    next = w.msg;
    toA = !toA;
  }
  if (!xa.done || !xb.done) throw new Error(`exchange not done: a=${xa.done} b=${xb.done}`);
  run.a = xa.differences();
  run.b = xb.differences();
  return run;
}

/** The differences an exact comparison of the two head sets gives, from A's side. */
export function expectedDiffs(a: FeedHead[], b: FeedHead[]): Difference[] {
  const bm = new Map(b.map((h) => [h.author, h]));
  const am = new Map(a.map((h) => [h.author, h]));
  const out: Difference[] = [];
  for (const h of a) {
    const t = bm.get(h.author);
    if (t && t.seq === h.seq && t.hash === h.hash) continue;
    out.push({ author: h.author, mine: h.seq, theirs: t?.seq ?? 0, fork: !!t && t.seq === h.seq });
  }
  for (const t of b) if (!am.has(t.author)) out.push({ author: t.author, mine: 0, theirs: t.seq, fork: false });
  return out.sort((x, y) => (x.author < y.author ? -1 : 1));
}

export const sortDiffs = (d: Difference[]): Difference[] => [...d].sort((x, y) => (x.author < y.author ? -1 : 1));
export const flip = (d: Difference[]): Difference[] =>
  sortDiffs(d.map((x) => ({ author: x.author, mine: x.theirs, theirs: x.mine, fork: x.fork })));
