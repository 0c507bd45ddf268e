// Checks a downloaded join snapshot against the claim it was served under, recomputing
// everything from the bytes (PROTOCOL.md §13.5): each head entry decodes canonically and
// verifies (network, signature, size, payload); authors ascend; the heads root and the entry
// count recomputed from them equal the claim's; the state loads, has no pending structs, its
// digest equals the claim's, it holds writes only of head authors, and each head author's Yjs
// clock in it is the clock of its head entry. A void feed (format 2) is proven by its evidence
// record (collision.ts evidenceFlaw): its head entry is its canonical top k < s, its head the
// void head binding k and that entry's hash (void.ts), and its clock space ends in the
// placeholder when k = s - 1. Any failure:
// JoinMismatchError (cause attached).
import * as Y from 'yjs';
import type { FeedHead, ForkEvidence, Genesis, HashedEntry } from '../types.js';
import type { HeadHeader } from '../snapshot/format.js';
import { decodeEntry, verifyEntry } from '../entry.js';
import { bytesEqual, toHex } from '../bytes.js';
import { headsRoot } from '../heads-digest.js';
import { LedgerState, type LoadedState } from '../state/doc.js';
import { clientIdOf } from '../state/client-id.js';
import { canonicalDigestAsync } from '../state/digest.js';
import { LedgerError } from '../errors.js';
import { evidenceFlaw } from '../collision.js';
import { voidHead } from '../void.js';
import { NO_TOP_HASH } from '../snapshot/format.js';
import { MAX_ENTRY_CLOCK } from '../constants.js';
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
  /**
   * The state as verification loaded it, once (later calls: undefined), for the installing ledger
   * to take over instead of loading `state` again (Ledger.mergeLightSnapshot `loaded`).
   */
  loaded?: () => LoadedState | undefined;
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

/** Evidence records of void feeds: each verifies and proves itself; authors ascend strictly. */
async function openEvidence(raw: [Uint8Array, Uint8Array][], ctx: VerifyContext): Promise<Map<string, ForkEvidence>> {
  const out = new Map<string, ForkEvidence>();
  let last = '';
  for (const [ra, rb] of raw) {
    const [a, b] = [ra, rb].map((x) => decodeEntry(x, ctx.genesis.maxEntryBytes));
    await Promise.all([a, b].map((h) => verifyEntry(h.entry, ctx.networkId, ctx.genesis)));
    const author = toHex(a.entry.author);
    if (author <= last) throw mismatch('void feed authors are not strictly ascending');
    last = author;
    const collision = toHex(b.entry.author) !== author;
    const ev: ForkEvidence = { author, seq: collision ? 1 : a.entry.seq, a, b, detectedAt: 0 };
    const flaw = evidenceFlaw(ev);
    if (flaw !== undefined) throw mismatch(`evidence of ${author.slice(0, 16)}… does not hold (${flaw})`);
    out.set(author, ev);
  }
  // A collision voids both keys: the body must void the other one too.
  for (const ev of out.values()) {
    const other = toHex(ev.b.entry.author);
    if (other !== ev.author && out.get(other)?.seq !== 1) throw mismatch('a collision voids only one of its keys');
  }
  return out;
}

interface Feeds {
  heads: FeedHead[];
  headers: HeadHeader[];
  /** Yjs clientID → the clock the state must end at for it. */
  clocks: Map<number, number>;
  /** Entries the heads cover (a void head: its canonical top k). */
  covered: number;
}

/**
 * Heads, light headers, expected clocks and the entries covered, from the head entries and the
 * void feeds' evidence: a void feed's entry (if any) is its canonical top k < s, its head the
 * void head binding k and that entry's hash, its header that entry's (0 and 0 when k = 0,
 * PROTOCOL.md §9.2), and its clientID's clock space ends in the placeholder (MAX_ENTRY_CLOCK)
 * when k = s - 1, else where entry k ended.
 */
function feedsOf(entries: readonly HashedEntry[], voids: ReadonlyMap<string, ForkEvidence>): Feeds {
  const byAuthor = new Map(entries.map((h) => [toHex(h.entry.author), h]));
  const out: Feeds = { heads: [], headers: [], clocks: new Map(), covered: 0 };
  const expect = (author: string, clock: number): void => {
    const client = clientIdOf(author);
    if ((out.clocks.get(client) ?? clock) !== clock) throw mismatch(`two feeds claim client ${client}`);
    out.clocks.set(client, clock);
  };
  for (const author of [...new Set([...byAuthor.keys(), ...voids.keys()])].sort()) {
    const h = byAuthor.get(author);
    const ev = voids.get(author);
    if (ev === undefined) {
      out.heads.push({ author, seq: h!.entry.seq, hash: toHex(h!.hash) });
      out.headers.push({ author, seq: h!.entry.seq, lamport: h!.entry.lamport, clock: h!.entry.clock });
      out.covered += h!.entry.seq;
      expect(author, h!.entry.clock);
      continue;
    }
    // Its head entry is its canonical top k (none: k = 0), which its void head binds (void.ts).
    const k = h?.entry.seq ?? 0;
    if (k >= ev.seq) throw mismatch(`the void feed ${author.slice(0, 16)}… has a head entry at or above its fork`);
    const top = { seq: k, hash: h === undefined ? undefined : toHex(h.hash) };
    const head = voidHead(author, ev.seq, top);
    out.heads.push(head);
    out.headers.push({
      author,
      seq: head.seq,
      lamport: h?.entry.lamport ?? 0,
      clock: h?.entry.clock ?? 0,
      top: k,
      topHash: top.hash ?? NO_TOP_HASH
    });
    out.covered += k;
    // The placeholder is applied once the whole canonical part is (k = s - 1).
    expect(author, k === ev.seq - 1 ? MAX_ENTRY_CLOCK : (h?.entry.clock ?? 0));
  }
  return out;
}

/**
 * Loads and checks the body's state; returns the loaded document for the ledger to take over
 * (LedgerState.release), so installing it does not load the same bytes again.
 */
async function checkState(
  state: Uint8Array,
  clocks: ReadonlyMap<number, number>,
  claim: JoinClaim
): Promise<LoadedState | undefined> {
  const s = new LedgerState();
  let ok = false;
  // The bytes are hashed (WebCrypto, off the main thread) while they load; that hash is the
  // state digest only if they are the canonical state, which canonicalAsync checks first.
  const hashing = canonicalDigestAsync(state);
  hashing.catch(() => undefined); // a load that throws first leaves it unread
  try {
    s.loadState(state);
    if (s.hasPending()) throw mismatch('the state has structs whose references are missing');
    // The canonical encoding (state/digest.ts), byte for byte: what the digest hashes.
    // Loaded fresh: canonical bytes are checked with one encode (LedgerState.canonical).
    const { canonical, digest } = await s.canonicalAsync(hashing);
    if (digest !== claim.stateDigest) throw mismatch('state digest differs');
    if (!bytesEqual(canonical, state)) throw mismatch('the state is not in its canonical encoding');
    for (const client of s.doc.store.clients.keys()) {
      if (!clocks.has(client)) throw mismatch(`the state holds writes of client ${client}, which no head covers`);
    }
    for (const [client, clock] of clocks) {
      if (Y.getState(s.doc.store, client) !== clock) throw mismatch('a head entry does not end where the state does');
    }
    ok = true;
    return s.release();
  } finally {
    if (!ok) s.destroy();
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
    const { heads, headers, clocks, covered: count } = feedsOf(entries, await openEvidence(body.evidence ?? [], ctx));
    if (headsRoot(heads) !== claim.headsRoot) throw mismatch('heads root differs');
    if (count !== claim.entries) throw mismatch(`the heads cover ${count} entries, not ${claim.entries}`);
    let loaded = await checkState(body.state, clocks, claim);
    const take = () => {
      const l = loaded;
      loaded = undefined; // one ledger takes it over
      return l;
    };
    return { ...claim, heads, headers, state: body.state, bytes: bytes.length, loaded: take };
  } catch (e) {
    if (e instanceof JoinMismatchError) throw e;
    if (e instanceof LedgerError) throw mismatch(`${e.name}: ${e.message}`, e);
    throw mismatch(`state does not load: ${(e as Error)?.message ?? String(e)}`, e);
  }
}
