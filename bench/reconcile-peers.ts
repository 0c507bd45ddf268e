// Comparators of the reconciliation benchmark (bench/reconcile.ts) that come from other projects:
// rateless IBLT (`@peerbit/riblt`, Rust compiled to WebAssembly) and negentropy (the JavaScript
// implementation in `@nostr-dev-kit/sync`). Both reconcile sets of ids, so each head is
// represented by its entry hash (already unique per head, and maintained with the set like the
// Merkle tree is, so it is computed outside the timed part). Each returns null, with the reason
// printed once, when its package does not load.
import type { FeedHead } from '../src/lib/core/types.js';
import { fromHex, toHex } from '../src/lib/core/bytes.js';
import { spread, type Spread } from './runs.js';

/**
 * CPU time of this process in ms (user + system, all its threads: GC included), so the figures
 * hold on a shared, loaded machine where wall-clock time also counts waiting for a core.
 */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface Row {
  method: string;
  aToB: number;
  bToA: number;
  rtts: number;
  cpuMs: number;
  /** Differing feeds the method found (every method counts feeds, not ids). */
  found: number;
}

/**
 * The `found` cell of a row: the count when the method found all `differing` feeds; else marked
 * INCOMPLETE, since its bytes, round trips and CPU are then not the cost of reconciling the sets.
 */
export const foundCell = (found: number, differing: number): string =>
  found === differing
    ? String(found)
    : `${found} of ${differing}: INCOMPLETE (its bytes, round trips and CPU did not reconcile the sets)`;

/**
 * The ratio cell of a comparator's row: Merkle's bytes (both ways) ÷ this method's, ours ÷ the
 * comparator as in every bench table (below 1: Merkle sent fewer). Empty for Merkle's own rows;
 * "—" when either side did not find every differing feed (its bytes reconciled nothing in full).
 */
export function bytesRatioCell(merkle: Row | undefined, r: Row, differing: number): string {
  if (r.method.startsWith('merkle')) return '';
  if (!merkle || merkle.found !== differing || r.found !== differing) return '—';
  const ours = merkle.aToB + merkle.bToA;
  const theirs = r.aToB + r.bToA;
  return theirs > 0 ? `${(ours / theirs).toFixed(ours / theirs < 0.01 ? 5 : 2)}×` : '—';
}

/**
 * Runs of each method per row (every method of a row the same number): 5 at n ≤ 100k and d ≤
 * 1,000; 3 at d > 1,000 (a run takes up to a second or so); at n > 100k (BENCH_1M) the comparators
 * run once (each run loads n items: seconds), Merkle as at 100k.
 */
export function repsFor(n: number, d: number, method: 'merkle' | 'comparator'): number {
  if (method === 'comparator' && n > 100_000) return 1;
  return d > 1000 ? 3 : 5;
}

/**
 * A method's runs in one row: `aToB`, `bToA`, `rtts` and `cpuMs` are the medians over the runs (the
 * ratio cell compares median bytes); `found` is the first run's count that is not `differing`
 * (`differing` when every run found them all), `short` how many runs did not.
 */
export interface RowRuns extends Row {
  runs: number;
  cpu: Spread;
  bytesAToB: Spread;
  bytesBToA: Spread;
  roundTrips: Spread;
  short: number;
  /** Merkle only: CPU of its first (cold) run, which is one of the runs. */
  coldMs?: number;
}

export function summarizeRuns(runs: readonly Row[], differing: number): RowRuns {
  if (runs.length === 0) throw new Error('no runs to summarise');
  const off = runs.filter((r) => r.found !== differing);
  const cpu = spread(runs.map((r) => r.cpuMs));
  const bytesAToB = spread(runs.map((r) => r.aToB));
  const bytesBToA = spread(runs.map((r) => r.bToA));
  const roundTrips = spread(runs.map((r) => r.rtts));
  return {
    method: runs[0].method,
    aToB: bytesAToB.median,
    bToA: bytesBToA.median,
    rtts: roundTrips.median,
    cpuMs: cpu.median,
    found: off[0]?.found ?? differing,
    runs: runs.length,
    cpu,
    bytesAToB,
    bytesBToA,
    roundTrips,
    short: off.length
  };
}

/** The `found` cell of a method run several times: INCOMPLETE when any run missed, with how many. */
export const foundRunsCell = (r: RowRuns, differing: number): string =>
  r.short === 0 || r.runs === 1
    ? foundCell(r.found, differing)
    : `${foundCell(r.found, differing)} (${r.short} of ${r.runs} runs)`;

/** Feeds (authors) of `heads` whose head's entry hash is one of `ids`. */
function feedsOf(heads: readonly FeedHead[], ids: readonly Uint8Array[], into: Set<string>): void {
  if (ids.length === 0) return;
  const hex = new Set(ids.map(toHex));
  for (const h of heads) if (hex.has(h.hash)) into.add(h.author);
}

/** Wire size of a listed head (author 32 B, seq varint, hash 32 B) and of an id. */
const HEAD_BYTES = (h: FeedHead): number => 64 + varintLen(h.seq);
/** The first coded-symbol batch of the rateless stream; each next batch doubles. */
const RIBLT_FIRST_BATCH = 32;

export function varintLen(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

const zigzag = (n: bigint): number => Number(n >= 0n ? n * 2n : -n * 2n - 1n);

type Riblt = typeof import('@peerbit/riblt');
type Neg = typeof import('@nostr-dev-kit/sync');
let riblt: Riblt | null | undefined;
let neg: Neg | null | undefined;

async function load<T>(name: string, f: () => Promise<T>): Promise<T | null> {
  try {
    return await f();
  } catch (e) {
    console.error(`${name}: could not load (${(e as Error).message}); its rows are left out`);
    return null;
  }
}

export async function loadPeers(): Promise<{ riblt: boolean; negentropy: boolean }> {
  riblt ??= await load('@peerbit/riblt', async () => {
    const m = await import('@peerbit/riblt');
    await m.ready;
    return m;
  });
  neg ??= await load('@nostr-dev-kit/sync', () => import('@nostr-dev-kit/sync'));
  return { riblt: !!riblt, negentropy: !!neg };
}

/**
 * The comparators that did not load (their rows are left out of the table). Row 2 is then NOT
 * RUN: the README's table compares Merkle with every one of them in the same run. None when the
 * comparators are skipped on purpose (BENCH_MERKLE_ONLY=1).
 */
export function missingComparators(loaded: { riblt: boolean; negentropy: boolean }, merkleOnly: boolean): string[] {
  if (merkleOnly) return [];
  return [
    ...(loaded.riblt ? [] : ['rateless IBLT (@peerbit/riblt)']),
    ...(loaded.negentropy ? [] : ['negentropy (@nostr-dev-kit/sync)'])
  ];
}

/** The head's u64 symbol for the IBLT (first 8 bytes of its entry hash). */
export function symbolOf(h: FeedHead): bigint {
  return BigInt('0x' + h.hash.slice(0, 16));
}

/**
 * Rateless IBLT: A streams coded symbols (24 B-ish: symbol u64, checksum u64, count as a zigzag
 * varint) in batches of 32, 64, 128, … until B's decoder has peeled every difference; B answers
 * each batch with one byte ("more") and, with the last, the heads only it holds plus the ids of
 * the heads only A holds (so A knows exactly which feeds differ). Bytes count only the symbols
 * needed (an ideal stop), round trips count the doubling batches. CPU is uncached: both sides
 * load their n symbols into a fresh encoder/decoder, as a sync without a kept sketch does.
 */
export function ribltRow(a: FeedHead[], b: FeedHead[], symA: bigint[], symB: bigint[]): Row | null {
  if (!riblt) return null;
  const t0 = cpuNow();
  const enc = new riblt.EncoderWrapper();
  for (const s of symA) enc.add_symbol(s);
  const dec = new riblt.DecoderWrapper();
  for (const s of symB) dec.add_symbol(s);
  let aToB = 0;
  let sent = 0;
  do {
    const cs = enc.produce_next_coded_symbol() as { count: bigint };
    aToB += 16 + varintLen(zigzag(cs.count));
    sent++;
    dec.add_coded_symbol(cs);
    dec.try_decode();
  } while (!dec.decoded());
  const onlyA = dec.get_remote_symbols() as bigint[];
  const onlyB = new Set(dec.get_local_symbols() as bigint[]);
  const cpuMs = cpuNow() - t0;
  enc.free();
  dec.free();
  let batches = 0;
  for (let cap = 0, size = RIBLT_FIRST_BATCH; cap < sent; size *= 2) {
    cap += size;
    batches++;
  }
  let bToA = batches + onlyA.length * 8;
  const listed = new Set<string>();
  for (const h of b)
    if (onlyB.has(symbolOf(h))) {
      bToA += HEAD_BYTES(h);
      listed.add(h.author);
    }
  const differing = new Set(listed);
  const onlyASet = new Set(onlyA);
  for (const h of a) if (onlyASet.has(symbolOf(h))) differing.add(h.author);
  return { method: 'rateless IBLT', aToB, bToA, rtts: batches, cpuMs, found: differing.size };
}

/**
 * Negentropy (range-based set reconciliation, protocol V1) with no frame size limit: A
 * initiates, B answers, until A has nothing more to send. Items are (write time, entry hash), so
 * recently written heads sit together at the end of the order. A learns the ids it has and needs;
 * the heads behind the needed ids are not included (fetching them is one more message). `found`
 * counts the feeds behind those ids (a differing feed is one id on each side), outside the CPU time.
 */
export async function negentropyRow(
  a: FeedHead[],
  b: FeedHead[],
  timeA: number[],
  timeB: number[]
): Promise<Row | null> {
  if (!neg) return null;
  const idsA = a.map((h) => fromHex(h.hash));
  const idsB = b.map((h) => fromHex(h.hash));
  const t0 = cpuNow();
  const sa = new neg.NegentropyStorage();
  idsA.forEach((id, i) => sa.insert(timeA[i], id));
  sa.seal();
  const sb = new neg.NegentropyStorage();
  idsB.forEach((id, i) => sb.insert(timeB[i], id));
  sb.seal();
  const na = new neg.Negentropy(sa, 0);
  const nb = new neg.Negentropy(sb, 0);
  let msg: Uint8Array | undefined = await na.initiate();
  let aToB = 0;
  let bToA = 0;
  let rtts = 0;
  const have: Uint8Array[] = [];
  const need: Uint8Array[] = [];
  while (msg) {
    aToB += msg.length;
    const r = await nb.reconcile(msg);
    rtts++;
    if (!r.nextMessage) break;
    bToA += r.nextMessage.length;
    const q = await na.reconcile(r.nextMessage);
    for (const id of q.have) have.push(id);
    for (const id of q.need) need.push(id);
    msg = q.nextMessage;
  }
  const cpuMs = cpuNow() - t0;
  const differing = new Set<string>();
  feedsOf(a, have, differing);
  feedsOf(b, need, differing);
  return { method: 'negentropy', aToB, bToA, rtts, cpuMs, found: differing.size };
}
