// Validly signed entries the causal rules refused (or that did not link), remembered by (author,
// seq): if another entry of the same author and seq arrives later, the two are fork evidence (the
// author signed both), exactly as they would be had they arrived the other way round (PROTOCOL.md
// §6.1: which variant comes first must not decide the outcome).
//
// Bounded by bytes and count with a fair share per author (fair-share.ts, as FeedSet's pending
// buffer): when a newcomer does not fit, the author holding the most gives up its highest seq, as
// long as it holds more than the newcomer's author would; otherwise the newcomer is not
// remembered. Deterministic (a function of what is held), so a flood of fresh keys evicts a
// remembered variant only with smaller holdings than its author's, and beyond that only sync
// brings the verdict (§6.1).
//
// Kept in the store too (one meta row per slot, written by flush after each ingest step, read back
// at open), so a restart between the two variants does not change the verdict.
import type { HashedEntry } from './types.js';
import type { LedgerStore } from './storage.js';
import { toHex } from './bytes.js';
import { REFUSED_VARIANTS_MAX_BYTES, REFUSED_VARIANTS_MAX_COUNT } from './constants.js';
import { encodeEntry } from './entry.js';
import { heldEntryBytes } from './feeds.js';
import { makeRoom, type FairShareStore } from './fair-share.js';

/** Meta row holding the number of slots ever used (rows `refused-variant:<slot>` below it). */
export const REFUSED_VARIANTS_META = 'refused-variants';
const SLOT_PREFIX = 'refused-variant:';

interface Held {
  h: HashedEntry;
  bytes: number;
  recheck: boolean;
  slot: number;
}

interface Share {
  bytes: number;
  count: number;
}

/** The share of an author holding nothing. */
const NONE = { bytes: 0, count: 0 } as const;

/** A stored slot row: the entry's canonical bytes and whether its verdict can change. */
interface Row {
  entry: Uint8Array;
  recheck: boolean;
}

type MetaStore = Pick<LedgerStore, 'getMeta' | 'setMeta' | 'deleteMeta'>;

export class RefusedVariants {
  private readonly byKey = new Map<string, Held>();
  private readonly shares = new Map<string, Share>();
  private bytes = 0;
  /** Slots below highWater not in use, and the highWater the store knows. */
  private readonly free: number[] = [];
  private highWater = 0;
  private storedHighWater = 0;
  /** Slot writes (a row, or null: delete) not yet in the store. */
  private readonly unsaved = new Map<number, Row | null>();

  constructor(
    private readonly maxBytes = REFUSED_VARIANTS_MAX_BYTES,
    private readonly maxCount = REFUSED_VARIANTS_MAX_COUNT
  ) {}

  /** Entries remembered now, and their bytes (heldEntryBytes each). */
  get size(): { count: number; bytes: number } {
    return { count: this.byKey.size, bytes: this.bytes };
  }

  /**
   * Remembers `h` (the first refused variant of its (author, seq) only), within the fair share;
   * true when it is remembered now. `recheck`: its verdict can change when another feed changes
   * (a causal refusal), so all() returns it; a broken chain's cannot (only its
   * own feed decides whether its prev links), so it is kept only as a possible fork variant.
   */
  add(h: HashedEntry, recheck = true): boolean {
    const held = this.place(h, recheck, undefined);
    if (held !== undefined) this.unsaved.set(held.slot, { entry: encodeEntry(h.entry), recheck });
    return held !== undefined;
  }

  /**
   * Every remembered entry whose verdict another feed can change (causal refusals), oldest first:
   * after a void, the Ledger picks those the void can change (rejudge.ts, PROTOCOL.md §6.1).
   * Bounded by the byte cap.
   */
  all(): HashedEntry[] {
    return [...this.byKey.values()].filter((v) => v.recheck).map((v) => v.h);
  }

  /**
   * `h` was stored (accepted, e.g. judged again after a void): no longer a refused variant, so it
   * gives its place back (its author's share, its slot row). Nothing when another entry is held there.
   */
  forget(h: HashedEntry): void {
    const author = toHex(h.entry.author);
    const key = keyOf(author, h.entry.seq);
    const v = this.byKey.get(key);
    if (v === undefined || toHex(v.h.hash) !== toHex(h.hash)) return;
    this.release(author, key, v);
  }

  /** A remembered refused entry at (author, seq) other than `hash`, if any. */
  other(author: string, seq: number, hash: Uint8Array): HashedEntry | undefined {
    const v = this.byKey.get(keyOf(author, seq))?.h;
    if (v === undefined) return undefined;
    return toHex(v.hash) === toHex(hash) ? undefined : v;
  }

  /**
   * Writes what changed since the last flush (one meta row per added or evicted entry). A failed
   * write is kept and tried again by the next flush: the memory holds the entries either way.
   */
  async flush(store: MetaStore): Promise<void> {
    try {
      for (const [slot, row] of [...this.unsaved]) {
        if (row === null) await store.deleteMeta(SLOT_PREFIX + slot);
        else await store.setMeta(SLOT_PREFIX + slot, row);
        this.unsaved.delete(slot);
      }
      if (this.highWater > this.storedHighWater) {
        await store.setMeta(REFUSED_VARIANTS_META, this.highWater);
        this.storedHighWater = this.highWater;
      }
    } catch {
      // Kept in `unsaved`: tried again after the next ingest step.
    }
  }

  /**
   * Reads back what flush stored (at open). `verify` decodes and verifies a row's entry bytes
   * (network, signature, payload); rows that do not verify or no longer fit are deleted.
   */
  async load(store: MetaStore, verify: (bytes: Uint8Array) => Promise<HashedEntry | undefined>): Promise<void> {
    const hw = await store.getMeta(REFUSED_VARIANTS_META);
    const n = Number.isSafeInteger(hw) ? Math.min(hw as number, this.maxCount) : 0;
    this.highWater = this.storedHighWater = n;
    for (let slot = 0; slot < n; slot++) {
      const row = await store.getMeta(SLOT_PREFIX + slot);
      const h = isRow(row) ? await verify(row.entry) : undefined;
      if (h === undefined || this.place(h, (row as Row).recheck, slot) === undefined) {
        this.free.push(slot);
        if (row !== undefined) this.unsaved.set(slot, null);
      }
    }
    this.free.sort((a, b) => b - a); // lowest slot first (pop)
  }

  /** Holds `h` within the bounds (in `slot`, or a free one); undefined when it does not fit. */
  private place(h: HashedEntry, recheck: boolean, slot: number | undefined): Held | undefined {
    const author = toHex(h.entry.author);
    const key = keyOf(author, h.entry.seq);
    const bytes = heldEntryBytes(h);
    if (
      bytes > this.maxBytes ||
      this.byKey.has(key) ||
      !makeRoom(this.store, author, this.shares.get(author) ?? NONE, bytes)
    )
      return undefined;
    const held: Held = { h, bytes, recheck, slot: slot ?? this.free.pop() ?? this.highWater++ };
    this.byKey.set(key, held);
    const share = this.shares.get(author) ?? { bytes: 0, count: 0 };
    share.bytes += bytes;
    share.count++;
    this.shares.set(author, share);
    this.bytes += bytes;
    return held;
  }

  /** The remembered entries as the fair share sees them (fair-share.ts); evict: the author's highest seq. */
  private readonly store: FairShareStore = {
    fits: (bytes) => this.byKey.size < this.maxCount && this.bytes + bytes <= this.maxBytes,
    shares: () => this.shares,
    evict: (author) => this.evict(author)
  };

  /** Forgets `author`'s remembered entry with the highest seq. */
  private evict(author: string): void {
    let victim: [string, Held] | undefined;
    for (const [k, v] of this.byKey)
      if (k.startsWith(`${author}:`) && (victim === undefined || v.h.entry.seq > victim[1].h.entry.seq))
        victim = [k, v];
    if (victim !== undefined) this.release(author, victim[0], victim[1]);
  }

  private release(author: string, k: string, v: Held): void {
    this.byKey.delete(k);
    this.bytes -= v.bytes;
    const share = this.shares.get(author)!;
    share.bytes -= v.bytes;
    if (--share.count === 0) this.shares.delete(author);
    this.free.push(v.slot);
    this.unsaved.set(v.slot, null);
  }
}

const keyOf = (author: string, seq: number): string => `${author}:${seq}`;

function isRow(v: unknown): v is Row {
  const r = v as Row;
  return r !== null && typeof r === 'object' && r.entry instanceof Uint8Array && typeof r.recheck === 'boolean';
}
