// Causal acceptance of an entry (PROTOCOL.md §5.3): the rules that relate an entry to the
// entries it builds on. Pure: the caller supplies the headers (lamport, Yjs clock) of the
// author's previous entry and of each dependency, and the parsed payload.
//
// Together with the chain rule and the dependency gate (FeedSet holds an entry until every
// dependency is in its author's contiguous feed), these make acceptance a function of the
// entry's bytes and the entries it depends on only:
// - lamport = 1 + max(lamport of prev, lamports of deps): a clock that nobody can push ahead;
// - the entry's structs continue the author's Yjs clock exactly, and `clock` is where they end;
// - every id the payload references (origins, parents) or deletes lies within the author's own
//   items (a reference: an item before the referring one) or within the items a dependency had
//   at its declared seq: a delete can only remove what its author could see when it signed, and
//   Yjs never parks structs as pending.
import type { Entry } from './types.js';
import type { DeleteRange, ParsedUpdate, YId } from './yjs-update.js';
import { CausalityError } from './errors.js';
import { clientIdOf } from './state/client-id.js';
import { MAX_ENTRY_CLOCK, VOID_LAMPORT_SLACK } from './constants.js';

/** What the causal rules need from an entry already in a feed. */
export interface EntryHeader {
  lamport: number;
  clock: number;
  /**
   * A dependency on a void feed at or above its fork (void.ts): no single entry stands there, so
   * `clock` is MAX_ENTRY_CLOCK (the placeholder covers every reference) and `lamport` is only an
   * upper bound (see voidedHeader and checkCausal).
   */
  voided?: boolean;
}

/**
 * The header for a dependency at `seq` on a feed void from `forkSeq`, given the header of the
 * feed's last canonical entry (seq forkSeq - 1; GENESIS_HEADER at 1). The void entry's own
 * lamport is not known (it may build on other void entries, stored nowhere), so its bound is
 * generous but the same on every node holding the evidence: that entry's lamport, plus one per
 * seq into the void part, plus VOID_LAMPORT_SLACK. An honest entry never comes near it; a hostile
 * one can push a clock by at most the slack per void feed, and each costs a fork every node sees.
 */
export function voidedHeader(canonical: EntryHeader, forkSeq: number, seq: number): EntryHeader {
  return {
    lamport: canonical.lamport + (seq - forkSeq + 1) + VOID_LAMPORT_SLACK - 1,
    clock: MAX_ENTRY_CLOCK,
    voided: true
  };
}

/** The header of seq 0 (before an author's first entry). */
export const GENESIS_HEADER: EntryHeader = { lamport: 0, clock: 0 };

/** The lamport an entry with this predecessor and these dependencies must carry (void ones aside). */
export function nextLamport(prev: EntryHeader, deps: readonly EntryHeader[]): number {
  let max = prev.lamport;
  for (const d of deps) if (!d.voided && d.lamport > max) max = d.lamport;
  return max + 1;
}

/**
 * Throws CausalityError unless `e` (whose payload parsed to `parsed`) follows from `prev` (the
 * header of the author's seq - 1, GENESIS_HEADER at seq 1) and `deps` (the headers at each
 * dependency's seq, in the order of e.deps).
 */
export function checkCausal(
  e: Entry,
  author: string,
  parsed: ParsedUpdate,
  prev: EntryHeader,
  deps: EntryHeader[]
): void {
  if (deps.length !== e.deps.length) throw new CausalityError('dependency headers missing');
  const lamport = nextLamport(prev, deps);
  // A dependency on a void feed hides the lamport it had: anything from the exact value of the
  // others up to one above what any real entry there could carry (voidedHeader).
  const ceiling = deps.reduce((m, d) => (d.voided ? Math.max(m, d.lamport + 1) : m), lamport);
  if (e.lamport < lamport || e.lamport > ceiling)
    throw new CausalityError(
      ceiling === lamport
        ? `lamport ${e.lamport}, expected ${lamport}`
        : `lamport ${e.lamport}, not in ${lamport}..${ceiling}`
    );
  const own = clientIdOf(author);
  let end = prev.clock;
  for (const s of parsed.structs) {
    if (s.client !== own) throw new CausalityError(`struct of client ${s.client} in an entry of client ${own}`);
    if (s.clock !== end) throw new CausalityError(`struct at clock ${s.clock}, expected ${end}`);
    end += s.length;
  }
  if (e.clock !== end) throw new CausalityError(`clock ${e.clock}, expected ${end}`);
  const limits = new Map<number, number>([[own, end]]);
  e.deps.forEach((d, i) => {
    const client = clientIdOf(d.author);
    if (limits.has(client)) throw new CausalityError(`two dependencies share clientID ${client}`);
    limits.set(client, deps[i].clock);
  });
  const within = (client: number, clock: number, len: number, what: string): void => {
    const limit = limits.get(client);
    if (limit === undefined) throw new CausalityError(`${what} client ${client}, which is not a dependency`);
    if (clock + len > limit)
      throw new CausalityError(`${what} ${client}:${clock}+${len}, beyond ${limit} in its dependency`);
  };
  for (const s of parsed.structs) {
    for (const id of [s.origin, s.rightOrigin, typeof s.parent === 'object' ? s.parent : null] as (YId | null)[]) {
      if (id === null) continue;
      // An author's items are written in clock order: one can only name an item made before it
      // (a reference to itself or to a later item of the same update breaks Yjs mid-apply).
      if (id.client === own && id.clock >= s.clock)
        throw new CausalityError(
          `struct ${own}:${s.clock} references ${id.client}:${id.clock}, which is not before it`
        );
      within(id.client, id.clock, 1, 'references');
    }
  }
  for (const d of parsed.deletes as DeleteRange[]) within(d.client, d.clock, d.len, 'deletes');
}

/** The clients whose items a payload references or deletes, besides `own`. */
export function referencedClients(parsed: ParsedUpdate, own: number): Map<number, number> {
  // client → highest clock referenced + 1
  const out = new Map<number, number>();
  const note = (client: number, end: number): void => {
    if (client === own) return;
    out.set(client, Math.max(out.get(client) ?? 0, end));
  };
  for (const s of parsed.structs) {
    for (const id of [s.origin, s.rightOrigin, typeof s.parent === 'object' ? s.parent : null] as (YId | null)[]) {
      if (id !== null) note(id.client, id.clock + 1);
    }
  }
  for (const d of parsed.deletes) note(d.client, d.clock + d.len);
  return out;
}
