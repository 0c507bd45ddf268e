// Headers (lamport, Yjs clock) and hashes of entries a light replica pruned. The causal rules
// (causal.ts) need the header of an entry's dependencies; an entry may name an older seq of another
// feed than this node still holds, so pruning keeps the two numbers of every entry it removes. The
// hash lets a void head bind a pruned entry s - 1 as its canonical top (void.ts, PROTOCOL.md §6.1.2).
//
// Stored as one meta row per author (`pruned-headers:<author>`): { from, lamport[], clock[],
// hashes, mac } for seqs from..from+n-1 (from is 1 unless the feed itself began in a light
// snapshot); `hashes` is the n entry hashes concatenated (32 bytes each), absent in a row begun
// before hashes were kept. 48 bytes per pruned entry in memory, against ~100-300 for the entry.
//
// Sealed (PROTOCOL.md §10): `mac` is an HMAC of the row under the compaction seal's key
// (compaction-seal.ts sealPrunedHeaders), written with the row in one write. A row whose mac does
// not hold is CorruptStoreError; one with no mac is, under a v4 compaction seal, not this node's
// (ignored: if it claimed pruned entries, open's entry count finds them missing), and, in a store
// sealed before v4, a row written before rows were sealed: accepted once and sealed in place.
import type { HashedEntry } from './types.js';
import type { LedgerStore } from './storage.js';
import type { EntryHeader } from './causal.js';
import { CorruptStoreError } from './errors.js';
import { sealPrunedHeaders } from './compaction-seal.js';
import { concatBytes, toHex } from './bytes.js';
import { HASH_BYTES } from './constants.js';

const PREFIX = 'pruned-headers:';

interface Row {
  from: number;
  lamport: number[];
  clock: number[];
  hashes?: Uint8Array;
  mac?: string;
}

/** What to do with a row that has no mac: in a store sealed before v4, accept it (and seal it). */
export type UnsealedRows = 'ignore' | 'accept';

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
    r.clock.every((x) => Number.isSafeInteger(x) && x >= 0) &&
    (r.mac === undefined || typeof r.mac === 'string') &&
    (r.hashes === undefined || (r.hashes instanceof Uint8Array && r.hashes.length === r.lamport.length * HASH_BYTES))
  );
}

/** Per-author headers of pruned entries, cached in memory after the first read. */
export class PrunedHeaders {
  private readonly cache = new Map<string, Row | null>();

  /**
   * `seed`: this node's identity seed; rows are sealed with it and checked against it (without
   * one, as in tools and some tests, rows are neither). `unsealed`: see UnsealedRows.
   */
  constructor(
    private readonly store: LedgerStore,
    private readonly seed?: Uint8Array,
    private readonly unsealed: UnsealedRows = 'ignore'
  ) {}

  /** The header of `author`'s pruned entry at `seq`, or undefined. Throws CorruptStoreError on a malformed row. */
  async get(author: string, seq: number): Promise<EntryHeader | undefined> {
    const row = await this.row(author);
    if (row === null) return undefined;
    const i = seq - row.from;
    if (i < 0 || i >= row.lamport.length) return undefined;
    return { lamport: row.lamport[i], clock: row.clock[i] };
  }

  /** The hash (hex) of `author`'s pruned entry at `seq`, when its row keeps hashes; else undefined. */
  async hash(author: string, seq: number): Promise<string | undefined> {
    const row = await this.row(author);
    const i = row === null ? -1 : seq - row.from;
    if (row?.hashes === undefined || i < 0 || i >= row.lamport.length) return undefined;
    return toHex(row.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
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
    const cur = (await this.row(author)) ?? {
      from: entries[0].entry.seq,
      lamport: [],
      clock: [],
      hashes: new Uint8Array(0)
    };
    let next: Row = { from: cur.from, lamport: [...cur.lamport], clock: [...cur.clock] };
    const hashes: Uint8Array[] = [];
    for (const h of entries) {
      const i = h.entry.seq - next.from;
      if (i < next.lamport.length) continue; // already kept
      if (i !== next.lamport.length) break; // not consecutive: keep what joins
      next.lamport.push(h.entry.lamport);
      next.clock.push(h.entry.clock);
      hashes.push(h.hash);
    }
    // A row begun before hashes were kept goes on without them (they would not line up).
    if (cur.hashes !== undefined) next.hashes = concatBytes(cur.hashes, ...hashes);
    next = this.sealed(author, next);
    await this.store.setMeta(PREFIX + author, next);
    this.cache.set(author, next);
  }

  /** The row with its mac, when this instance has a seed. */
  private sealed(author: string, row: Row): Row {
    const { mac: _mac, ...rest } = row;
    return this.seed === undefined ? rest : { ...rest, mac: sealPrunedHeaders(this.seed, author, rest) };
  }

  private async row(author: string): Promise<Row | null> {
    const hit = this.cache.get(author);
    if (hit !== undefined) return hit;
    const v = await this.store.getMeta(PREFIX + author);
    if (v !== undefined && !isRow(v))
      throw new CorruptStoreError(`malformed pruned headers of ${author.slice(0, 16)}…`);
    const row = v === undefined ? null : await this.checked(author, v);
    this.cache.set(author, row);
    return row;
  }

  /** A stored row as this node may use it: its mac checked (see the file header). */
  private async checked(author: string, v: Row): Promise<Row | null> {
    if (this.seed === undefined) return v;
    if (v.mac !== undefined) {
      if (v.mac !== sealPrunedHeaders(this.seed, author, v))
        throw new CorruptStoreError(`the pruned headers of ${author.slice(0, 16)}… are not what this node sealed`, {
          author
        });
      return v;
    }
    if (this.unsealed === 'ignore') return null;
    const row = this.sealed(author, v);
    await this.store.setMeta(PREFIX + author, row);
    return row;
  }
}
