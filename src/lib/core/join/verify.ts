// Checks a downloaded join snapshot against the claim it was served under, recomputing
// everything from the bytes (PROTOCOL.md §13.5): each head entry decodes canonically and
// verifies (network, signature, size, payload); authors ascend; the heads root and the entry
// count recomputed from them equal the claim's; the state loads, has no pending structs, its
// digest equals the claim's, it holds writes only of head authors, and each head author's Yjs
// clock in it is the clock of its head entry. Any failure: JoinMismatchError (cause attached).
import * as Y from 'yjs';
import type { FeedHead, Genesis, HashedEntry } from '../types.js';
import type { HeadHeader } from '../snapshot/format.js';
import { decodeEntry, verifyEntry } from '../entry.js';
import { toHex } from '../bytes.js';
import { headsRoot } from '../heads-digest.js';
import { LedgerState } from '../state/doc.js';
import { clientIdOf } from '../state/client-id.js';
import { LedgerError } from '../errors.js';
import { decodeJoinSnapshot } from './snapshot.js';
import { JoinMismatchError } from './errors.js';
import type { JoinClaim } from './messages.js';
import { JOIN_MAX_SNAPSHOT_BYTES, JOIN_VERIFY_BATCH } from './constants.js';

/** A snapshot whose every part was recomputed and checked; ready for Ledger.mergeLightSnapshot. */
export interface VerifiedSnapshot extends JoinClaim {
  heads: FeedHead[];
  /** Lamport and Yjs clock of each head entry, in the order of `heads` (from the signed entries). */
  headers: HeadHeader[];
  state: Uint8Array;
  /** Bytes of the snapshot body. */
  bytes: number;
}

export interface VerifyContext {
  networkId: Uint8Array;
  genesis: Genesis;
  maxBytes?: number;
}

function mismatch(why: string, cause?: unknown): JoinMismatchError {
  return new JoinMismatchError(`snapshot does not match its claim: ${why}`, { cause });
}

async function openHeads(raw: Uint8Array[], ctx: VerifyContext): Promise<HashedEntry[]> {
  const out: HashedEntry[] = [];
  for (let i = 0; i < raw.length; i += JOIN_VERIFY_BATCH) {
    const batch = raw.slice(i, i + JOIN_VERIFY_BATCH).map((b) => decodeEntry(b, ctx.genesis.maxEntryBytes));
    await Promise.all(batch.map((h) => verifyEntry(h.entry, ctx.networkId, ctx.genesis)));
    out.push(...batch);
  }
  let last = '';
  for (const h of out) {
    const author = toHex(h.entry.author);
    if (author <= last) throw mismatch('head authors are not strictly ascending');
    last = author;
  }
  return out;
}

function checkState(state: Uint8Array, heads: HashedEntry[], claim: JoinClaim): void {
  const s = new LedgerState();
  try {
    s.loadState(state);
    if (s.hasPending()) throw mismatch('the state has structs whose references are missing');
    if (s.digest() !== claim.stateDigest) throw mismatch('state digest differs');
    const clocks = new Map(heads.map((h) => [clientIdOf(toHex(h.entry.author)), h.entry.clock]));
    for (const client of s.doc.store.clients.keys()) {
      if (!clocks.has(client)) throw mismatch(`the state holds writes of client ${client}, which no head covers`);
    }
    for (const [client, clock] of clocks) {
      if (Y.getState(s.doc.store, client) !== clock) throw mismatch('a head entry does not end where the state does');
    }
  } finally {
    s.destroy();
  }
}

/** Verifies `bytes` against `claim`; see the module comment. Throws JoinMismatchError. */
export async function verifyJoinSnapshot(
  bytes: Uint8Array,
  claim: JoinClaim,
  ctx: VerifyContext
): Promise<VerifiedSnapshot> {
  try {
    const body = decodeJoinSnapshot(bytes, ctx.genesis.maxEntryBytes, ctx.maxBytes ?? JOIN_MAX_SNAPSHOT_BYTES);
    const entries = await openHeads(body.heads, ctx);
    const heads = entries.map((h) => ({ author: toHex(h.entry.author), seq: h.entry.seq, hash: toHex(h.hash) }));
    if (headsRoot(heads) !== claim.headsRoot) throw mismatch('heads root differs');
    const count = heads.reduce((n, h) => n + h.seq, 0);
    if (count !== claim.entries) throw mismatch(`the heads cover ${count} entries, not ${claim.entries}`);
    checkState(body.state, entries, claim);
    const headers = entries.map((h) => ({
      author: toHex(h.entry.author),
      seq: h.entry.seq,
      lamport: h.entry.lamport,
      clock: h.entry.clock
    }));
    return { ...claim, heads, headers, state: body.state, bytes: bytes.length };
  } catch (e) {
    if (e instanceof JoinMismatchError) throw e;
    if (e instanceof LedgerError) throw mismatch(`${e.name}: ${e.message}`, e);
    throw mismatch(`state does not load: ${(e as Error)?.message ?? String(e)}`, e);
  }
}
