// Gossip carries only entries that link. An entry heard on the entries topic is forwarded only when
// the node can see that its `prev` is the hash of an entry it knows at seq - 1 (seq 1 links to the
// empty feed). An entry whose predecessor the node does not know (a gap: the entry is beyond the
// known head + 1, or its author is unknown here) or whose `prev` names another entry than the one
// known at seq - 1 (a broken chain) is not forwarded; filling gaps is the sync protocol's job.
//
// ChainLinks remembers, per author, the hashes of the last few seqs it saw link (a bounded LRU of
// authors), and can ask a `lookup` for the rest (a ledger's stored entries). Gossip validates
// messages concurrently: a caller marks each entry as being judged when its message arrives
// (begin), so a successor whose predecessor is still being judged waits for that verdict, however
// slow the checks are under load; a predecessor not seen at all is waited for up to `waitMs`
// (a bounded number wait at once). A predecessor already judged and not learnt (a gap itself, a
// broken link, refused) is not waited for again: its successor is a gap at once, unless that
// predecessor would link now (its own predecessor arrived since: it is about to be learnt). Waiting there
// held a validation slot per entry for `waitMs` after every lost message of an author: at 100
// entries/s per author, enough to fill a node's gossip queue (256) from a few gapped authors.
// Pure: no DOM, Dexie or libp2p (the timer is injectable for tests).
import {
  LINKS_HASHES_PER_SEQ,
  LINKS_MAX_AUTHORS,
  LINKS_MAX_INFLIGHT,
  LINKS_MAX_PARKED,
  LINKS_MAX_UNLINKED,
  LINKS_MAX_WAITING,
  LINKS_WAIT_MS,
  LINKS_WINDOW_SEQS
} from './constants.js';

/**
 * 'links': prev is the known entry at seq - 1 (or seq 1 with a zero prev). 'broken': an entry is
 * known at seq - 1 and prev is not it. 'gap': nothing is known at seq - 1 (even after waiting).
 */
export type LinkVerdict = 'links' | 'broken' | 'gap';

/** Hex hashes of the entries held at (author, seq); empty when none. */
export type LinkLookup = (author: string, seq: number) => Promise<readonly string[]> | readonly string[];

export interface ChainLinksOptions {
  /** Authors remembered; the least recently used is forgotten first. */
  maxAuthors: number;
  /** Seqs remembered per author (the highest ones). */
  windowSeqs: number;
  /** Distinct hashes remembered per (author, seq): an entry and its fork twin. */
  hashesPerSeq: number;
  /** Longest wait for a predecessor, ms. */
  waitMs: number;
  /** Entries judged and not learnt remembered (their successors are gaps at once); the oldest forgotten first. */
  maxUnlinked: number;
  /** Entries waiting at once; beyond it an unknown predecessor is a gap at once. */
  maxWaiting: number;
  /** Entries marked as being judged at once (begin); beyond it they are not marked. */
  maxInflight: number;
  /** Gap entries parked at once (park), waiting for their predecessor; the oldest go first. */
  maxParked: number;
  /** Entries the node holds besides the remembered ones (e.g. its ledger); none by default. */
  lookup?: LinkLookup;
  /** Timer, injectable for tests (default setTimeout/clearTimeout). */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export const CHAIN_LINKS_DEFAULTS: ChainLinksOptions = {
  maxAuthors: LINKS_MAX_AUTHORS,
  windowSeqs: LINKS_WINDOW_SEQS,
  hashesPerSeq: LINKS_HASHES_PER_SEQ,
  waitMs: LINKS_WAIT_MS,
  maxUnlinked: LINKS_MAX_UNLINKED,
  maxWaiting: LINKS_MAX_WAITING,
  maxInflight: LINKS_MAX_INFLIGHT,
  maxParked: LINKS_MAX_PARKED
};

/**
 * Verdicts given since start, entries that had to wait for their predecessor, and gaps judged
 * at once because the predecessor had been judged and not learnt (`afterUnlinked`, also in `gaps`).
 */
export interface LinkCounts {
  links: number;
  broken: number;
  gaps: number;
  waited: number;
  afterUnlinked: number;
}

const ZERO_HASH_HEX = '0'.repeat(64);

export class ChainLinks {
  private readonly opts: ChainLinksOptions;
  /** author → seq → hashes (hex); Map order = least recently used first. */
  private readonly authors = new Map<string, Map<number, string[]>>();
  /** `author:seq` awaited → wake-up callbacks. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private waitingNow = 0;
  /** Entries waiting now for the verdict on a predecessor being judged (not bounded by maxWaiting). */
  private awaitingNow = 0;
  /** `author:seq:hash` of entries being judged → resolves with their verdict (true: learnt). */
  private readonly inflight = new Map<string, Promise<boolean>>();
  /** `author:seq` of verified gap entries → their hash and prev; Map order = age. */
  private readonly parked = new Map<string, { hash: string; prev: string }[]>();
  private parkedCount = 0;
  /** `author:seq:hash` of entries judged and not learnt → their prev ('' when not given); Map order = age. */
  private readonly unlinked = new Map<string, string>();
  readonly counts: LinkCounts = { links: 0, broken: 0, gaps: 0, waited: 0, afterUnlinked: 0 };

  constructor(opts: Partial<ChainLinksOptions> = {}) {
    this.opts = { ...CHAIN_LINKS_DEFAULTS, ...opts };
  }

  /** Authors remembered now. */
  get size(): number {
    return this.authors.size;
  }

  /** Entries waiting for their predecessor now: for its verdict (being judged), or for it to turn up. */
  get waiting(): number {
    return this.waitingNow + this.awaitingNow;
  }

  /** Records that `author`'s entry at `seq` with hash `hashHex` (lowercase hex) links here. */
  learn(author: string, seq: number, hashHex: string): void {
    let window = this.authors.get(author);
    if (window !== undefined) this.authors.delete(author);
    else {
      if (this.authors.size >= this.opts.maxAuthors) this.authors.delete(this.authors.keys().next().value!);
      window = new Map();
    }
    this.authors.set(author, window);
    const hashes = window.get(seq) ?? [];
    if (!hashes.includes(hashHex) && hashes.length < this.opts.hashesPerSeq) hashes.push(hashHex);
    window.set(seq, hashes);
    if (window.size > this.opts.windowSeqs) window.delete(Math.min(...window.keys()));
    this.unlinked.delete(`${author}:${seq}:${hashHex}`);
    const key = `${author}:${seq}`;
    const wake = this.waiters.get(key);
    if (wake !== undefined) {
      this.waiters.delete(key);
      for (const w of wake) w();
    }
    this.unpark(author, seq + 1, hashHex);
  }

  /**
   * Parks a verified entry judged a gap (not forwarded): once its predecessor is learnt, it is
   * learnt too (it links), so the entries after it link again. Without it, a node that keeps no
   * ledger (a plain relay) would never forward that author again after one late predecessor.
   */
  park(author: string, seq: number, hashHex: string, prevHex: string): void {
    const key = `${author}:${seq}`;
    const list = this.parked.get(key) ?? [];
    if (list.some((p) => p.hash === hashHex) || list.length >= this.opts.hashesPerSeq) return;
    while (this.parkedCount >= this.opts.maxParked) {
      const [oldest, l] = this.parked.entries().next().value!;
      this.parked.delete(oldest);
      this.parkedCount -= l.length;
    }
    list.push({ hash: hashHex, prev: prevHex });
    this.parked.set(key, list);
    this.parkedCount++;
  }

  /** Entries parked now. */
  get parkedEntries(): number {
    return this.parkedCount;
  }

  private unpark(author: string, seq: number, prevHex: string): void {
    const key = `${author}:${seq}`;
    const list = this.parked.get(key);
    if (list === undefined) return;
    const next = list.filter((p) => p.prev === prevHex);
    if (next.length === 0) return;
    const rest = list.filter((p) => p.prev !== prevHex);
    this.parkedCount -= next.length;
    if (rest.length === 0) this.parked.delete(key);
    else this.parked.set(key, rest);
    for (const p of next) this.learn(author, seq, p.hash);
  }

  /**
   * Marks `author`'s entry at `seq` with hash `hashHex` as being judged. Call it synchronously as
   * its message arrives, before any asynchronous check, and call the returned function once it
   * is judged (always: a successor may be waiting): true learns it; false marks it judged and not
   * learnt (its successors are gaps at once); 'void' only ends the mark (a message rejected for
   * another entry of its batch says nothing of this one). `prevHex`: its prev, so that once that
   * predecessor is known here, its successors wait for it again (see check).
   */
  begin(author: string, seq: number, hashHex: string, prevHex = ''): (accepted: boolean | 'void') => void {
    const key = `${author}:${seq}:${hashHex}`;
    let resolve: ((learnt: boolean) => void) | undefined;
    if (!this.inflight.has(key) && this.inflight.size < this.opts.maxInflight)
      this.inflight.set(key, new Promise<boolean>((r) => (resolve = r)));
    let done = false;
    return (accepted) => {
      if (done) return;
      done = true;
      if (accepted === true) this.learn(author, seq, hashHex);
      else if (accepted === false && this.remembered(author, seq).includes(hashHex) === false)
        this.markUnlinked(key, prevHex);
      if (resolve === undefined) return;
      this.inflight.delete(key);
      resolve(accepted === true);
    };
  }

  /** Entries marked as being judged now. */
  get judging(): number {
    return this.inflight.size;
  }

  /**
   * Whether `author`'s entry at `seq` (≥ 1) with predecessor hash `prevHex` links to what this
   * node knows. Waits for a predecessor being judged (begin), else up to `waitMs` for one to be
   * learnt. Never throws unless `lookup` does.
   */
  async check(author: string, seq: number, prevHex: string): Promise<LinkVerdict> {
    if (seq <= 1) return this.count(seq === 1 && prevHex === ZERO_HASH_HEX ? 'links' : 'broken');
    let known = await this.known(author, seq - 1);
    if (known.length === 0) {
      const prevKey = `${author}:${seq - 1}:${prevHex}`;
      const mark = this.unlinked.get(prevKey);
      if (mark !== undefined && !this.inflight.has(prevKey) && !(await this.linksNow(author, seq - 1, mark))) {
        this.counts.afterUnlinked++;
        return this.count('gap');
      }
      const judged = this.inflight.get(prevKey);
      if (judged !== undefined || (await this.waitFor(author, seq - 1))) {
        this.counts.waited++;
        if (judged !== undefined) {
          this.awaitingNow++;
          await judged.finally(() => this.awaitingNow--);
        }
        known = await this.known(author, seq - 1);
      }
    }
    if (known.length === 0) return this.count('gap');
    return this.count(known.includes(prevHex) ? 'links' : 'broken');
  }

  private markUnlinked(key: string, prevHex: string): void {
    this.unlinked.delete(key);
    if (this.unlinked.size >= this.opts.maxUnlinked) this.unlinked.delete(this.unlinked.keys().next().value!);
    this.unlinked.set(key, prevHex);
  }

  /**
   * Whether an entry at `seq` with prev `prevHex` would link now. A gap entry whose predecessor
   * has since arrived is about to be learnt (a node's ledger applies the entry it held pending):
   * its successor waits for it as before, instead of being a gap at once.
   */
  private async linksNow(author: string, seq: number, prevHex: string): Promise<boolean> {
    if (prevHex === '') return false;
    if (seq <= 1) return prevHex === ZERO_HASH_HEX;
    return (await this.known(author, seq - 1)).includes(prevHex);
  }

  private count(v: LinkVerdict): LinkVerdict {
    if (v === 'links') this.counts.links++;
    else if (v === 'broken') this.counts.broken++;
    else this.counts.gaps++;
    return v;
  }

  private remembered(author: string, seq: number): readonly string[] {
    return this.authors.get(author)?.get(seq) ?? [];
  }

  private async known(author: string, seq: number): Promise<readonly string[]> {
    const mine = this.remembered(author, seq);
    const held = this.opts.lookup === undefined ? [] : await this.opts.lookup(author, seq);
    return held.length === 0 ? mine : [...new Set([...mine, ...held])];
  }

  /** Resolves true once (author, seq) is learnt, false after waitMs or when too many wait. */
  private waitFor(author: string, seq: number): Promise<boolean> {
    if (this.remembered(author, seq).length > 0) return Promise.resolve(true);
    if (this.waitingNow >= this.opts.maxWaiting || this.opts.waitMs <= 0) return Promise.resolve(false);
    const setTimer = this.opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    const clearTimer = this.opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    const key = `${author}:${seq}`;
    this.waitingNow++;
    return new Promise<boolean>((resolve) => {
      let set = this.waiters.get(key);
      if (set === undefined) this.waiters.set(key, (set = new Set()));
      const done = (learnt: boolean): void => {
        this.waitingNow--;
        const s = this.waiters.get(key);
        s?.delete(wake);
        if (s?.size === 0) this.waiters.delete(key);
        resolve(learnt);
      };
      const timer = setTimer(() => done(false), this.opts.waitMs);
      const wake = (): void => {
        clearTimer(timer);
        done(true);
      };
      set.add(wake);
    });
  }
}
