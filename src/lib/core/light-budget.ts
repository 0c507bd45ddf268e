// The storage budget of a light replica (SPEC §3 Roles): it keeps the compacted state, every
// feed head and the recent entries, and prunes the oldest entries behind its compaction once the
// entries it holds pass the budget. A full replica keeps everything (this module is not used).
//
// Accounting: the bytes of an entry are its canonical encoding (what the store holds apart from
// indexes). They are counted when an entry is stored and when the ledger opens (one scan of the
// held entries, which the budget itself bounds), and subtracted when a range is pruned.
//
// Pruning (after each compaction, never before: replay starts at the compaction's heads):
// - only entries at or below the author's compaction head, and never the newest `keepRecent` of
//   a feed (the head entry is never pruned by any store);
// - never the node's own feed (`own`): until a peer has fetched them, its own entries may exist
//   nowhere else, so they are not bounded by the budget;
// - largest holders first, half of what each may lose per step, down to LIGHT_PRUNE_TARGET of
//   the budget (hysteresis: not every compaction prunes).
import type { FeedHead, HashedEntry } from './types.js';
import type { LedgerStore } from './storage.js';
import type { CoverageException } from './sync/messages.js';
import { encodeEntry } from './entry.js';
import { toHex } from './bytes.js';
import type { PrunedHeaders } from './pruned-headers.js';
import { LIGHT_KEEP_RECENT, LIGHT_PRUNE_TARGET } from './constants.js';
import { isVoidSeq } from './void.js';

export type ReplicaRole = 'full' | 'light';

/** A light replica's budget and what it holds now. */
export interface BudgetStatus {
  role: ReplicaRole;
  /** Budget for stored entries, bytes (null for a full replica: no budget). */
  budgetBytes: number | null;
  /** Bytes of the entries held (canonical encodings). */
  bytesUsed: number;
  /** Entries pruned since the ledger opened. */
  pruned: number;
}

interface Held {
  /** Lowest seq held (entries below were pruned). */
  from: number;
  bytes: number;
}

/** Entries held per author, in bytes, and the pruning policy of a light replica. */
export class EntryBudget {
  private readonly held = new Map<string, Held>();
  private used = 0;
  private prunedCount = 0;

  constructor(
    readonly budgetBytes: number,
    private readonly keepRecent = LIGHT_KEEP_RECENT,
    /** The node's own author (hex): never pruned. */
    private readonly own?: string
  ) {
    if (!Number.isSafeInteger(budgetBytes) || budgetBytes < 1)
      throw new RangeError('budget must be a positive integer');
  }

  /** Counts what `store` holds now (one scan; call once when the ledger opens). */
  static async load(
    store: LedgerStore,
    budgetBytes: number,
    opts: { keepRecent?: number; own?: string } = {}
  ): Promise<EntryBudget> {
    const b = new EntryBudget(budgetBytes, opts.keepRecent, opts.own);
    for (const h of await store.entriesAfter([])) b.add(h);
    return b;
  }

  /** Counts a newly stored entry. */
  add(h: HashedEntry): void {
    const author = toHex(h.entry.author);
    const size = encodeEntry(h.entry).length;
    const x = this.held.get(author);
    if (x === undefined) this.held.set(author, { from: h.entry.seq, bytes: size });
    else {
      x.bytes += size;
      x.from = Math.min(x.from, h.entry.seq);
    }
    this.used += size;
  }

  get bytesUsed(): number {
    return this.used;
  }

  status(): BudgetStatus {
    return { role: 'light', budgetBytes: this.budgetBytes, bytesUsed: this.used, pruned: this.prunedCount };
  }

  /**
   * Sync coverage exceptions: the feeds held from a seq above 1 (pruned), at most `max` (those
   * not listed are then asked for and answered with nothing; see PROTOCOL.md §11.3).
   */
  coverage(max: number): CoverageException[] {
    const out: CoverageException[] = [];
    for (const [author, x] of this.held) {
      if (out.length >= max) break;
      if (x.from > 1) out.push({ author, from: x.from });
    }
    return out;
  }

  /**
   * Prunes the oldest entries behind `compacted` (the heads the stored compaction covers) until
   * the held bytes are at most LIGHT_PRUNE_TARGET × budget, or nothing more may go. Returns the
   * number of entries pruned. Their headers go to `headers` first (pruned-headers.ts). Storage
   * errors propagate (nothing is counted for a failed step).
   */
  async enforce(store: LedgerStore, compacted: readonly FeedHead[], headers: PrunedHeaders): Promise<number> {
    if (this.used <= this.budgetBytes) return 0;
    const target = Math.floor(this.budgetBytes * LIGHT_PRUNE_TARGET);
    // Not a void head (bootstrapped, void.ts): the canonical entries it took above its light
    // header's top are what binds it, and replay walks them from that top.
    const others = compacted.filter((h) => h.author !== this.own && !isVoidSeq(h.seq));
    const limit = new Map(others.map((h) => [h.author, h.seq - this.keepRecent + 1]));
    let total = 0;
    while (this.used > target) {
      const step = await this.pruneLargest(store, limit, headers);
      if (step === 0) break;
      total += step;
    }
    return total;
  }

  /** One step: the largest holder that may lose anything loses the older half of what it may. */
  private async pruneLargest(store: LedgerStore, limit: Map<string, number>, headers: PrunedHeaders): Promise<number> {
    const candidates = [...this.held.entries()]
      .filter(([author, x]) => (limit.get(author) ?? 0) > x.from)
      .sort((a, b) => b[1].bytes - a[1].bytes);
    const first = candidates[0];
    if (first === undefined) return 0;
    const [author, x] = first;
    const maxBefore = limit.get(author)!;
    const before = x.from + Math.max(1, Math.ceil((maxBefore - x.from) / 2));
    const doomed = await store.getRange(author, x.from, before - 1);
    const bytes = doomed.reduce((n, h) => n + encodeEntry(h.entry).length, 0);
    await headers.keep(author, doomed); // first: the causal rules still need these headers
    const n = await store.pruneBefore(author, before);
    x.from = before;
    x.bytes -= bytes;
    this.used -= bytes;
    this.prunedCount += n;
    return Math.max(n, 1); // the range is gone either way: move on
  }
}
