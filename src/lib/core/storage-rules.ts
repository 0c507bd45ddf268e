// Rules every LedgerStore adapter applies, kept pure so the memory and Dexie adapters cannot
// drift: the stored record shapes, how writes move feed heads, and quota error recognition.
import { fromHex, toHex } from './bytes.js';
import { FeedHeadMismatchError, MalformedEntryError, StorageQuotaError } from './errors.js';
import type { Compaction, IngestResult, WriteTagRow } from './storage.js';
import { WRITE_TAGS_DROP_EVERY, WRITE_TAGS_KEPT } from './constants.js';
import type { Entry, FeedHead, ForkEvidence, HashedEntry } from './types.js';

/**
 * One entry as stored: every Entry field as is (so new fields persist without changes here),
 * except the author as hex so that [author+seq] is a compact, sortable key; plus its hash.
 */
export type StoredEntry = Omit<Entry, 'author'> & { author: string; hash: Uint8Array };

export interface StoredFork {
  /** author:seq:lowerHash:higherHash, so a pair is stored once whatever its order. */
  id: string;
  author: string;
  seq: number;
  a: StoredEntry;
  b: StoredEntry;
  detectedAt: number;
}

export interface StoredCompaction extends Compaction {
  id: typeof COMPACTION_ID;
}

export const COMPACTION_ID = 'latest';
export const IDENTITY_ID = 'self';

/**
 * Copies a view that does not own its whole buffer: structured clone (IndexedDB) would
 * otherwise persist the entire underlying buffer, e.g. a whole network message.
 */
export function ownBytes(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice();
}

function checkSeq(seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new MalformedEntryError(`stored entries need an integer seq >= 1, got ${seq}`);
  }
}

export function toStored(h: HashedEntry): StoredEntry {
  checkSeq(h.entry.seq);
  const rec: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h.entry)) rec[k] = v instanceof Uint8Array ? ownBytes(v) : v;
  rec.author = toHex(h.entry.author);
  rec.hash = ownBytes(h.hash);
  return rec as StoredEntry;
}

export function fromStored(r: StoredEntry): HashedEntry {
  const { author, hash, ...rest } = r;
  return { entry: { ...rest, author: fromHex(author) }, hash };
}

export function headOf(r: StoredEntry): FeedHead {
  return { author: r.author, seq: r.seq, hash: toHex(r.hash) };
}

export function toStoredFork(ev: ForkEvidence): StoredFork {
  const a = toStored(ev.a);
  const b = toStored(ev.b);
  const [ha, hb] = [toHex(a.hash), toHex(b.hash)].sort();
  return { id: `${ev.author}:${ev.seq}:${ha}:${hb}`, author: ev.author, seq: ev.seq, a, b, detectedAt: ev.detectedAt };
}

export function fromStoredFork(f: StoredFork): ForkEvidence {
  return { author: f.author, seq: f.seq, a: fromStored(f.a), b: fromStored(f.b), detectedAt: f.detectedAt };
}

/** Rough stored size of an entry, for budgets and the memory adapter's quota emulation. */
export function storedSize(r: StoredEntry): number {
  let n = r.author.length;
  for (const v of Object.values(r)) n += v instanceof Uint8Array ? v.length : 8;
  return n;
}

/**
 * What appendLocal writes: the entry and its new head, or nothing when the head already is
 * this very entry (a retried append). Throws FeedHeadMismatchError when it does not extend the head.
 */
export function planAppend(
  h: HashedEntry,
  head: FeedHead | undefined
): { entry: StoredEntry; head: FeedHead } | 'noop' {
  const entry = toStored(h);
  const next = headOf(entry);
  if (head && head.seq === entry.seq && head.hash === next.hash) return 'noop';
  const expected = head ? head.seq + 1 : 1;
  if (entry.seq !== expected) {
    throw new FeedHeadMismatchError(
      `local append for ${entry.author.slice(0, 8)}: seq ${entry.seq}, expected ${expected}`
    );
  }
  if (head && toHex(entry.prev) !== head.hash) {
    throw new FeedHeadMismatchError(
      `local append for ${entry.author.slice(0, 8)}: prev does not match head ${head.seq}`
    );
  }
  return { entry, head: next };
}

/**
 * What appendLocalBatch writes: each entry planned as appendLocal would against the head the
 * entries before it left (`stored`: the stored heads of the batch's authors). Returns the rows to
 * add and the heads that moved. Throws FeedHeadMismatchError (nothing to write) at the first
 * entry that does not extend its author's head.
 */
export function planAppendBatch(
  batch: readonly HashedEntry[],
  stored: ReadonlyMap<string, FeedHead>
): { entries: StoredEntry[]; heads: FeedHead[] } {
  const heads = new Map(stored);
  const moved = new Set<string>();
  const entries: StoredEntry[] = [];
  for (const h of batch) {
    const author = toHex(h.entry.author);
    const plan = planAppend(h, heads.get(author));
    if (plan === 'noop') continue;
    entries.push(plan.entry);
    heads.set(author, plan.head);
    moved.add(author);
  }
  return { entries, heads: [...moved].map((a) => heads.get(a)!) };
}

/**
 * The write-tag rows of a local append (`tags[i]` goes with batch[i]; untagged entries have none)
 * and, per author, the seq up to which (inclusive) older tags are dropped: the tags of at least
 * its last WRITE_TAGS_KEPT seqs are kept. `dropped` (the store's, per author: the top seq of the
 * last drop it planned; updated here) spaces the drops WRITE_TAGS_DROP_EVERY seqs apart, so the
 * tags held stay under WRITE_TAGS_KEPT + WRITE_TAGS_DROP_EVERY per author whatever the writes.
 */
export function planWriteTags(
  batch: readonly HashedEntry[],
  tags: readonly (string | undefined)[] | undefined,
  dropped: Map<string, number>
): { rows: WriteTagRow[]; drop: { author: string; upTo: number }[] } {
  const rows: WriteTagRow[] = [];
  const top = new Map<string, number>();
  batch.forEach((h, i) => {
    const tag = tags?.[i];
    if (tag === undefined) return;
    const author = toHex(h.entry.author);
    rows.push({ tag, author, seq: h.entry.seq });
    top.set(author, Math.max(top.get(author) ?? 0, h.entry.seq));
  });
  const drop: { author: string; upTo: number }[] = [];
  for (const [author, seq] of top) {
    if (seq <= WRITE_TAGS_KEPT || seq - (dropped.get(author) ?? 0) < WRITE_TAGS_DROP_EVERY) continue;
    dropped.set(author, seq);
    drop.push({ author, upTo: seq - WRITE_TAGS_KEPT });
  }
  return { rows, drop };
}

/** The distinct authors (hex) of a batch, in first-seen order. */
export function batchAuthors(batch: readonly HashedEntry[]): string[] {
  return [...new Set(batch.map((h) => toHex(h.entry.author)))];
}

export function entryKey(author: string, seq: number): [string, number] {
  return [author, seq];
}

/** The storage keys an ingest batch must look up before planning. */
export function ingestKeys(batch: readonly HashedEntry[]): { entries: [string, number][]; authors: string[] } {
  const authors = new Set<string>();
  const entries = batch.map((h) => {
    const author = toHex(h.entry.author);
    authors.add(author);
    return entryKey(author, h.entry.seq);
  });
  return { entries, authors: [...authors] };
}

/**
 * What ingest writes. `existing[i]` is the stored entry at the key of `batch[i]` (if any) and
 * `heads` the stored heads of the batch's authors. Within a batch the first entry of a key wins.
 */
export function planIngest(
  batch: readonly HashedEntry[],
  existing: ReadonlyArray<StoredEntry | undefined>,
  heads: ReadonlyMap<string, FeedHead>
): { entries: StoredEntry[]; heads: FeedHead[]; result: IngestResult } {
  const staged = new Map<string, StoredEntry>();
  const newHeads = new Map<string, FeedHead>();
  const result: IngestResult = { added: 0, duplicates: 0, conflicts: [] };
  batch.forEach((h, i) => {
    const rec = toStored(h);
    const key = `${rec.author}:${rec.seq}`;
    const have = existing[i] ?? staged.get(key);
    if (have) {
      if (sameBytes(have.hash, rec.hash)) result.duplicates++;
      else result.conflicts.push(h);
      return;
    }
    staged.set(key, rec);
    result.added++;
    const head = newHeads.get(rec.author) ?? heads.get(rec.author);
    if (!head || rec.seq > head.seq) newHeads.set(rec.author, headOf(rec));
  });
  return { entries: [...staged.values()], heads: [...newHeads.values()], result };
}

/**
 * The positions in `batch` whose key may already be stored: only seqs at or below their author's
 * stored head (the head rules keep every stored entry of an author at or below its head), so an
 * adapter looks up only these before planIngest and passes undefined for the others.
 */
export function mayBeStored(batch: readonly HashedEntry[], heads: ReadonlyMap<string, FeedHead>): number[] {
  const out: number[] = [];
  batch.forEach((h, i) => {
    const head = heads.get(toHex(h.entry.author));
    if (head !== undefined && h.entry.seq <= head.seq) out.push(i);
  });
  return out;
}

/** Heads a compaction raises: those of `c.heads` above what is stored. */
export function planCompactionHeads(c: Compaction, stored: ReadonlyMap<string, FeedHead>): FeedHead[] {
  return c.heads
    .filter((h) => {
      checkSeq(h.seq);
      const s = stored.get(h.author);
      return !s || h.seq > s.seq;
    })
    .map((h) => ({ author: h.author, seq: h.seq, hash: h.hash }));
}

/** Entries of an author below this seq may be pruned: never the head entry. */
export function pruneLimit(beforeSeq: number, head: FeedHead | undefined): number {
  return head ? Math.min(beforeSeq, head.seq) : beforeSeq;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * True for IndexedDB's QuotaExceededError (DOMException, legacy code 22) and Dexie's
 * QuotaExceededError, also when wrapped: Dexie AbortError `inner`, `cause`, or one of the
 * `failures` of a Dexie BulkError / ModifyError. Looks at most 16 errors deep.
 */
export function isQuotaError(e: unknown): boolean {
  const todo: unknown[] = [e];
  for (let seen = 0; todo.length > 0 && seen < 16; seen++) {
    const cur = todo.shift();
    if (!cur || typeof cur !== 'object') continue;
    const o = cur as { name?: unknown; code?: unknown; inner?: unknown; cause?: unknown; failures?: unknown };
    if (o.name === 'QuotaExceededError' || o.name === 'StorageQuotaError') return true;
    if (typeof DOMException !== 'undefined' && cur instanceof DOMException && o.code === 22) return true;
    todo.push(o.inner, o.cause);
    if (Array.isArray(o.failures)) todo.push(...o.failures.slice(0, 4));
  }
  return false;
}

/** Maps quota failures to StorageQuotaError; other errors pass through unchanged. */
export function toStorageError(e: unknown): unknown {
  if (e instanceof StorageQuotaError) return e;
  if (isQuotaError(e)) return new StorageQuotaError('storage quota exceeded: the write was not stored', { cause: e });
  return e;
}
