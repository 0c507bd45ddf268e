// Headers (lamport, Yjs clock) of entries a light replica pruned. The causal rules (causal.ts)
// need the header of an entry's dependencies; an entry may name an older seq of another feed
// than this node still holds, so pruning keeps the two numbers of every entry it removes.
//
// Stored as one meta row per author (`pruned-headers:<author>`): { from, lamport[], clock[] }
// for seqs from..from+n-1 (from is 1 unless the feed itself began in a light snapshot). 16 bytes
// per pruned entry in memory, against ~100-300 bytes for the entry itself.
import type { HashedEntry } from './types.js';
import type { LedgerStore } from './storage.js';
import type { EntryHeader } from './causal.js';
import { CorruptStoreError } from './errors.js';

const PREFIX = 'pruned-headers:';

interface Row {
  from: number;
  lamport: number[];
  clock: number[];
}

function isRow(v: unknown): v is Row {
  const r = v as Row;
  return (
    r !== null &&
    typeof r === 'object' &&
    Number.isSafeInteger(r.from) &&
    r.from >= 1 &&
    Array.isArray(r.lamport) &&
    Array.isArray(r.clock) &&
    r.lamport.length === r.clock.length &&
    r.lamport.every((x) => Number.isSafeInteger(x) && x >= 0) &&
    r.clock.every((x) => Number.isSafeInteger(x) && x >= 0)
  );
}

/** Per-author headers of pruned entries, cached in memory after the first read. */
export class PrunedHeaders {
  private readonly cache = new Map<string, Row | null>();

  constructor(private readonly store: LedgerStore) {}

  /** The header of `author`'s pruned entry at `seq`, or undefined. Throws CorruptStoreError on a malformed row. */
  async get(author: string, seq: number): Promise<EntryHeader | undefined> {
    const row = await this.row(author);
    if (row === null) return undefined;
    const i = seq - row.from;
    if (i < 0 || i >= row.lamport.length) return undefined;
    return { lamport: row.lamport[i], clock: row.clock[i] };
  }

  /** How many of `author`'s entries were pruned (headers kept). Throws CorruptStoreError on a malformed row. */
  async count(author: string): Promise<number> {
    return (await this.row(author))?.lamport.length ?? 0;
  }

  /**
   * Records the headers of `entries` (consecutive seqs of one author, about to be pruned) BEFORE
   * they are pruned: a crash between the two leaves headers of entries still held, never the
   * other way round.
   */
  async keep(author: string, entries: readonly HashedEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const cur = (await this.row(author)) ?? { from: entries[0].entry.seq, lamport: [], clock: [] };
    const next: Row = { from: cur.from, lamport: [...cur.lamport], clock: [...cur.clock] };
    for (const h of entries) {
      const i = h.entry.seq - next.from;
      if (i < next.lamport.length) continue; // already kept
      if (i !== next.lamport.length) break; // not consecutive: keep what joins
      next.lamport.push(h.entry.lamport);
      next.clock.push(h.entry.clock);
    }
    await this.store.setMeta(PREFIX + author, next);
    this.cache.set(author, next);
  }

  private async row(author: string): Promise<Row | null> {
    const hit = this.cache.get(author);
    if (hit !== undefined) return hit;
    const v = await this.store.getMeta(PREFIX + author);
    if (v !== undefined && !isRow(v))
      throw new CorruptStoreError(`malformed pruned headers of ${author.slice(0, 16)}…`);
    const row = v === undefined ? null : v;
    this.cache.set(author, row);
    return row;
  }
}
