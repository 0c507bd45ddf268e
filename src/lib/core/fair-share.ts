// Fair-share eviction for a bounded store shared by several holders (authors, keyed by hex key):
// FeedSet's pending buffer (feeds.ts) and the refused variants (refused-variants.ts). Pure: the
// store keeps its own entries and tells this module only what each holder holds.
//
// Rule: while one more entry of `holder` (costing `bytes`) does not fit, the holder holding the
// most bytes (ties: most entries, then the highest key) gives up one entry (the store picks which:
// both pick that holder's highest seq), as long as it holds more than `holder` would with the
// newcomer (same bytes: more entries than `holder` would have). Otherwise the newcomer is the one
// that does not fit. Deterministic (a function of what is held), so a flood from a few keys only
// ever evicts itself.

/** What one holder holds: `bytes` (heldEntryBytes of each entry, summed) and `count` (entries). */
export interface Share {
  readonly bytes: number;
  readonly count: number;
}

/** A bounded store as the fair share sees it. */
export interface FairShareStore {
  /** True when one more entry costing `bytes` (heldEntryBytes) fits the store's bounds now. */
  fits(bytes: number): boolean;
  /** [key, share] of the holders; those holding nothing (count 0) are passed over. */
  shares(): Iterable<readonly [string, Share]>;
  /** Gives up one of `key`'s entries (the store's choice), so its share and the totals shrink. */
  evict(key: string): void;
}

/**
 * Makes room for one more entry of `holder` (which holds `mine` now) costing `bytes`, evicting
 * others' entries by the fair share; true when it fits now, false when the newcomer does not fit
 * (what was evicted before that stays evicted, as in both stores before this module).
 */
export function makeRoom(store: FairShareStore, holder: string, mine: Share, bytes: number): boolean {
  while (!store.fits(bytes)) {
    const big = biggest(store.shares());
    if (big === undefined || big[0] === holder || !outranks(big[1], mine, bytes)) return false;
    store.evict(big[0]);
  }
  return true;
}

/** The holder with the most bytes (ties: most entries, then the highest key); count 0 is skipped. */
export function biggest(shares: Iterable<readonly [string, Share]>): readonly [string, Share] | undefined {
  let best: readonly [string, Share] | undefined;
  for (const s of shares) {
    if (s[1].count === 0) continue;
    if (best === undefined || ranksAbove(s, best)) best = s;
  }
  return best;
}

/** True when `big` holds more than `mine` would with one more entry costing `bytes`. */
export function outranks(big: Share, mine: Share, bytes: number): boolean {
  const after = mine.bytes + bytes;
  return big.bytes > after || (big.bytes === after && big.count > mine.count + 1);
}

function ranksAbove([key, s]: readonly [string, Share], [bestKey, b]: readonly [string, Share]): boolean {
  if (s.bytes !== b.bytes) return s.bytes > b.bytes;
  if (s.count !== b.count) return s.count > b.count;
  return key > bestKey;
}
