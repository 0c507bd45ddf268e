// Verifies stretches of an author's feed fetched back from peers (history a light replica
// pruned). A stretch must be the author's entries at from, from+1, …, each validly signed for this
// network and linking to the one before; stretches are chained upward, and the topmost must link
// to an entry this node already trusts (its hash is that entry's `prev`). Like Hypercore's check
// of a downloaded block against a signed root: no byte is taken on the sender's word. Pure.
import { openEntry } from '../entry.js';
import { bytesEqual, toHex } from '../bytes.js';
import { BrokenChainError, MalformedEntryError } from '../errors.js';
import type { Genesis, HashedEntry } from '../types.js';
import type { EntryHeader } from '../causal.js';

export interface StretchCheck {
  /** Author key, 64 lowercase hex. */
  author: string;
  /** Seq the stretch must start at (>= 1). */
  from: number;
  networkId: Uint8Array;
  genesis: Genesis;
  /** The header kept when an entry was pruned (lamport, Yjs clock), when known: it must match. */
  header?: (seq: number) => Promise<EntryHeader | undefined>;
}

/**
 * Opens and checks one answer (`bytes`, ascending) as the stretch starting at `c.from`. Returns
 * the verified entries. Throws the entry's own error when an entry does not verify on its own
 * (MalformedEntryError, BadSignatureError, WrongNetworkError, OversizedEntryError,
 * MalformedPayloadError: ban offences), MalformedEntryError for another author's entry or a seq
 * out of place (also a ban offence: an honest server never sends one), and BrokenChainError when
 * an entry does not link to the one before it or differs from its kept header (not a ban offence:
 * an honest peer may hold another branch of a forked feed).
 */
export async function openStretch(bytes: readonly Uint8Array[], c: StretchCheck): Promise<HashedEntry[]> {
  const out: HashedEntry[] = [];
  for (const b of bytes) {
    const h = await openEntry(b, c.networkId, c.genesis);
    const seq = c.from + out.length;
    if (toHex(h.entry.author) !== c.author || h.entry.seq !== seq) {
      throw new MalformedEntryError(`expected ${c.author.slice(0, 8)}… seq ${seq}`);
    }
    linkUp(out.at(-1), h.entry.prev);
    const kept = await c.header?.(seq);
    if (kept !== undefined && (kept.lamport !== h.entry.lamport || kept.clock !== h.entry.clock)) {
      throw new BrokenChainError(`seq ${seq} differs from the header kept when it was pruned`);
    }
    out.push(h);
  }
  return out;
}

/**
 * Throws BrokenChainError unless `below` (the entry right under an entry whose `prev` is
 * `prev`) is the entry `prev` names. No-op when `below` is undefined (nothing to link yet).
 */
export function linkUp(below: HashedEntry | undefined, prev: Uint8Array): void {
  if (below !== undefined && !bytesEqual(below.hash, prev)) {
    throw new BrokenChainError(`seq ${below.entry.seq} is not the entry seq ${below.entry.seq + 1} links to`);
  }
}
