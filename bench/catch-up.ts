// Row 6 of issue 11: catch-up after missed entries. Two real Ledgers (memory store) hold the same
// history except the last `missing` entries, which only A has; two real SyncEngines (the
// worker's protocol, src/lib/core/sync) talk over an in-memory duplex that delivers each
// direction in order, as the worker's stream loop does. We count every message both ways (its
// bytes plus the varint length prefix the driver frames it with) until B holds all of A's
// entries, and compare with the missing entries' encoded size (the target: ≤ 1.2×) and with
// refetching everything (every entry's encoded size). Libp2p's own framing (yamux, noise or the
// WebRTC data channel) is not counted: it is the same for any protocol carried. After the one-time
// setup the catch-up runs BENCH_CATCHUP_RUNS times (default 5), each from a fresh copy of B's disk
// (A serves them all); the time and the bytes are printed as the median and p99 of the runs
// (nearest-rank: with so few runs the p99 is the largest), the ratios of the median bytes. If any
// run stalls (B not caught up) the row prints and returns no ratio, and its target as NOT RUN.
// Run: npx tsx bench/catch-up.ts   (BENCH_CATCHUP_N, BENCH_CATCHUP_MISSING, BENCH_CATCHUP_AUTHORS,
// BENCH_CATCHUP_RUNS;
// BENCH_CATCHUP_INGEST_DELAY_MS adds that many ms to each ingest on the catching-up side, a slow
// receiver at a small n, as a large ledger's ingest is at n = 100k)
import '../src/lib/platform/polyfills.js';
import { encodeEntry } from '../src/lib/core/entry.js';
import { generateKeys } from '../src/lib/core/ed25519.js';
import { defaultGenesis } from '../src/lib/core/genesis.js';
import { Ledger } from '../src/lib/core/ledger.js';
import { MemoryDisk, MemoryLedgerStore } from '../src/lib/core/memory-store.js';
import { decodeSyncMessage } from '../src/lib/core/sync/codec.js';
import { SyncEngine } from '../src/lib/core/sync/engine.js';
import { ledgerReplica } from '../src/lib/core/sync/ledger-replica.js';
import type { SyncReplica } from '../src/lib/core/sync/replica.js';
import { toHex } from '../src/lib/core/bytes.js';
import { sha256 } from '../src/lib/core/hash.js';
import type { HashedEntry } from '../src/lib/core/types.js';
import { spread, type Spread } from './runs.js';

const N = Number(process.env.BENCH_CATCHUP_N ?? 100_000);
const MISSING = Number(process.env.BENCH_CATCHUP_MISSING ?? 10_000);
const AUTHOR_COUNTS = (process.env.BENCH_CATCHUP_AUTHORS ?? '100').split(',').map(Number);
const INGEST_DELAY_MS = Number(process.env.BENCH_CATCHUP_INGEST_DELAY_MS ?? 0);
const RUNS = Math.max(1, Number(process.env.BENCH_CATCHUP_RUNS ?? 5));
const KEYS_PER_AUTHOR = 200;
const INGEST_CHUNK = 1000;
const TICK_MS = 250;
const STALL_MS = 60_000;
const genesis = defaultGenesis();

/** One catch-up run, from a fresh copy of B's disk. */
export interface CatchUpRun {
  /** Sync protocol bytes, B → A and A → B, each message counted with its varint length prefix. */
  toA: number;
  toB: number;
  messages: number;
  /** Bytes and messages per message type, both directions. */
  byType: Record<string, { messages: number; bytes: number }>;
  /** Entry bytes carried inside `entries` messages (duplicates included). */
  entryBytesCarried: number;
  /** Entries carried more than once (each extra copy counted). */
  duplicates: number;
  roundTripsMerkle: number;
  /** Wall time from B's reconnection until it held every entry (or gave up), ms. */
  ms: number;
  /** B holds every entry A holds. When false the counts are of a partial transfer. */
  caughtUp: boolean;
  /** Missing entries B received before the run ended. */
  received: number;
}

/** What every run shares: the sizes of the setup. */
export interface CatchUpSetup {
  n: number;
  authors: number;
  missing: number;
  /** Encoded size of the missing entries (what an ideal protocol would send), bytes. */
  missingBytes: number;
  /** Encoded size of every entry (refetching everything), bytes. */
  allBytes: number;
  /** Ms added to each ingest of the catching-up side (BENCH_CATCHUP_INGEST_DELAY_MS). */
  ingestDelayMs: number;
}

/**
 * Row 6 over its runs. `toA`, `toB` and `ms` are each the median over the runs (`spreads` has their
 * median and p99, and the total's); `messages`, `byType`, `entryBytesCarried`, `duplicates` and
 * `roundTripsMerkle` are those of the run with the median total bytes (`detailRun`); `runs` has
 * every run's figures.
 */
export interface CatchUpResult extends CatchUpSetup, Omit<CatchUpRun, 'caughtUp' | 'received'> {
  runs: CatchUpRun[];
  spreads: { toA: Spread; toB: Spread; total: Spread; ms: Spread };
  /** Index in `runs` of the run the per-type figures are from (the one with the median total bytes). */
  detailRun: number;
  /** Every run caught up. When false the counts are of a partial transfer: see `verdict`. */
  caughtUp: boolean;
  /** The fewest missing entries B received in a run. */
  received: number;
  /** Median sync bytes ÷ the missing entries' size, and ÷ refetching everything; null unless every run caught up. */
  ratioToMissing: number | null;
  ratioToRefetch: number | null;
  target: string;
  /** The target (bytes ≤ 1.2× the missing entries) was met; false when not caught up. */
  met: boolean;
  verdict: CatchUpVerdict['verdict'];
}

const TARGET_RATIO = 1.2;

export interface CatchUpVerdict {
  ratioToMissing: number | null;
  ratioToRefetch: number | null;
  met: boolean;
  /** 'NOT RUN' when B did not catch up: the bytes are those of a partial transfer, no ratio. */
  verdict: 'met' | 'missed' | 'NOT RUN';
}

/** The ratios and the target's verdict of one run; none when B did not catch up (a stall). */
export function catchUpVerdict(
  r: Pick<CatchUpResult, 'caughtUp' | 'toA' | 'toB' | 'missingBytes' | 'allBytes'>
): CatchUpVerdict {
  if (!r.caughtUp) return { ratioToMissing: null, ratioToRefetch: null, met: false, verdict: 'NOT RUN' };
  const sync = r.toA + r.toB;
  const met = sync <= TARGET_RATIO * r.missingBytes;
  return {
    ratioToMissing: sync / r.missingBytes,
    ratioToRefetch: sync / r.allBytes,
    met,
    verdict: met ? 'met' : 'missed'
  };
}

/** Results with a run that did not catch up, one line each (for the bench's NOT RUN list); empty when all did. */
export function notCaughtUp(results: readonly CatchUpResult[]): string[] {
  return results
    .filter((r) => !r.caughtUp)
    .map((r) => {
      const stalled = r.runs.filter((x) => !x.caughtUp);
      const of = r.runs.length > 1 ? ` in ${stalled.length} of ${r.runs.length} runs` : '';
      return `n = ${r.n}, ${r.authors} authors: did not catch up${of} (stalled after ${r.received} of ${r.missing} missing entries; no ratio)`;
    });
}

/**
 * Row 6 from its runs: medians and p99s, the ratios of the median total bytes, and the verdict,
 * NOT RUN when any run did not catch up (or there was none).
 */
export function summarizeCatchUp(setup: CatchUpSetup, runs: readonly CatchUpRun[]): CatchUpResult {
  if (runs.length === 0) throw new Error('row 6: no catch-up run');
  const spreads = {
    toA: spread(runs.map((r) => r.toA)),
    toB: spread(runs.map((r) => r.toB)),
    total: spread(runs.map((r) => r.toA + r.toB)),
    ms: spread(runs.map((r) => r.ms))
  };
  const detailRun = runs.findIndex((r) => r.toA + r.toB === spreads.total.median);
  const d = runs[detailRun];
  const caughtUp = runs.every((r) => r.caughtUp);
  const v = catchUpVerdict({
    caughtUp,
    toA: spreads.total.median,
    toB: 0,
    missingBytes: setup.missingBytes,
    allBytes: setup.allBytes
  });
  return {
    ...setup,
    toA: spreads.toA.median,
    toB: spreads.toB.median,
    ms: spreads.ms.median,
    messages: d.messages,
    byType: d.byType,
    entryBytesCarried: d.entryBytesCarried,
    duplicates: d.duplicates,
    roundTripsMerkle: d.roundTripsMerkle,
    runs: [...runs],
    spreads,
    detailRun,
    caughtUp,
    received: Math.min(...runs.map((r) => r.received)),
    target: `bytes ≤ ${TARGET_RATIO}× the missing entries' size`,
    ...v
  };
}

const varintLen = (n: number): number => (n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4);

/** `n` entries from `authors` authors, written round-robin (each author's feed in seq order). */
async function history(n: number, authors: number): Promise<HashedEntry[][]> {
  const feeds: HashedEntry[][] = [];
  for (let a = 0; a < authors; a++) {
    const ledger = await Ledger.open({ store: new MemoryLedgerStore(), genesis, keys: await generateKeys() });
    const feed: HashedEntry[] = [];
    const count = Math.floor(n / authors) + (a < n % authors ? 1 : 0);
    for (let i = 0; i < count; i++)
      feed.push(await ledger.put(`a${a}k${i % KEYS_PER_AUTHOR}`, { i, note: `entry ${i}` }));
    await ledger.close();
    feeds.push(feed);
  }
  return feeds;
}

async function ingestAll(ledger: Ledger, entries: HashedEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += INGEST_CHUNK) {
    const r = await ledger.ingest(entries.slice(i, i + INGEST_CHUNK));
    if (r.rejected.length > 0) throw new Error(`setup: ${r.rejected.length} entries refused`);
  }
}

/**
 * A copy of a memory store's disk. Its identity too: the compacted state is sealed with the node's
 * key, so the copy opens with the same keys (neither replica writes; sync does not look at them).
 */
const copyDisk = (d: MemoryDisk): MemoryDisk => d.copy();

type Keys = Awaited<ReturnType<typeof generateKeys>>;

/**
 * B's disk holds `held` (closed: each run opens a fresh copy of it); A, open, holds a copy of B's
 * disk plus `missed` (half the setup time of two full ingests).
 */
async function replicas(
  held: HashedEntry[],
  missed: HashedEntry[]
): Promise<{ a: Ledger; bDisk: MemoryDisk; keys: Keys }> {
  const bDisk = new MemoryDisk();
  const keys = await generateKeys();
  const b = await Ledger.open({ store: new MemoryLedgerStore({ disk: bDisk }), genesis, keys });
  await ingestAll(b, held);
  await b.compact();
  await b.close();
  const store = new MemoryLedgerStore({ disk: copyDisk(bDisk) });
  const a = await Ledger.open({ store, genesis, keys });
  await ingestAll(a, missed);
  return { a, bDisk, keys };
}

const total = (l: Ledger): number => l.heads().reduce((s, h) => s + h.seq, 0);

/** One ordered direction of the duplex: delivers each message after the previous one was handled. */
interface Pipe {
  send(bytes: Uint8Array): void;
  /** Stops delivering; resolves once the message being handled (if any) is done. */
  close(): Promise<void>;
}

function pipe(deliver: (bytes: Uint8Array) => Promise<void>): Pipe {
  const queue: Uint8Array[] = [];
  let running: Promise<void> | undefined;
  let closed = false;
  const run = async (): Promise<void> => {
    while (queue.length > 0 && !closed) {
      try {
        await deliver(queue.shift()!);
      } catch (e) {
        console.error(`catch-up: a message failed: ${String(e)}`);
      }
    }
    running = undefined;
  };
  return {
    send(bytes) {
      queue.push(bytes);
      // Delivered from the next macrotask, as a stream read would be.
      running ??= new Promise<void>((res) => setImmediate(res)).then(run);
    },
    async close() {
      closed = true;
      await running;
    }
  };
}

/** B missed the last `missing` entries (the tail of every feed, spread evenly); measures its catch-up from A, `runs` times. */
export async function catchUp(n: number, authors: number, missing: number, runs = RUNS): Promise<CatchUpResult> {
  const t0 = performance.now();
  const feeds = await history(n, authors);
  const t1 = performance.now();
  const missed = new Set<HashedEntry>();
  // The newest entries are the tails: author a's last ⌊missing/authors⌋ (+1 for the first ones).
  feeds.forEach((f, a) => {
    const k = Math.floor(missing / authors) + (a < missing % authors ? 1 : 0);
    for (const h of f.slice(f.length - k)) missed.add(h);
  });
  const all = feeds.flat();
  const { a, bDisk, keys } = await replicas(
    all.filter((h) => !missed.has(h)),
    all.filter((h) => missed.has(h))
  );
  const t2 = performance.now();
  console.log(`(setup: ${n} writes ${((t1 - t0) / 1000).toFixed(1)} s, replicas ${((t2 - t1) / 1000).toFixed(1)} s)`);
  const sizeOf = (hs: Iterable<HashedEntry>): number => [...hs].reduce((s, h) => s + encodeEntry(h.entry).length, 0);
  const setup: CatchUpSetup = {
    n,
    authors,
    missing: missed.size,
    missingBytes: sizeOf(missed),
    allBytes: sizeOf(all),
    ingestDelayMs: INGEST_DELAY_MS
  };
  const done: CatchUpRun[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      // A fresh copy of the lagging replica each run (A only serves: it receives nothing).
      const b = await Ledger.open({ store: new MemoryLedgerStore({ disk: copyDisk(bDisk) }), genesis, keys });
      try {
        done.push(await syncOnce(a, b, n, missed.size));
      } finally {
        await b.close();
      }
    }
  } finally {
    await a.close();
  }
  return summarizeCatchUp(setup, done);
}

/** One catch-up of `b` from `a` over two real sync engines; counts every message both ways. */
async function syncOnce(a: Ledger, b: Ledger, n: number, missing: number): Promise<CatchUpRun> {
  const r: CatchUpRun = {
    toA: 0,
    toB: 0,
    messages: 0,
    byType: {},
    entryBytesCarried: 0,
    duplicates: 0,
    roundTripsMerkle: 0,
    ms: 0,
    caughtUp: false,
    received: 0
  };
  const carried = new Set<string>();
  const count = (bytes: Uint8Array, dir: 'toA' | 'toB'): void => {
    const framed = bytes.length + varintLen(bytes.length);
    r[dir] += framed;
    r.messages++;
    const msg = decodeSyncMessage(bytes);
    const t = (r.byType[msg.t] ??= { messages: 0, bytes: 0 });
    t.messages++;
    t.bytes += framed;
    if (msg.t === 'entries') {
      r.entryBytesCarried += msg.entries.reduce((s, e) => s + e.length, 0);
      for (const e of msg.entries) {
        const key = toHex(sha256(e));
        if (carried.has(key)) r.duplicates++;
        else carried.add(key);
      }
    }
    if (msg.t === 'begin' || msg.t === 'compare') r.roundTripsMerkle++;
  };
  const slow = (replica: SyncReplica): SyncReplica =>
    INGEST_DELAY_MS <= 0
      ? replica
      : {
          ...replica,
          async ingest(entries) {
            await new Promise((res) => setTimeout(res, INGEST_DELAY_MS));
            return replica.ingest(entries);
          }
        };
  const engineOf = (ledger: Ledger, send: (bytes: Uint8Array) => void, replica = ledgerReplica(ledger)): SyncEngine =>
    new SyncEngine({
      replica,
      now: () => Date.now(),
      randomBytes: (k) => crypto.getRandomValues(new Uint8Array(k)),
      send: (_peer, bytes) => send(bytes)
    });
  const toA = pipe((bytes) => ea.receive('b', bytes));
  const toB = pipe((bytes) => eb.receive('a', bytes));
  const ea: SyncEngine = engineOf(a, (bytes) => {
    count(bytes, 'toB');
    toB.send(bytes);
  });
  const eb: SyncEngine = engineOf(
    b,
    (bytes) => {
      count(bytes, 'toA');
      toA.send(bytes);
    },
    slow(ledgerReplica(b))
  );
  const start = performance.now();
  const timer = setInterval(() => {
    ea.tick();
    eb.tick();
  }, TICK_MS);
  // B reconnects (it dials, so it starts the first exchange).
  ea.addPeer('b', { initiator: false });
  eb.addPeer('a', { initiator: true });
  // Gives up only after STALL_MS without progress (this machine is shared: wall time varies).
  let held = total(b);
  let progressAt = performance.now();
  while (held < n && performance.now() - progressAt < STALL_MS) {
    await new Promise((res) => setTimeout(res, 20));
    if (total(b) > held) [held, progressAt] = [total(b), performance.now()];
  }
  r.ms = performance.now() - start;
  r.caughtUp = held >= n;
  r.received = held - (n - missing);
  clearInterval(timer);
  ea.close();
  eb.close();
  await Promise.all([toA.close(), toB.close()]);
  return r;
}

const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

/**
 * Where the bytes beyond the missing entries went: entries sent again (a range asked twice, e.g.
 * after its request timed out), the framing of `entries` messages, range requests, Merkle steps.
 */
function overhead(r: CatchUpResult): string {
  const t = (k: string): number => r.byType[k]?.bytes ?? 0;
  const merkle = t('hello') + t('begin') + t('reply') + t('compare') + t('error');
  const parts: [string, number][] = [
    ['entries sent more than once', r.entryBytesCarried - r.missingBytes],
    ['entries-message framing', t('entries') - r.entryBytesCarried],
    ['range requests (get)', t('get')],
    ['hello and Merkle steps', merkle]
  ];
  return parts.map(([k, b]) => `${k} ${kib(b)} (${((100 * b) / r.missingBytes).toFixed(1)}%)`).join(', ');
}

const ratio = (x: number | null): string => (x === null ? '—' : `${x.toFixed(3)}×`);

/** The target line: met or missed, or NOT RUN when a run did not catch up (no ratio of a partial transfer). */
function targetLine(r: CatchUpResult): string {
  const stalled = r.runs.filter((x) => !x.caughtUp).length;
  const why =
    r.verdict === 'NOT RUN'
      ? `NOT RUN: ${stalled} of ${r.runs.length} runs did not catch up (the fewest missing entries received: ${r.received} of ${r.missing}), their bytes are of a partial transfer`
      : `${r.verdict}, on the median bytes`;
  return `target: bytes ≤ ${TARGET_RATIO}× the missing entries' size (${why})`;
}

const pair = (s: Spread, f: (x: number) => string): string => `${f(s.median)} / ${f(s.p99)}`;

/** Markdown table of one result (over its runs), ready to print. */
export function formatCatchUp(r: CatchUpResult): string {
  const run = r.runs[r.detailRun];
  const sync = run.toA + run.toB;
  const detail = r.detailRun + 1;
  const caught = r.runs.filter((x) => x.caughtUp).length;
  const p99Ratio = r.ratioToMissing === null ? null : r.spreads.total.p99 / r.missingBytes;
  const lines = [
    `## Row 6, catch-up after ${r.missing} missed entries: n = ${r.n}, ${r.authors} authors (the tail of every feed)`,
    `- ${r.runs.length} runs, each from a fresh copy of the lagging replica: ${r.caughtUp ? 'caught up in every one' : `did NOT catch up in ${r.runs.length - caught} of them`}; ` +
      `time to catch up median ${r.spreads.ms.median.toFixed(0)} ms, p99 ${r.spreads.ms.p99.toFixed(0)} ms (nearest-rank: p99 of so few runs is their largest)`,
    `- each run: ${r.runs.map((x, i) => `${i + 1}) ${x.caughtUp ? '' : 'NOT caught up, '}${x.ms.toFixed(0)} ms, ${kib(x.toA + x.toB)}, ${x.messages} messages, ${x.duplicates} entries sent more than once`).join('; ')}`,
    `- run ${detail} (the median total bytes): ${r.messages} messages, ${r.roundTripsMerkle} Merkle steps sent by the initiator; entry bytes carried ${kib(r.entryBytesCarried)}; entries carried more than once ${r.duplicates}`,
    `- missing entries' encoded size ${kib(r.missingBytes)} (${(r.missingBytes / r.missing).toFixed(0)} B each)`,
    ...(r.ingestDelayMs > 0 ? [`- slow receiver: ${r.ingestDelayMs} ms added to each of its ingests`] : []),
    `- overhead over the missing entries (run ${detail}): ${r.caughtUp ? overhead(r) : '— (did not catch up)'}`,
    '',
    '| variant | runs | B → A, median / p99 | A → B, median / p99 | total, median / p99 | ratio to the missing entries, median / p99 total | ratio to refetching everything, median total |',
    '|---|---|---|---|---|---|---|',
    `| tabula sync (hello, Merkle, gap fill) | ${r.runs.length} | ${pair(r.spreads.toA, kib)} | ${pair(r.spreads.toB, kib)} | ${pair(r.spreads.total, kib)} | ${ratio(r.ratioToMissing)} / ${ratio(p99Ratio)} | ${ratio(r.ratioToRefetch)} |`,
    `| refetching everything (comparator, computed) | - | - | ${kib(r.allBytes)} | ${kib(r.allBytes)} | ${(r.allBytes / r.missingBytes).toFixed(2)}× | 1.000× |`,
    '',
    `| message type (run ${detail}) | messages | bytes | share of the sync bytes |`,
    '|---|---|---|---|',
    ...Object.entries(r.byType)
      .sort((x, y) => y[1].bytes - x[1].bytes)
      .map(([t, m]) => `| ${t} | ${m.messages} | ${kib(m.bytes)} | ${((100 * m.bytes) / sync).toFixed(1)}% |`),
    targetLine(r)
  ];
  return lines.join('\n');
}

export async function runCatchUp(): Promise<CatchUpResult[]> {
  const out: CatchUpResult[] = [];
  for (const authors of AUTHOR_COUNTS) {
    const t0 = performance.now();
    const r = await catchUp(N, authors, MISSING);
    console.log(`\n${formatCatchUp(r)}`);
    console.log(`(setup and run: ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    out.push(r);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await runCatchUp();
