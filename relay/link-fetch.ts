// Learning a missing link (issue 10): a plain relay keeps no ledger, so an author whose feed it
// did not see from seq 1 (it started or restarted later, or it lost an entry) never links there.
// When a validly signed entry (author, seq n, prev h) is judged a gap, the relay asks a peer that
// holds the feed for the entry at n - 1 (relay/sync-fetch.ts: the mesh's archive relay first, then
// the peer that sent the entry), and keeps it only if it is that author's entry at n - 1, for this
// network, validly signed, and hashes to h: the link is then verified, not trusted.
//
// Bounded: one fetch in flight per author (further gaps of that author are Ignored meanwhile),
// at most `maxInflight` at once and `perSecond` started per second in all (a token bucket), a
// whole fetch gives up after `timeoutMs`, an (author, seq)
// that could not be fetched is not asked again for `negativeMs`, an author whose fetch failed is
// not asked again for `authorCooldownMs`, and only a gap costs a fetch (a broken chain, whose
// seq - 1 is known, never does). One fetch is one small request for one entry to a peer the relay
// is already connected to: it never dials, so the relay is no amplifier.
import { decodeEntry, verifyEntry } from '../src/lib/core/entry.js';
import { toHex } from '../src/lib/core/bytes.js';
import type { Genesis } from '../src/lib/core/types.js';

/** Transport: the raw entries a peer answers for `author`'s seq `seq` (unverified). */
export type FetchEntries = (peer: string, author: string, seq: number, signal: AbortSignal) => Promise<Uint8Array[]>;

export interface LinkFetchOptions {
  /** Fetches in flight at once in all; beyond it a gap is Ignored without one. */
  maxInflight: number;
  /** A whole fetch (every peer tried) gives up after this long, ms. */
  timeoutMs: number;
  /** An (author, seq) not fetched is not asked again for this long, ms. */
  negativeMs: number;
  /** An author whose fetch failed is not asked again for this long, ms. */
  authorCooldownMs: number;
  /** Entries of the negative caches (author:seq and author) at most; the oldest go first. */
  maxNegative: number;
  /** Peers asked per fetch at most. */
  maxPeers: number;
  /** Fetches started per second at most (bucket of as many), in all. */
  perSecond: number;
}

export const LINK_FETCH_DEFAULTS: LinkFetchOptions = {
  maxInflight: 4,
  timeoutMs: 2_000,
  negativeMs: 60_000,
  authorCooldownMs: 5_000,
  maxNegative: 4_096,
  maxPeers: 3,
  perSecond: 20
};

/** Fetches started, links learnt, fetches that failed, gaps not fetched (a bound held them back). */
export interface LinkFetchCounts {
  started: number;
  learnt: number;
  failed: number;
  skipped: number;
}

export interface LinkFetcherInit {
  networkId: Uint8Array;
  genesis: Genesis;
  fetch: FetchEntries;
  /** Peers to ask, best first (the archive relays of the mesh, then `via` if it serves sync). */
  peers: (via?: string) => Promise<string[]> | string[];
  now?: () => number;
  opts?: Partial<LinkFetchOptions>;
}

/** A bounded map of keys to expiry times (ms); the oldest inserted goes first. */
class Expiring {
  private readonly until = new Map<string, number>();
  constructor(private readonly max: number) {}
  has(key: string, now: number): boolean {
    const t = this.until.get(key);
    if (t === undefined) return false;
    if (t > now) return true;
    this.until.delete(key);
    return false;
  }
  set(key: string, until: number): void {
    this.until.delete(key);
    if (this.until.size >= this.max) this.until.delete(this.until.keys().next().value!);
    this.until.set(key, until);
  }
  get size(): number {
    return this.until.size;
  }
}

export class LinkFetcher {
  readonly counts: LinkFetchCounts = { started: 0, learnt: 0, failed: 0, skipped: 0 };
  private readonly opts: LinkFetchOptions;
  private readonly authors = new Set<string>();
  private readonly failedSeqs: Expiring;
  private readonly cooling: Expiring;
  private readonly now: () => number;
  private tokens: number;
  private tokensAt: number;

  constructor(private readonly init: LinkFetcherInit) {
    this.opts = { ...LINK_FETCH_DEFAULTS, ...init.opts };
    this.failedSeqs = new Expiring(this.opts.maxNegative);
    this.cooling = new Expiring(this.opts.maxNegative);
    this.now = init.now ?? Date.now;
    this.tokens = this.opts.perSecond;
    this.tokensAt = this.now();
  }

  /** Takes a token of the global start rate; false when none is left. */
  private take(now: number): boolean {
    this.tokens = Math.min(this.opts.perSecond, this.tokens + ((now - this.tokensAt) * this.opts.perSecond) / 1000);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Fetches in flight now. */
  get inflight(): number {
    return this.authors.size;
  }

  /**
   * Fetches `author`'s (hex) entry at `seq` and resolves true when one of the peers served an
   * entry that is that author's at `seq`, on this network, validly signed, with hash `hashHex`;
   * false when it was not fetched (a bound, a cache) or nobody served a valid one. Never throws.
   */
  async fetch(author: string, seq: number, hashHex: string, via?: string): Promise<boolean> {
    const key = `${author}:${seq}:${hashHex}`;
    const now = this.now();
    if (
      seq < 1 ||
      this.authors.has(author) ||
      this.authors.size >= this.opts.maxInflight ||
      this.failedSeqs.has(key, now) ||
      this.cooling.has(author, now) ||
      !this.take(now)
    ) {
      this.counts.skipped++;
      return false;
    }
    this.authors.add(author);
    let peers: string[];
    try {
      peers = (await this.init.peers(via)).slice(0, this.opts.maxPeers);
    } catch {
      peers = [];
    }
    if (peers.length === 0) {
      this.authors.delete(author);
      this.counts.skipped++;
      return false;
    }
    this.counts.started++;
    try {
      if (await this.tryPeers(peers, author, seq, hashHex)) {
        this.counts.learnt++;
        return true;
      }
    } finally {
      this.authors.delete(author);
    }
    this.counts.failed++;
    const after = this.now();
    this.failedSeqs.set(key, after + this.opts.negativeMs);
    this.cooling.set(author, after + this.opts.authorCooldownMs);
    return false;
  }

  private async tryPeers(peers: string[], author: string, seq: number, hashHex: string): Promise<boolean> {
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    for (const peer of peers) {
      if (signal.aborted) return false;
      const entries = await this.init.fetch(peer, author, seq, signal).catch(() => []);
      for (const bytes of entries) if (await this.valid(bytes, author, seq, hashHex)) return true;
    }
    return false;
  }

  /** Whether `bytes` is `author`'s entry at `seq` with hash `hashHex`, on this network, validly signed. */
  private async valid(bytes: Uint8Array, author: string, seq: number, hashHex: string): Promise<boolean> {
    try {
      const h = decodeEntry(bytes, this.init.genesis.maxEntryBytes);
      if (h.entry.seq !== seq || toHex(h.hash) !== hashHex || toHex(h.entry.author) !== author) return false;
      await verifyEntry(h.entry, this.init.networkId, this.init.genesis);
      return true;
    } catch {
      return false;
    }
  }
}
