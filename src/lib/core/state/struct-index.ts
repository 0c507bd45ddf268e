// Parsed structs of entries admitted earlier in the same batch (not applied yet), looked up by
// id. Ledger ingest checks each entry's structs against those of the entries before it in its
// batch (doc.ts checkIntegrable, records-rules.ts); a linear scan per lookup, over a copy of the
// batch's structs per entry, made a batch of n entries O(n²): 500 entries of one author spent
// more time there than in their signatures (bench row 4's worker profile, 2026-12-03).
//
// An author's structs continue its Yjs clock exactly (causal.ts), so each client's structs arrive
// in increasing, non-overlapping clock order and a lookup is a binary search. Structs that break
// that order (never admitted, but the index must not assume it) switch their client to a scan in
// insertion order, which is what Array.find over the batch returned before.
import type { ParsedStruct, YId } from '../yjs-update.js';

/** What the batch checks need: the struct holding an id, and how many structs there are (hop bounds). */
export interface StructLookup {
  readonly size: number;
  find(id: YId): ParsedStruct | undefined;
}

interface ClientStructs {
  list: ParsedStruct[];
  /** Clock order, no overlaps: binary search is exact. */
  ordered: boolean;
}

export class StructIndex implements StructLookup {
  private readonly clients = new Map<number, ClientStructs>();
  size = 0;

  constructor(structs: readonly ParsedStruct[] = []) {
    this.addAll(structs);
  }

  addAll(structs: readonly ParsedStruct[]): void {
    for (const s of structs) this.add(s);
  }

  add(s: ParsedStruct): void {
    const c = this.clients.get(s.client);
    this.size++;
    if (c === undefined) {
      this.clients.set(s.client, { list: [s], ordered: true });
      return;
    }
    const last = c.list[c.list.length - 1];
    if (s.clock < last.clock + last.length) c.ordered = false;
    c.list.push(s);
  }

  /** The first struct (in insertion order) whose clock range holds `id`. */
  find(id: YId): ParsedStruct | undefined {
    const c = this.clients.get(id.client);
    if (c === undefined) return undefined;
    const holds = (s: ParsedStruct) => id.clock >= s.clock && id.clock < s.clock + s.length;
    if (!c.ordered) return c.list.find(holds);
    let lo = 0;
    let hi = c.list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = c.list[mid];
      if (id.clock < s.clock) hi = mid - 1;
      else if (id.clock >= s.clock + s.length) lo = mid + 1;
      else return s;
    }
    return undefined;
  }
}

/** `first`, then `then`: the first match in [...first, ...then] order, without copying either. */
export function layered(first: StructLookup, then: StructLookup): StructLookup {
  return {
    size: first.size + then.size,
    find: (id) => first.find(id) ?? then.find(id)
  };
}

/** A lookup over `structs` (arrays from callers outside a batch: tests, single entries). */
export function lookupOf(structs: StructLookup | readonly ParsedStruct[]): StructLookup {
  return Array.isArray(structs) ? new StructIndex(structs as readonly ParsedStruct[]) : (structs as StructLookup);
}
