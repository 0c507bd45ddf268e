// The ledger's storage contract. Pure: adapters live in memory-store.ts (core) and
// platform/dexie-store.ts (IndexedDB). Every adapter passes test/helpers/store-compliance.ts.
import type { FeedHead, ForkEvidence, HashedEntry, IdentityKeys } from './types.js';

/** Per-author "I already have up to seq" vector; authors absent from it count as seq 0. */
export type SeqVector = ReadonlyArray<{ readonly author: string; readonly seq: number }>;

/** A persisted compacted state: the Yjs state that already includes every entry up to `heads`. */
export interface Compaction {
  /** Encoded state (e.g. a Yjs state update). */
  state: Uint8Array;
  /** The feed heads this state covers; replay applies `entriesAfter(heads)` on top. */
  heads: FeedHead[];
  /** When it was made, ms since the Unix epoch. */
  at: number;
  /** State digest of `state` when it was made (the ledger requires it; adapters store it as is). */
  digest?: string;
  /** Seal binding state, heads, digest and time to this node (compaction-seal.ts). */
  mac?: string;
}

/** What one `ingest` call did. */
export interface IngestResult {
  /** Entries newly stored. */
  added: number;
  /** Entries already stored with the same hash (ignored). */
  duplicates: number;
  /**
   * Incoming entries whose (author, seq) already holds a different entry. They were not
   * stored (the first one stays); the caller keeps them as fork evidence via `putFork`.
   */
  conflicts: HashedEntry[];
}

export interface StorageEstimate {
  usage: number;
  quota: number;
}

/**
 * What the platform said it lost when it opened the store. IndexedDB on Chromium reports
 * `amount` 'total' when it found the origin's backing store corrupt at open and deleted it
 * (IDBVersionChangeEvent.dataLoss / dataLossMessage); `message` is its reason, up to 500 chars.
 */
export interface StoreDataLoss {
  amount: string;
  message: string;
}

/** Structured-cloneable small value (string, number, boolean, null, Uint8Array, arrays, plain objects). */
export type MetaValue = unknown;

/**
 * Durable store of one node on one network.
 *
 * Feed head rules (all adapters):
 * - A head only moves forward and only to an entry that is stored (or to a compaction's head).
 * - Every stored entry of an author has a seq at or below its head (adapters rely on it to skip
 *   looking up keys above the head).
 * - `appendLocal` requires `seq === head.seq + 1` and `prev === head.hash` (or seq 1 with no head);
 *   re-appending the current head entry is a no-op (idempotent retry).
 * - `ingest` trusts the caller to have verified signatures and chains; per author, the head
 *   moves to the highest stored seq of the batch when that is above the current head.
 *
 * Atomicity: every write method is one transaction; when it rejects, nothing of it is stored.
 * A lack of space rejects with StorageQuotaError, whatever shape the platform reports it in.
 *
 * Time: adapters over asynchronous storage (Dexie) bound every operation: one that does not
 * settle in time is aborted and rejects with StorageTimeoutError. The exception to "nothing
 * stored" is a timeout with `rolledBack: false` (the transaction had begun committing): its
 * writes may land. A caller then rebuilds from the store, which shows them once they have.
 */
/** A local write's idempotency key (LedgerStore.writeTag) and the entry it was stored with. */
export interface WriteTagRow {
  tag: string;
  author: string;
  seq: number;
}

export interface LedgerStore {
  // identity
  loadIdentity(): Promise<IdentityKeys | undefined>;
  saveIdentity(keys: IdentityKeys): Promise<void>;

  // writes
  /**
   * Stores a locally authored entry and advances its author's head in one strictly durable
   * transaction; resolves only after commit (the write-ahead rule: announce after this).
   * Throws FeedHeadMismatchError if it does not extend the stored head. `tag`: the write's
   * idempotency key, stored in the same transaction (see writeTag); at most every
   * WRITE_TAGS_DROP_EVERY seqs, the tags of the author's writes WRITE_TAGS_KEPT or more seqs
   * below it are dropped there too (storage-rules.ts planWriteTags).
   */
  appendLocal(h: HashedEntry, tag?: string): Promise<void>;
  /**
   * appendLocal of several entries in order, in ONE strictly durable transaction (the ledger's
   * group commit): each must extend the head the previous ones left. All are stored or none:
   * on FeedHeadMismatchError, StorageQuotaError or any failure nothing of the batch is stored.
   * `tags[i]`: batch[i]'s idempotency key, if any (as appendLocal's `tag`).
   */
  appendLocalBatch(batch: readonly HashedEntry[], tags?: readonly (string | undefined)[]): Promise<void>;
  /**
   * The local write stored with `tag` (appendLocal, appendLocalBatch): its author and seq, at
   * least while it is among its author's last WRITE_TAGS_KEPT seqs; undefined otherwise.
   */
  writeTag(tag: string): Promise<WriteTagRow | undefined>;
  /** Stores verified replicated entries and advances heads in one transaction (relaxed durability). */
  ingest(batch: readonly HashedEntry[]): Promise<IngestResult>;

  // reads
  heads(): Promise<FeedHead[]>;
  getHead(author: string): Promise<FeedHead | undefined>;
  getEntry(author: string, seq: number): Promise<HashedEntry | undefined>;
  /** Stored entries of `author` with fromSeq <= seq <= toSeq, ascending, at most `limit`. */
  getRange(author: string, fromSeq: number, toSeq: number, limit?: number): Promise<HashedEntry[]>;
  /** Every stored entry with seq above the vector's seq for its author; by author, then seq. */
  entriesAfter(after: SeqVector): Promise<HashedEntry[]>;
  /** Number of stored entries. */
  count(): Promise<number>;

  // forks
  /** Idempotent: the same pair (in either order) is stored once. */
  putFork(ev: ForkEvidence): Promise<void>;
  forks(): Promise<ForkEvidence[]>;

  // compaction
  /** Replaces the compaction and raises stored heads to at least its heads, atomically. */
  saveCompaction(c: Compaction): Promise<void>;
  loadCompaction(): Promise<Compaction | undefined>;
  /**
   * Deletes entries of `author` with seq < beforeSeq, never the head entry. Returns how many.
   * The caller must have compacted them first.
   */
  pruneBefore(author: string, beforeSeq: number): Promise<number>;

  // small key/value
  getMeta(key: string): Promise<MetaValue | undefined>;
  setMeta(key: string, value: MetaValue): Promise<void>;
  deleteMeta(key: string): Promise<void>;

  /** Usage and quota of the backing storage, when the platform tells. */
  estimate(): Promise<StorageEstimate | undefined>;
  /** Data the platform reported lost when this store was opened (only IndexedDB tells); else null or absent. */
  readonly dataLoss?: StoreDataLoss | null;
  close(): Promise<void>;
  /** Closes and deletes everything this store holds. */
  destroy(): Promise<void>;
}
