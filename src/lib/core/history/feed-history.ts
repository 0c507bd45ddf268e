// A feed's history, page by page, newest first: what this node holds is read from its store, and
// what a light replica pruned is fetched back on demand from peers that hold it (range requests,
// sync/engine.ts requestRange) and verified against the entries it does hold (verify-chain.ts)
// before it is shown. Fetched entries are NOT stored (the storage budget stays what it is); a
// bounded in-memory cache (by bytes, least recently used out first) keeps them for the next page.
import type { EntryHeader } from '../causal.js';
import type { FeedHead, Genesis, HashedEntry } from '../types.js';
import { LedgerError } from '../errors.js';
import { fromHex, toHex } from '../bytes.js';
import { isBanOffence } from '../peers/offences.js';
import { isVoidSeq } from '../void.js';
import { assertAuthorHex } from '../state/client-id.js';
import { linkUp, openStretch } from './verify-chain.js';
import type { HistoryItem } from './describe.js';
import {
  HISTORY_CACHE_BYTES,
  HISTORY_DEFAULT_PAGE,
  HISTORY_FETCH_BATCH,
  HISTORY_MAX_PAGE,
  HISTORY_MAX_WALK,
  HISTORY_RUN_TRIES
} from './constants.js';
import { HistoryTooFarError, HistoryUnavailableError } from './errors.js';

/** What the history reads of the node (a Ledger and its store fit, see ledgerHistorySource). */
export interface HistorySource {
  networkId: Uint8Array;
  genesis: Genesis;
  head(author: string): FeedHead | undefined;
  /** A void feed's fork seq (its entries at and above it are not canonical), or undefined. */
  voidFrom(author: string): number | undefined;
  /** Stored entries of `author` with from <= seq <= to, ascending, at most `limit`. */
  stored(author: string, from: number, to: number, limit?: number): Promise<HashedEntry[]>;
  /** The header kept when `author`'s entry `seq` was pruned, if any. */
  prunedHeader(author: string, seq: number): Promise<EntryHeader | undefined>;
  describe(h: HashedEntry, held: boolean): HistoryItem;
}

/**
 * Asks a peer for `author`'s entries from `from` (engine.requestRange): not one in `exclude`, and
 * only `only` when given. Resolves with a non-empty answer and the byte cap it was asked with
 * (`maxBytes`); throws when no peer served.
 */
export type RangeFetch = (
  author: string,
  from: number,
  to: number,
  o: { exclude: ReadonlySet<string>; only?: string }
) => Promise<{ peer: string; entries: Uint8Array[]; maxBytes: number }>;

export interface HistoryPage {
  author: string;
  /** Newest first. */
  items: HistoryItem[];
  /** Entries of this page fetched from peers by this call (not held, not cached). */
  fetched: number;
  /** Peers that served them. */
  peers: string[];
  /** Seq to pass as `before` for the next (older) page; undefined when seq 1 is in this page. */
  next?: number;
}

export interface FeedHistoryOptions {
  source: HistorySource;
  fetch: RangeFetch;
  /** A peer sent data that fails verification (ban offences are reported as such). */
  onInvalid?: (peer: string, error: LedgerError) => void;
  /** Bytes of verified history cached (default HISTORY_CACHE_BYTES). */
  cacheBytes?: number;
  /** Most entries fetched above a page to reach a trusted one (default HISTORY_MAX_WALK). */
  maxWalk?: number;
}

/** A trusted point of a feed: the entry at `seq` (or the head) links down to the hash `prev`. */
interface Anchor {
  seq: number;
  prev: Uint8Array;
}

const anchorOf = (h: HashedEntry): Anchor => ({ seq: h.entry.seq, prev: h.entry.prev });

export class FeedHistory {
  private readonly cache = new Map<string, HashedEntry>();
  private cachedBytes = 0;

  constructor(private readonly o: FeedHistoryOptions) {}

  /**
   * Up to `limit` (default HISTORY_DEFAULT_PAGE, at most HISTORY_MAX_PAGE) entries of `author`'s
   * feed below seq `before` (default: from its head down), newest first. A void feed's history ends
   * below its fork. Throws HistoryUnavailableError when pruned entries cannot be fetched from any
   * peer (or no peer's answer verifies), HistoryTooFarError when reaching `before` would mean
   * fetching more than HISTORY_MAX_WALK entries above it first (page down from the head instead),
   * InvalidKeyError for an author that is not 64 lowercase hex, RangeError for a bound that is not a
   * positive integer.
   */
  async page(author: string, o: { before?: number; limit?: number } | null = {}): Promise<HistoryPage> {
    assertAuthorHex(author);
    if (o !== null && typeof o !== 'object') throw new RangeError('options must be an object');
    try {
      return await this.pageOnce(author, o ?? {});
    } catch (e) {
      // A peer showed the feed is void below the page's top (its evidence is ingested now): the
      // history ends below the fork, so the page is computed again once.
      if ((e as Error)?.name !== 'SyncFeedVoidError') throw e;
      return this.pageOnce(author, o ?? {});
    }
  }

  private async pageOnce(author: string, o: { before?: number; limit?: number }): Promise<HistoryPage> {
    for (const [name, v] of [
      ['before', o.before],
      ['limit', o.limit]
    ] as const) {
      if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1))
        throw new RangeError(`${name} must be a positive integer`);
    }
    const head = this.o.source.head(author);
    const empty: HistoryPage = { author, items: [], fetched: 0, peers: [] };
    if (head === undefined) return empty;
    const s = this.o.source.voidFrom(author);
    const last = s !== undefined ? s - 1 : isVoidSeq(head.seq) ? 0 : head.seq;
    const top = Math.min(last, (o.before ?? Infinity) - 1);
    if (!(top >= 1)) return empty;
    const limit = Math.max(1, Math.min(HISTORY_MAX_PAGE, Math.floor(o.limit ?? HISTORY_DEFAULT_PAGE)));
    const from = Math.max(1, top - limit + 1);
    const known = await this.known(author, from, top);
    const served = new Set<string>();
    let fetched = 0;
    // Fill holes from the top down: each hole links to the known entry right above it.
    for (let seq = top; seq >= from; seq--) {
      if (known.has(seq)) continue;
      let a = seq;
      while (a > from && !known.has(a - 1)) a--;
      const above = await this.trustedAbove(author, seq, last, head, known);
      const got = await this.fetchRun(author, a, above, seq, served);
      for (const h of got) known.set(h.entry.seq, { h, held: false });
      fetched += seq - a + 1;
      seq = a;
    }
    const items: HistoryItem[] = [];
    for (let seq = top; seq >= from; seq--) {
      const k = known.get(seq)!;
      items.push(this.o.source.describe(k.h, k.held));
    }
    return { author, items, fetched, peers: [...served], ...(from > 1 ? { next: from } : {}) };
  }

  /** Entries held or cached of `author` in from..to. */
  private async known(
    author: string,
    from: number,
    to: number
  ): Promise<Map<number, { h: HashedEntry; held: boolean }>> {
    const out = new Map<number, { h: HashedEntry; held: boolean }>();
    for (const h of await this.o.source.stored(author, from, to)) out.set(h.entry.seq, { h, held: true });
    for (let seq = from; seq <= to; seq++) {
      const c = this.cached(author, seq);
      if (c !== undefined && !out.has(seq)) out.set(seq, { h: c, held: false });
    }
    return out;
  }

  /**
   * The trust anchor of the hole ending at `seq`: the nearest held or cached entry above it, or,
   * when nothing above is held (a replica that joined from a snapshot holds no entries), the
   * feed's head hash itself (`last` is then the head's seq).
   */
  private async trustedAbove(
    author: string,
    seq: number,
    last: number,
    head: FeedHead,
    known: Map<number, { h: HashedEntry }>
  ): Promise<Anchor> {
    const k = known.get(seq + 1);
    if (k !== undefined) return anchorOf(k.h);
    const [low] = await this.o.source.stored(author, seq + 1, last, 1);
    const walk = this.o.maxWalk ?? HISTORY_MAX_WALK;
    const bound = Math.min(low?.entry.seq ?? last + 1, seq + 1 + walk);
    for (let s = seq + 1; s < bound; s++) {
      const c = this.cached(author, s);
      if (c !== undefined) return anchorOf(c);
    }
    const anchor: Anchor | undefined =
      low !== undefined
        ? anchorOf(low)
        : last === head.seq
          ? { seq: head.seq + 1, prev: fromHex(head.hash) }
          : undefined;
    if (anchor === undefined && last !== head.seq) {
      // A void feed of which nothing at or below its fork's predecessor is held (a joined node):
      // no entry or head hash to check fetched entries against.
      throw new HistoryUnavailableError(`no entry of this void feed held at or below seq ${last} to verify against`);
    }
    if (anchor === undefined || anchor.seq - seq - 1 > walk) {
      throw new HistoryTooFarError(`seq ${seq} is more than ${walk} entries below what this node holds`);
    }
    return anchor;
  }

  /**
   * Fetches and verifies `author`'s entries from..above-1, top down: batch by batch of at most
   * HISTORY_FETCH_BATCH entries right under the current anchor, each from one peer and checked to
   * link to the anchor before its lowest entry becomes the next anchor. So a call holds one batch
   * plus the page, whatever the walk (entries above `keepTo` go to the cache only), and a batch
   * that fails verification has one culprit, who is not asked again. A failed batch (timed out,
   * refused, short, forged) is asked again of any peer; HISTORY_RUN_TRIES failures in all end the
   * stretch with HistoryUnavailableError. Returns the entries at or below `keepTo`, ascending.
   */
  private async fetchRun(
    author: string,
    from: number,
    above: Anchor,
    keepTo: number,
    served: Set<string>
  ): Promise<HashedEntry[]> {
    const kept: HashedEntry[] = [];
    const exclude = new Set<string>();
    let anchor = above;
    let batch = HISTORY_FETCH_BATCH;
    for (let failures = 0; anchor.seq > from;) {
      const lo = Math.max(from, anchor.seq - batch);
      let got: { entries: HashedEntry[]; firstAnswer: number };
      try {
        got = await this.fetchBatch(author, lo, anchor, exclude, served);
      } catch (e) {
        if (!(e instanceof LedgerError) || e.name === 'SyncFeedVoidError') throw e;
        if (++failures >= HISTORY_RUN_TRIES) {
          throw new HistoryUnavailableError(`seqs ${lo}..${anchor.seq - 1}: ${e.message}`);
        }
        continue;
      }
      // Highest first: the least recently cached go first, and the next batch (or the next, older
      // page) links to the lowest of these.
      for (const h of [...got.entries].reverse()) this.remember(h);
      for (const h of got.entries) if (h.entry.seq <= keepTo) kept.push(h);
      anchor = anchorOf(got.entries[0]);
      // Answers cut at the byte cap: the next batch asks for what one answer carried.
      batch = got.firstAnswer < got.entries.length ? got.firstAnswer : HISTORY_FETCH_BATCH;
    }
    return kept.sort((x, y) => x.entry.seq - y.entry.seq);
  }

  /**
   * One batch lo..anchor.seq-1 from one peer, answer by answer (an answer cut at the byte cap is
   * continued by the same peer), verified to link up to `anchor`. A peer whose answer is forged,
   * on another branch, short without reason (fewer entries than asked and under half the byte
   * cap: an honest server sends all it holds up to the cap) or whose batch does not link up is
   * added to `exclude`; a timeout is not (it may be a lost message).
   */
  private async fetchBatch(
    author: string,
    lo: number,
    anchor: Anchor,
    exclude: Set<string>,
    served: Set<string>
  ): Promise<{ entries: HashedEntry[]; firstAnswer: number }> {
    const run: HashedEntry[] = [];
    let peer: string | undefined;
    let firstAnswer = 0;
    let blame = false;
    try {
      while (lo + run.length < anchor.seq) {
        const at = lo + run.length;
        const asked = anchor.seq - at;
        blame = false;
        const answer = await this.o.fetch(author, at, anchor.seq - 1, { exclude, only: peer });
        if (exclude.has(answer.peer) || (peer !== undefined && answer.peer !== peer)) {
          throw new HistoryUnavailableError(`peer ${answer.peer} was not asked`);
        }
        blame = true;
        peer = answer.peer;
        const got = await this.check(peer, answer.entries.slice(0, asked), author, at);
        linkUp(run.at(-1), got[0].entry.prev);
        run.push(...got);
        if (firstAnswer === 0) firstAnswer = got.length;
        const bytes = answer.entries.reduce((n, e) => n + e.length, 0);
        if (got.length < asked && bytes < answer.maxBytes / 2) {
          throw new HistoryUnavailableError(`peer ${peer} answered ${got.length} of ${asked} entries`);
        }
      }
      blame = true;
      linkUp(run.at(-1), anchor.prev);
      if (peer !== undefined) served.add(peer);
      return { entries: run, firstAnswer };
    } catch (e) {
      if (peer !== undefined && blame) exclude.add(peer);
      throw e;
    }
  }

  /** openStretch, reporting a peer whose answer is a ban offence. */
  private async check(peer: string, entries: Uint8Array[], author: string, from: number): Promise<HashedEntry[]> {
    const { networkId, genesis } = this.o.source;
    try {
      return await openStretch(entries, {
        author,
        from,
        networkId,
        genesis,
        header: (seq) => this.o.source.prunedHeader(author, seq)
      });
    } catch (e) {
      if (e instanceof LedgerError && isBanOffence(e.code)) this.o.onInvalid?.(peer, e);
      throw e;
    }
  }

  private cached(author: string, seq: number): HashedEntry | undefined {
    const k = `${author}:${seq}`;
    const h = this.cache.get(k);
    if (h !== undefined) {
      this.cache.delete(k); // least recently used first out: move to the end
      this.cache.set(k, h);
    }
    return h;
  }

  private remember(h: HashedEntry): void {
    const k = `${toHex(h.entry.author)}:${h.entry.seq}`;
    if (this.cache.has(k)) return;
    this.cache.set(k, h);
    this.cachedBytes += size(h);
    const max = this.o.cacheBytes ?? HISTORY_CACHE_BYTES;
    for (const [key, old] of this.cache) {
      if (this.cachedBytes <= max) break;
      this.cache.delete(key);
      this.cachedBytes -= size(old);
    }
  }
}

function size(h: HashedEntry): number {
  return h.entry.payload.length + 200;
}
