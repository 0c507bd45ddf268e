// Validly signed entries the causal rules refused, remembered by (author, seq) for a while: if
// another entry of the same author and seq arrives later, the two are fork evidence (the author
// signed both), exactly as they would be had they arrived the other way round (PROTOCOL.md §6.1:
// which variant comes first must not decide the outcome). Bounded by bytes, oldest out first.
import type { HashedEntry } from './types.js';
import { toHex } from './bytes.js';
import { REFUSED_VARIANTS_MAX_BYTES } from './constants.js';
import { heldEntryBytes } from './feeds.js';

export class RefusedVariants {
  private readonly byKey = new Map<string, { h: HashedEntry; bytes: number; recheck: boolean }>();
  private bytes = 0;

  constructor(private readonly maxBytes = REFUSED_VARIANTS_MAX_BYTES) {}

  /**
   * Remembers `h` (the first refused variant of its (author, seq) only). `recheck`: its verdict
   * can change when another feed changes (a causal refusal), so all() returns it; a broken chain's cannot (only its own feed decides whether its prev links), so it is kept
   * only as a possible fork variant.
   */
  add(h: HashedEntry, recheck = true): void {
    const key = keyOf(toHex(h.entry.author), h.entry.seq);
    const size = heldEntryBytes(h);
    if (size > this.maxBytes || this.byKey.has(key)) return;
    this.byKey.set(key, { h, bytes: size, recheck });
    this.bytes += size;
    for (const [k, v] of this.byKey) {
      if (this.bytes <= this.maxBytes) break;
      this.byKey.delete(k);
      this.bytes -= v.bytes;
    }
  }

  /**
   * Every remembered entry whose verdict another feed can change (causal refusals), oldest first:
   * after a void, the Ledger picks those the void can change (rejudge.ts, PROTOCOL.md §6.1).
   * Bounded by the byte cap.
   */
  all(): HashedEntry[] {
    return [...this.byKey.values()].filter((v) => v.recheck).map((v) => v.h);
  }

  /** A remembered refused entry at (author, seq) other than `hash`, if any. */
  other(author: string, seq: number, hash: Uint8Array): HashedEntry | undefined {
    const v = this.byKey.get(keyOf(author, seq))?.h;
    if (v === undefined) return undefined;
    return toHex(v.hash) === toHex(hash) ? undefined : v;
  }
}

const keyOf = (author: string, seq: number): string => `${author}:${seq}`;
