// Which remembered causal refusals (refused-variants.ts) a new void can turn into acceptable
// entries, and the queue that re-judges them a bounded slice at a time (Ledger, PROTOCOL.md §6.1).
//
// A refusal's verdict rests on the headers of its predecessor and dependencies (causal.ts) and on
// the state of the items its payload references, which the causal rules keep within its own
// author's and its dependencies' clock ranges. A void of author A from seq F changes:
// - the header of a dependency (A, s) only for s >= F (below F it is still a canonical entry);
// - the state only where items become GC: A's items from its last canonical entry's clock on,
//   and, in a rebuild, every item whose origin or parent chain leads to one (Yjs integrates those
//   as GC). Lamports rise along dependencies, so none of A's items below the fork turn GC.
// So only refusals with a dependency (A, s >= F), or naming (or written by) an author whose items
// turned GC, can change verdict; and, transitively, refusals that follow or depend on one of those
// (an accepted one lets them through). Deleted-ness is never consulted (the state keeps
// deleted content, gc off), so the deletes a void undoes change no verdict.
import * as Y from 'yjs';
import type { HashedEntry } from './types.js';
import { toHex } from './bytes.js';
import { heldEntryBytes } from './feeds.js';

/** What voids changed: dependencies at or above `from` of an author, and any on an author whose items turned GC. */
export interface VoidChange {
  /** Author → lowest seq whose header (or items) changed. */
  from: ReadonlyMap<string, number>;
  /** Authors with items that turned GC (a rebuild's GC growth, gcGrowth): every entry naming them. */
  gc?: ReadonlySet<string>;
}

/** Clock units held as GC per client (void placeholders and what integrated as GC). O(structs). */
export function gcUnits(doc: Y.Doc): Map<number, number> {
  const out = new Map<number, number>();
  for (const [client, structs] of doc.store.clients) {
    let n = 0;
    for (const s of structs) if (s instanceof Y.GC) n += s.length;
    if (n > 0) out.set(client, n);
  }
  return out;
}

/** Clients that hold more GC units in `after` than in `before` (a void never turns GC back into items). */
export function gcGrowth(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): Set<number> {
  const out = new Set<number>();
  for (const [client, n] of after) if (n > (before.get(client) ?? 0)) out.add(client);
  return out;
}

/**
 * The entries of `remembered` whose verdict `change` can alter, transitively: one that is taken
 * may be accepted, and then an entry depending on its author at or above its seq (or following it
 * in its feed) may be too. In discovery order (causes before what rests on them). One pass of
 * string compares when nothing is hit; O(entries + deps) otherwise.
 */
export function affectedRefusals(remembered: readonly HashedEntry[], change: VoidChange): HashedEntry[] {
  const low = new Map(change.from);
  // A single void's own author's GC growth starts at its fork (lamports rise along dependencies,
  // so none of its items below builds on its voided ones): `from` covers it. With several voids
  // at once, one's items below its fork may build on another's voided items: all named.
  const gc = new Set(change.gc ?? []);
  if (low.size === 1) for (const a of low.keys()) gc.delete(a);
  const hexes: (string | undefined)[] = [];
  const authorAt = (i: number): string => (hexes[i] ??= toHex(remembered[i].entry.author));
  const first: number[] = [];
  remembered.forEach((h, i) => {
    const named = h.entry.deps.some((d) => gc.has(d.author) || d.seq >= (low.get(d.author) ?? Infinity));
    if (named || (gc.size > 0 && gc.has(authorAt(i)))) first.push(i);
  });
  if (first.length === 0) return [];
  const out: HashedEntry[] = [];
  const taken = new Set<number>();
  const queue: string[] = [];
  const take = (i: number): void => {
    if (taken.has(i)) return;
    taken.add(i);
    out.push(remembered[i]);
    const author = authorAt(i);
    if (remembered[i].entry.seq < (low.get(author) ?? Infinity)) {
      low.set(author, remembered[i].entry.seq);
      queue.push(author);
    }
  };
  for (const i of first) take(i);
  // Who each entry names: its dependencies, and its own feed up to its predecessor.
  const byAuthor = new Map<string, { i: number; seq: number }[]>();
  const name = (author: string, seq: number, i: number): void => {
    const list = byAuthor.get(author);
    if (list === undefined) byAuthor.set(author, [{ i, seq }]);
    else list.push({ i, seq });
  };
  if (queue.length > 0)
    remembered.forEach((h, i) => {
      name(authorAt(i), h.entry.seq - 1, i);
      for (const d of h.entry.deps) name(d.author, d.seq, i);
    });
  while (queue.length > 0) {
    const a = queue.pop()!;
    const from = low.get(a) ?? Infinity;
    for (const { i, seq } of byAuthor.get(a) ?? []) if (seq >= from) take(i);
  }
  return out;
}

/**
 * Refusals due to be judged again, oldest first, each once (the remembered entry itself, so no
 * hashing per fork). Bounded like the refused-variant memory it is fed from: over `maxBytes`, the
 * oldest are dropped (PROTOCOL.md §6.1).
 */
export class RejudgeQueue {
  private readonly due = new Map<HashedEntry, number>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.due.size;
  }

  add(entries: readonly HashedEntry[]): void {
    for (const h of entries) {
      if (this.due.has(h)) continue;
      const bytes = heldEntryBytes(h);
      this.due.set(h, bytes);
      this.bytes += bytes;
    }
    for (const [h, bytes] of this.due) {
      if (this.bytes <= this.maxBytes) break;
      this.due.delete(h);
      this.bytes -= bytes;
    }
  }

  /** Removes and returns up to `n` of the oldest. */
  take(n: number): HashedEntry[] {
    const out: HashedEntry[] = [];
    for (const [h, bytes] of this.due) {
      if (out.length >= n) break;
      this.due.delete(h);
      this.bytes -= bytes;
      out.push(h);
    }
    return out;
  }
}
