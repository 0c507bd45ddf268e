// Yjs clientID collisions (PROTOCOL.md §6.2). A key's clientID is 53 bits of a hash of the key
// (state/client-id.ts), so two keys can share one: by chance (~2^26 keys for even odds) or on
// purpose (a colliding pair of one's own keys costs ~2^26 key generations). Two authors cannot
// both write under one clientID, and which one "owns" it must not depend on arrival order.
//
// The rule: a signed entry of each of two distinct keys with one clientID is collision evidence,
// and BOTH feeds are void from seq 1 (void.ts): none of their entries is applied, their whole
// clock space is one GC placeholder, both heads are void heads (seq 1). Every node that holds an
// entry of each key reaches the same state, whatever it saw first. The evidence is stored as one
// ForkEvidence per author (seq 1, `a`: that author's entry, `b`: the other key's), which sync
// serves for a void feed like fork evidence, so it spreads.
//
// Voiding an honest feed this way needs a key whose clientID equals that author's: ~2^53
// Ed25519 key generations and hashes. A flood of n pairs costs ~√n · 2^27 key generations,
// voids only the flooder's own keys, and adds at most one evidence record per voided key.
import type { ForkEvidence, HashedEntry } from './types.js';
import type { LedgerStore } from './storage.js';
import type { FeedSet } from './feeds.js';
import { toHex } from './bytes.js';
import { clientIdOf } from './state/client-id.js';

/** True for collision evidence: its second entry is signed by another key (a fork's by the same). */
export function isCollision(ev: ForkEvidence): boolean {
  return toHex(ev.b.entry.author) !== ev.author;
}

/**
 * Why stored or received evidence does not prove what it claims, or undefined when it does. Both
 * entries must already be verified (signature, network) by the caller. A fork: both entries by
 * `author` at `seq`, different hashes. A collision: seq 1, `a` by `author`, `b` by another key,
 * both keys with one clientID.
 */
export function evidenceFlaw(ev: ForkEvidence): string | undefined {
  const a = toHex(ev.a.entry.author);
  const b = toHex(ev.b.entry.author);
  if (a !== ev.author) return 'its first entry is not by the author';
  if (b === a) {
    if (ev.a.entry.seq !== ev.seq || ev.b.entry.seq !== ev.seq) return 'its entries are not at its seq';
    return toHex(ev.a.hash) === toHex(ev.b.hash) ? 'its entries are one entry' : undefined;
  }
  if (ev.seq !== 1) return 'a collision voids from seq 1';
  return clientIdOf(a) === clientIdOf(b) ? undefined : 'its keys do not share a clientID';
}

const NONE: ReadonlyMap<string, HashedEntry> = new Map();

/** Per batch: one entry per author, grouped by clientID (a witness of each key in the batch). */
export class BatchWitnesses {
  private readonly byClient = new Map<number, Map<string, HashedEntry>>();

  constructor(batch: readonly HashedEntry[]) {
    for (const h of batch) {
      const author = toHex(h.entry.author);
      const client = clientIdOf(author);
      const m = this.byClient.get(client) ?? new Map<string, HashedEntry>();
      if (!m.has(author)) m.set(author, h);
      this.byClient.set(client, m);
    }
  }

  /** Other authors of the batch with `author`'s clientID, and an entry of each (often empty). */
  rivalsOf(author: string): ReadonlyMap<string, HashedEntry> {
    const m = this.byClient.get(clientIdOf(author));
    if (m === undefined || (m.size === 1 && m.has(author))) return NONE;
    const out = new Map(m);
    out.delete(author);
    return out;
  }
}

/**
 * For an incoming verified entry `h`: a signed entry of another key with the same clientID that
 * is not yet void from seq 1 together with `h`'s author, taken from the FeedSet's memory, the
 * batch, or the store (the other key's stored head). Undefined when there is none, or when no
 * entry of the rival is held (then the first-seen fallback of client-id.ts decides).
 */
export async function collisionWitness(
  feeds: FeedSet,
  store: Pick<LedgerStore, 'getEntry'>,
  batch: BatchWitnesses,
  h: HashedEntry
): Promise<HashedEntry | undefined> {
  const author = toHex(h.entry.author);
  const inBatch = batch.rivalsOf(author);
  const known = feeds.rivalsOf(author);
  if (known.length === 0 && inBatch.size === 0) return undefined; // the common case
  const rivals = new Set([...known, ...inBatch.keys()]);
  const mine = feeds.voidFrom(author);
  for (const rival of [...rivals].sort()) {
    if (mine === 1 && feeds.voidFrom(rival) === 1) continue;
    const held = feeds.witnessOf(rival) ?? inBatch.get(rival);
    if (held !== undefined) return held;
    const seq = feeds.storedHeadSeq(rival);
    const stored = seq > 0 ? await store.getEntry(rival, seq) : undefined;
    if (stored !== undefined) return stored;
  }
  return undefined;
}
