// Void heads a light snapshot or a join bootstrapped (PROTOCOL.md §6.1.2, §10): found on open, each
// with the canonical top k0 its light header names, the canonical entries k0 + 1 .. k its feed took
// since, and the top the compaction holds of it. Open reads and verifies only what lies above the
// compacted top: the compaction's void head v(s, j) binds j and the hash of entry j (sealed), and
// the meta row `void-compacted-tops` (a hint, written after each compaction) says which j, so one
// stored entry is read to find it. A hint that does not hold (stale, forged, from before this
// row existed) costs a walk from k0 instead, never trust.
import type { FeedHead, HashedEntry } from './types.js';
import type { Compaction, LedgerStore } from './storage.js';
import type { SealCheck } from './compaction-seal.js';
import { NO_TOP_HASH, type HeadHeader } from './snapshot/format.js';
import { hashEntry } from './entry.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import { CorruptStoreError } from './errors.js';
import { forkSeqOf, isVoidHeadOf, isVoidSeq, type VoidTop } from './void.js';
import { HASH_BYTES, LEDGER_REPLAY_PAGE, MAX_ENTRY_SEQ, RECENT_ENTRIES_PER_AUTHOR } from './constants.js';

/** Store meta key: the canonical top of each bootstrapped void feed the stored compaction holds (a hint). */
export const COMPACTED_TOPS_META = 'void-compacted-tops';

/** Hint rows read at most (one per bootstrapped void head; more is not a row this node wrote). */
const MAX_HINTS = 4096;

const HEX64 = /^[0-9a-f]{64}$/;

/** The canonical top of a bootstrapped void feed that the compaction holds: seq, and (void head) hash and Yjs clock. */
export interface CompactedTop {
  seq: number;
  hash?: string;
  clock?: number;
}

/**
 * A void head a light snapshot or a join bootstrapped (bootstrappedVoids): `base` is the canonical
 * top its light header names (k0, with `clock`, that entry's Yjs clock), `top` the canonical top k
 * the store holds (the last of the entries k0 + 1 .. k the feed took since, or k0).
 */
export interface BootstrappedVoid {
  head: FeedHead;
  top: VoidTop;
  base: VoidTop;
  clock: number;
  /** What the compaction holds of the feed (replay only; undefined: none of its canonical part above k0). */
  compacted: CompactedTop | undefined;
  /** Replay: the stored entries above `compacted` (above k0 when undefined), in seq order: applied on top of the state. */
  above: HashedEntry[];
  /** The last few entries read (FeedSet's duplicate/fork window). */
  recent: HashedEntry[];
  /** Highest lamport of the entries read. */
  lamport: number;
  /** The hint did not name the compacted top: it was found by walking from k0 (replay rewrites the hint). */
  searched: boolean;
}

export interface BootstrapOptions {
  /** What open found of the seal (omit it to skip the seal part: the store was checked on open). */
  sealed?: { present: boolean; seal: SealCheck | undefined };
  /** Checks each entry read (signatures); hashes, authors and links are always checked. */
  verify?: (h: HashedEntry) => Promise<void>;
  /**
   * Replay: the compaction it loads (undefined: none). Each feed is then read from the top the
   * compaction binds, and `above` lists what to apply. Omitted (a resync of a store checked on
   * open): read from the hinted top when that entry is stored, `above` stays empty.
   */
  replay?: { compaction: Pick<Compaction, 'heads'> | undefined };
  /** Entries per read (default LEDGER_REPLAY_PAGE). */
  pageSize?: number;
}

/**
 * Stored void heads: only a light snapshot or a join bootstraps them (storeLightState), with no
 * evidence, lists each in its head headers with the canonical top its hash binds (void.ts) and
 * seals those headers into its compaction (v3). Any other is CorruptStoreError, so rows written
 * into the heads and meta tables cannot void a feed: a void head must be listed in head headers
 * that a v3 seal binds (under a v1 or v2 seal, from before v3, listed is enough), name a top k0 its
 * hash binds, and its feed holds no entry at or above its fork seq nor at or below k0 (a
 * bootstrapped void feed never stores one). The entries it holds below the fork are the canonical
 * entries k0 + 1 .. k it took since; those above the compacted top are read in pages and checked
 * (readAbove), and its `top` is k.
 */
export async function bootstrappedVoids(
  store: LedgerStore,
  heads: readonly FeedHead[],
  headers: readonly HeadHeader[] | undefined,
  opts: BootstrapOptions = {}
): Promise<BootstrappedVoid[]> {
  const out: BootstrappedVoid[] = [];
  const voidHeads = heads.filter((x) => isVoidSeq(x.seq));
  if (voidHeads.length === 0) return out;
  const hints = await readCompactedTops(store);
  for (const h of voidHeads) {
    const x = headers?.find((b) => b.author === h.author && b.seq === h.seq);
    const base = x === undefined ? undefined : topOfHeader(x);
    if (x === undefined || base === undefined || !isVoidHeadOf(h, base))
      throw corrupt(h.author, h.seq, 'a void feed head that no light snapshot bootstrapped');
    if (opts.sealed !== undefined && !opts.sealed.present)
      throw corrupt(h.author, h.seq, 'a void feed head with no sealed light bootstrap (the store holds no compaction)');
    if ((await store.getRange(h.author, forkSeqOf(h.seq), MAX_ENTRY_SEQ, 1)).length > 0)
      throw corrupt(h.author, h.seq, 'a void feed head over stored entries at or above its fork');
    if (base.seq > 0 && (await store.getRange(h.author, 1, base.seq, 1)).length > 0)
      throw corrupt(h.author, base.seq, `a stored entry at or below a bootstrapped void top ${base.seq} (never held)`);
    const b: BootstrappedVoid = {
      head: h,
      top: base,
      base,
      clock: x.clock,
      compacted: undefined,
      above: [],
      recent: [],
      lamport: 0,
      searched: false
    };
    await readFeed(store, b, hints.get(h.author), opts);
    out.push(b);
  }
  return out;
}

/** Finds where to start (the compacted or hinted top), then reads the feed's entries above it. */
async function readFeed(
  store: LedgerStore,
  b: BootstrappedVoid,
  hint: number | undefined,
  opts: BootstrapOptions
): Promise<void> {
  const author = b.head.author;
  const replay = opts.replay !== undefined;
  const ch = opts.replay?.compaction?.heads.find((x) => x.author === author);
  // The compaction's void head of this feed binds its top j (and entry j's hash); a plain head
  // (made after a lower fork was found) is its seq; another fork's void head, or none: nothing.
  let pending: FeedHead | undefined;
  if (ch !== undefined && !isVoidSeq(ch.seq)) b.compacted = { seq: ch.seq };
  else if (ch !== undefined && ch.seq === b.head.seq) {
    if (isVoidHeadOf(ch, b.base)) b.compacted = { ...b.base, clock: b.clock };
    else pending = ch;
  }
  let from: { top: VoidTop; entry?: HashedEntry } = { top: b.base };
  const hinted = await hintedEntry(store, b, hint);
  if (hinted !== undefined) {
    const top = { seq: hinted.entry.seq, hash: toHex(hinted.hash) };
    // Replay trusts the hint only where the sealed compaction binds it; a resync (store checked
    // on open, written by this node since) where the entry is stored.
    if (pending !== undefined && isVoidHeadOf(pending, top)) {
      b.compacted = { ...top, clock: hinted.entry.clock };
      pending = undefined;
      from = { top, entry: hinted };
    } else if (!replay) from = { top, entry: hinted };
  }
  b.searched = pending !== undefined;
  await readAbove(store, b, from, pending, opts);
  if (pending !== undefined && b.compacted === undefined)
    throw corrupt(author, pending.seq, 'the compaction binds a void top this store does not hold');
}

/** The stored entry the hint names, when it is one of this feed's canonical part above k0 and intact. */
async function hintedEntry(
  store: LedgerStore,
  b: BootstrappedVoid,
  hint: number | undefined
): Promise<HashedEntry | undefined> {
  if (hint === undefined || hint <= b.base.seq || hint >= forkSeqOf(b.head.seq)) return undefined;
  const e = await store.getEntry(b.head.author, hint);
  if (e === undefined || e.entry?.seq !== hint || !sameHash(e)) return undefined;
  return toHex(e.entry.author) === b.head.author ? e : undefined;
}

/**
 * Reads the stored entries of a bootstrapped void feed above `from` (below its fork), page by
 * page: they must be from.seq + 1, from.seq + 2, ... with no gap, of its author, each linking to
 * the one before (the first to from's hash: the header's topHash, or 32 zero bytes at 0), each
 * hash its entry's (and `verify` passing). Any other row is CorruptStoreError, so a row forged
 * into the entries table cannot move a void head. While `pending` (the compaction's void head of
 * the feed) names none yet, each entry is tried as the top it binds.
 */
async function readAbove(
  store: LedgerStore,
  b: BootstrappedVoid,
  from: { top: VoidTop; entry?: HashedEntry },
  pending: FeedHead | undefined,
  opts: BootstrapOptions
): Promise<void> {
  const author = b.head.author;
  const s = forkSeqOf(b.head.seq);
  const page = Math.max(1, opts.pageSize ?? LEDGER_REPLAY_PAGE);
  const collect = opts.replay !== undefined;
  let prev = from.top.hash === undefined ? new Uint8Array(HASH_BYTES) : fromHex(from.top.hash);
  let at = from.top.seq;
  const note = (h: HashedEntry) => {
    b.lamport = Math.max(b.lamport, h.entry.lamport);
    b.recent.push(h);
    if (b.recent.length > RECENT_ENTRIES_PER_AUTHOR) b.recent.shift();
  };
  if (from.entry !== undefined) note(from.entry);
  b.top = from.top;
  while (at + 1 < s) {
    const rows = await store.getRange(author, at + 1, s - 1, page);
    for (const h of rows) {
      at++;
      await checkAbove(h, author, at, b.base.seq, prev, opts.verify);
      prev = h.hash;
      note(h);
      const top = { seq: at, hash: toHex(h.hash) };
      b.top = top;
      if (pending !== undefined && isVoidHeadOf(pending, top)) {
        b.compacted = { ...top, clock: h.entry.clock };
        pending = undefined;
        b.above = []; // the compaction holds everything up to here
      } else if (collect && at > (b.compacted?.seq ?? b.base.seq)) b.above.push(h);
    }
    if (rows.length < page) break;
  }
}

/** One stored entry above a bootstrapped void top: the next seq, its author's, its hash, linked, verified. */
async function checkAbove(
  h: HashedEntry,
  author: string,
  at: number,
  k0: number,
  prev: Uint8Array,
  verify: ((h: HashedEntry) => Promise<void>) | undefined
): Promise<void> {
  const where = `canonical entry ${h.entry?.seq} above a bootstrapped void top ${k0}`;
  if (h.entry?.seq !== at) throw corrupt(author, at, `${where} is not the next one (${at})`);
  if (toHex(h.entry.author) !== author) throw corrupt(author, at, `${where} has another author`);
  if (!(h.hash instanceof Uint8Array) || !sameHash(h))
    throw corrupt(author, at, `${where}: stored hash does not match the entry`);
  if (!bytesEqual(h.entry.prev, prev)) throw corrupt(author, at, `${where} does not link to its predecessor`);
  if (verify !== undefined)
    await verify(h).catch((e: unknown) => {
      throw corrupt(author, at, `${where} fails verification (${(e as Error)?.name})`, e);
    });
}

/** True when `h.hash` is its entry's hash (false also when the entry does not encode). */
function sameHash(h: HashedEntry): boolean {
  try {
    return h.hash instanceof Uint8Array && bytesEqual(hashEntry(h.entry), h.hash);
  } catch {
    return false;
  }
}

/** The canonical top a void head's light header names (undefined when it names none). */
export function topOfHeader(x: HeadHeader): VoidTop | undefined {
  if (!Number.isSafeInteger(x.top) || x.top! < 0 || typeof x.topHash !== 'string' || !HEX64.test(x.topHash))
    return undefined;
  if (x.top === 0) return x.topHash === NO_TOP_HASH ? { seq: 0, hash: undefined } : undefined;
  return { seq: x.top!, hash: x.topHash };
}

/** The hint row (COMPACTED_TOPS_META): author → seq. Anything malformed is no hint (it is checked before use). */
export async function readCompactedTops(store: Pick<LedgerStore, 'getMeta'>): Promise<Map<string, number>> {
  const v = await store.getMeta(COMPACTED_TOPS_META);
  const out = new Map<string, number>();
  if (!Array.isArray(v) || v.length > MAX_HINTS) return out;
  for (const r of v as unknown[]) {
    const { author, seq } = (r ?? {}) as { author?: unknown; seq?: unknown };
    if (typeof author === 'string' && HEX64.test(author) && Number.isSafeInteger(seq) && (seq as number) > 0)
      out.set(author, seq as number);
  }
  return out;
}

/**
 * Writes the hint for a compaction with heads `heads`: for each void head in it that binds the
 * canonical top `topOf` gives (a bootstrapped void feed's k), that top's seq. Written after the
 * compaction; a crash in between leaves a hint that does not hold, which only costs a walk.
 */
export async function storeCompactedTops(
  store: Pick<LedgerStore, 'getMeta' | 'setMeta'>,
  heads: readonly FeedHead[],
  topOf: (author: string) => VoidTop | undefined
): Promise<void> {
  const rows: { author: string; seq: number }[] = [];
  for (const h of heads) {
    const top = isVoidSeq(h.seq) ? topOf(h.author) : undefined;
    if (top !== undefined && top.seq > 0 && isVoidHeadOf(h, top)) rows.push({ author: h.author, seq: top.seq });
  }
  if (rows.length === 0 && (await store.getMeta(COMPACTED_TOPS_META)) === undefined) return;
  await store.setMeta(COMPACTED_TOPS_META, rows);
}

function corrupt(author: string, seq: number, why: string, cause?: unknown): CorruptStoreError {
  return new CorruptStoreError(`${why}: author ${author.slice(0, 16)}… seq ${seq}`, { author, seq, cause });
}
