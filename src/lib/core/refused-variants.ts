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
   * can change when another feed changes (a causal refusal), so dependingOn() and all() return
   * it; a broken chain's cannot (only its own feed decides whether its prev links), so it is kept
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
   * Remembered entries (causal refusals) with a dependency on one of `authors`: when those feeds become void, the
   * causal rules judge the dependency differently (PROTOCOL.md §6.1), so they are tried again.
   */
  dependingOn(authors: ReadonlySet<string>): HashedEntry[] {
    const out: HashedEntry[] = [];
    for (const { h, recheck } of this.byKey.values())
      if (recheck && h.entry.deps.some((d) => authors.has(d.author))) out.push(h);
    return out;
  }

  /**
   * Every remembered entry whose verdict can change: after a void that rebuilt the state, a refusal may have rested on
   * items that are GC now, also through other authors' entries (transitively), so all are tried
   * again. Bounded by the byte cap.
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
