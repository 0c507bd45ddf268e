// When the ledger compacts on its own. A compaction re-encodes, digests, seals and stores the
// whole state: O(state). Compacting every fixed number of entries makes ingest quadratic in the
// state's size. Instead a compaction is due once the payload bytes applied since the last one
// reach a fraction of the state it stored, so its cost per applied byte stays bounded (at most
// 1/stateRatio state-bytes of work per applied byte) and the state is stored at geometrically
// spaced sizes. The entry bounds keep the first compaction early (minEntries) and bound the
// entries a reopen must verify and replay on top of the stored state (maxEntries).
import { LEDGER_COMPACT_EVERY, LEDGER_COMPACT_MAX_ENTRIES, LEDGER_COMPACT_STATE_RATIO } from './constants.js';

export interface CompactionPolicy {
  /** Entries applied since the last compaction before one can be due (0: never compact). */
  minEntries: number;
  /** Due once the payload bytes applied since reach this fraction of the last stored state's bytes. */
  stateRatio: number;
  /** Due at this many entries since the last compaction, whatever the bytes (bounds replay on open). */
  maxEntries: number;
}

export const DEFAULT_COMPACTION_POLICY: CompactionPolicy = {
  minEntries: LEDGER_COMPACT_EVERY,
  stateRatio: LEDGER_COMPACT_STATE_RATIO,
  maxEntries: LEDGER_COMPACT_MAX_ENTRIES
};

/**
 * The policy of LedgerOptions: `every` (entries; 0: never) compacts after exactly that many
 * entries, as a fixed count; otherwise the default policy with `tune` applied.
 */
export function compactionPolicy(every?: number, tune: Partial<CompactionPolicy> = {}): CompactionPolicy {
  if (every !== undefined) {
    const n = Math.max(0, Math.floor(every));
    return { minEntries: n, stateRatio: 0, maxEntries: n };
  }
  const p = { ...DEFAULT_COMPACTION_POLICY, ...tune };
  return {
    minEntries: Math.max(0, Math.floor(p.minEntries)),
    stateRatio: Math.max(0, p.stateRatio),
    maxEntries: Math.max(p.minEntries, Math.floor(p.maxEntries))
  };
}

/**
 * True when a compaction is due: `since` counts entries and payload bytes applied since the last
 * compaction, `stateBytes` is the size of the state it stored (0 before the first one).
 */
export function compactionDue(
  p: CompactionPolicy,
  since: { entries: number; bytes: number },
  stateBytes: number
): boolean {
  if (p.minEntries === 0 || since.entries < p.minEntries) return false;
  return since.entries >= p.maxEntries || since.bytes >= p.stateRatio * stateBytes;
}
