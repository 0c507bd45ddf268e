// Rebuilding a ledger's memory from its store: the compacted state, then every entry after it,
// each verified (hash, network, signature, chain link) before its payload is applied. A store
// that fails verification is not loaded: CorruptStoreError names the author and seq.
// Also here: the one write that puts unsigned state into a store (a light snapshot bootstrap).
import type { FeedHead, ForkEvidence, Genesis, HashedEntry, IdentityKeys } from './types.js';
import type { Compaction, LedgerStore } from './storage.js';
import * as Y from 'yjs';
import { checkSeal, sealCompaction, type SealBinding, type SealCheck } from './compaction-seal.js';
import type { HeadHeader } from './snapshot/format.js';
import { LedgerState, updateTouchesClient, type LoadedState, type WriteStamp } from './state/doc.js';
import { clientIdOf } from './state/client-id.js';
import { FeedSet, type FeedSetOptions } from './feeds.js';
import { PrunedHeaders } from './pruned-headers.js';
import { evidenceFlaw } from './collision.js';
import { hashEntry, verifyEntry } from './entry.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import {
  CorruptStoreError,
  IdentityMismatchError,
  InvalidKeyError,
  LedgerError,
  LightSnapshotRefusedError
} from './errors.js';
import { publicKeyFromSeed } from './ed25519.js';
import { checkHeads } from './heads-digest.js';
import { coveredEntries, forkSeqOf, isVoidSeq } from './void.js';
import {
  bootstrappedVoids,
  storeCompactedTops,
  type BootstrappedVoid,
  type CompactedTop
} from './bootstrapped-voids.js';
import { HASH_BYTES, LEDGER_REPLAY_PAGE, MAX_ENTRY_CLOCK, RECENT_ENTRIES_PER_AUTHOR } from './constants.js';

export interface ReplayInput {
  store: LedgerStore;
  genesis: Genesis;
  networkId: Uint8Array;
  /** A fresh state; the replay loads into it. */
  state: LedgerState;
  feedOptions?: FeedSetOptions;
  /** Entries read per getRange call. */
  pageSize?: number;
  /** When given, the compaction must carry a seal made with this seed (compaction-seal.ts). */
  seed?: Uint8Array;
  /**
   * false: skip the signature check of replayed entries (hash, shape and links are still checked).
   * Only for rebuilds of a store this node has verified (at open or when storing). Default true.
   */
  signatures?: boolean;
}

export interface ReplayResult {
  feeds: FeedSet;
  compaction: Compaction | undefined;
  /** Highest lamport of the replayed entries and of the stored head entries. */
  lamport: number;
  /** Entries replayed on top of the compaction. */
  applied: number;
  /**
   * Verified entries whose payload the state refused (e.g. a forged clientID in a snapshot-imported
   * entry). They are skipped the same way on every replay, so the state stays deterministic.
   */
  skipped: { author: string; seq: number; code: string; message: string }[];
  /** Set when the stored state came from an unverified light snapshot (see storeLightState). */
  unverified: UnverifiedState | undefined;
}

/** Where an unverified state came from: the light snapshot's heads root and exporter. */
export interface UnverifiedState {
  headsRoot: string;
  exporter: string;
  at: number;
}

/**
 * The canonical form and digest of a state as a fresh LedgerState holds it (what is stored, and
 * what replay will compare). Refuses (LightSnapshotRefusedError; MalformedPayloadError when the
 * bytes do not decode) a state with structs or deletions that do not integrate (pending structs
 * are not covered by the digest, so they could carry anything), and one that replay's structure
 * check (checkCompaction) would refuse at every later open (clockFlaw).
 */
function trialState(
  bytes: Uint8Array,
  heads: readonly FeedHead[],
  headers: readonly HeadHeader[]
): { canonical: Uint8Array; digest: string } {
  const s = new LedgerState();
  try {
    s.loadState(bytes);
    if (s.hasPending())
      throw new LightSnapshotRefusedError('the light state holds structs whose references are missing');
    const flaw = clockFlaw(s.doc, heads, headers);
    if (flaw !== undefined) throw new LightSnapshotRefusedError(`the light state does not match its heads: ${flaw}`);
    return s.canonical();
  } finally {
    s.destroy();
  }
}

/**
 * What checkCompaction would find wrong with a bootstrapped state, or undefined: a clientID that no
 * head covers, or a head author whose Yjs clock is not its header's (a void head's clock space may
 * end in the placeholder instead, void.ts).
 */
function clockFlaw(doc: Y.Doc, heads: readonly FeedHead[], headers: readonly HeadHeader[]): string | undefined {
  const byClient = new Map(heads.map((h) => [clientIdOf(h.author), h]));
  for (const client of doc.store.clients.keys()) {
    const clock = Y.getState(doc.store, client);
    const head = byClient.get(client);
    if (head === undefined) return `it holds writes of client ${client}, which no head covers`;
    if (isVoidSeq(head.seq) && clock === MAX_ENTRY_CLOCK) continue;
    const x = headers.find((b) => b.author === head.author && b.seq === head.seq);
    if (x !== undefined && x.clock !== clock) return `client ${client} does not end at its head's clock`;
  }
  return undefined;
}

export { bootstrappedVoids, topOfHeader, type BootstrappedVoid } from './bootstrapped-voids.js';

/** Store meta key holding the causal headers of heads bootstrapped from a light snapshot. */
export const HEAD_HEADERS_META = 'head-headers';

/** Store meta key marking the state as unverified (from a light snapshot). */
export const UNVERIFIED_META = 'unverified-state';

const HEX64 = /^[0-9a-f]{64}$/;
/** Store meta key recording which network a store belongs to. */
const NETWORK_META = 'networkId';

/**
 * Before anything is loaded: the key pair must be consistent, the store must be ours (its
 * identity is saved on first use) and belong to this network (recorded on first use).
 */
export async function checkIdentityAndNetwork(
  store: LedgerStore,
  keys: IdentityKeys,
  networkId: Uint8Array
): Promise<void> {
  if (!(keys?.seed instanceof Uint8Array) || !(keys.publicKey instanceof Uint8Array)) {
    throw new InvalidKeyError('identity keys must be a seed and a public key');
  }
  if (!bytesEqual(await publicKeyFromSeed(keys.seed), keys.publicKey)) {
    throw new InvalidKeyError('public key does not match seed');
  }
  const stored = await store.loadIdentity();
  if (stored === undefined) await store.saveIdentity(keys);
  else if (!bytesEqual(stored.publicKey, keys.publicKey)) throw new IdentityMismatchError();
  const hex = toHex(networkId);
  const net = await store.getMeta(NETWORK_META);
  if (net === undefined) await store.setMeta(NETWORK_META, hex);
  else if (net !== hex) throw new CorruptStoreError(`store belongs to network ${String(net).slice(0, 16)}…`);
}

export interface LoadInput extends Omit<ReplayInput, 'state'> {
  /** The local author (hex). */
  author: string;
  /** The local identity seed: the compaction's seal is keyed by it. */
  seed: Uint8Array;
  now: () => number;
  /** Stamp of the local write in progress (entry and record metadata must agree), if any. */
  stamp: () => WriteStamp | null;
  /** Highest lamport the ledger has seen outside the state. */
  clock: () => number;
  /**
   * A document already loaded from the canonical state the store's compaction should hold
   * (LightStateInput.loaded): taken over instead of loading the stored bytes, after the same
   * checks (seal, digest, the stored bytes equal to its canonical bytes). Ignored otherwise.
   */
  preloaded?: LoadedState;
}

/** A new local state (stamped by the ledger) loaded from the store, with the feeds that go with it. */
export async function loadLedger(input: LoadInput): Promise<ReplayResult & { state: LedgerState }> {
  if (input.preloaded !== undefined) {
    try {
      return await loadOnce(input, input.preloaded);
    } catch (e) {
      if (!(e instanceof PreloadMismatch)) throw e; // not what the store holds: load the store's
    }
  }
  return loadOnce(input);
}

async function loadOnce(input: LoadInput, preloaded?: LoadedState): Promise<ReplayResult & { state: LedgerState }> {
  const { now, stamp, clock } = input;
  const state: LedgerState = new LedgerState({
    author: input.author,
    stamp: () => stamp() ?? { time: Math.floor(now()), lamport: Math.max(state.lamport, clock()) + 1 },
    maxPayloadBytes: input.genesis.maxEntryBytes,
    ...(preloaded !== undefined ? { preloaded } : {})
  });
  try {
    return {
      ...(await replayStore({ ...input, state, feedOptions: { ...input.feedOptions, now }, seed: input.seed })),
      state
    };
  } catch (e) {
    state.destroy();
    throw e;
  }
}

/** Internal: the preloaded document is not the stored compaction's state (loaded from the store instead). */
class PreloadMismatch extends Error {}

/** Loads `input.state` from the store and returns the feed state that goes with it. */
export async function replayStore(input: ReplayInput): Promise<ReplayResult> {
  const { store, state } = input;
  const forks = await store.forks();
  await checkEvidence(forks, input);
  // Canonical order (authors ascending), whatever order the adapter lists heads in, so every
  // replay resolves a clientID collision the same way (see Ledger.ingest).
  const heads = [...(await store.heads())].sort((a, b) => (a.author < b.author ? -1 : a.author > b.author ? 1 : 0));
  let headers = await readHeadHeaders(store);
  // The seal first (it binds the light head headers and the unverified mark): nothing of the
  // compaction, nor a stored void head, is trusted before it holds.
  const stored = await store.loadCompaction();
  if (stored === undefined && headers !== undefined) {
    // Head headers are written just before a light bootstrap's compaction (storeLightState): with
    // no compaction, they are what a crash in between left, and no bootstrap completed.
    await store.deleteMeta(HEAD_HEADERS_META);
    headers = undefined;
  }
  const seal = stored === undefined || input.seed === undefined ? undefined : checkSeal(stored, input.seed, headers);
  if (seal === null)
    throw new CorruptStoreError(
      'the compaction, its unverified mark or its light head headers are not what this node sealed (seal mismatch)'
    );
  const sealed = { present: stored !== undefined || input.seed === undefined, seal };
  // Read from the top the stored compaction binds (whether or not it turns out stale below).
  const booted = await bootstrappedVoids(store, heads, headers, {
    sealed,
    verify: (h) => verifyStored(h, input),
    replay: { compaction: stored }
  });
  const voids = voidsOf(
    forks,
    booted.map((b) => b.head)
  );
  // A compaction made before a fork was known holds entries that are void now: replay from
  // the start instead (PROTOCOL.md §6; it is replaced by the next compaction). A store that
  // pruned history (light replica) cannot: it keeps the compaction, and the state is marked
  // unverified (it still shows the void entries' items).
  const stale = stored?.heads.some((h) => h.seq >= (voids.get(h.author) ?? Infinity) && !sameVoid(h, voids)) === true;
  const whole = stale && (await store.count()) === heads.reduce((n, h) => n + h.seq, 0); // nothing pruned
  const compaction = stale && whole ? undefined : stored;
  const base = new Map<string, FeedHead>();
  // Bootstrapped void feeds that took canonical entries since: how far the compaction holds them.
  const caughtUp = compactedTops(compaction === undefined ? [] : booted);
  // A preloaded document stands in for the stored state only under the same digest; checkCompaction
  // then checks it like a loaded one (seal, digest, and under seal v2 the stored bytes equal to its
  // canonical bytes).
  const pre = state.preloadedDigest();
  if (pre !== undefined && (compaction === undefined || pre !== compaction.digest)) throw new PreloadMismatch();
  if (compaction) {
    for (const h of compaction.heads) {
      checkHead(h, 'compaction head');
      base.set(h.author, h);
    }
    try {
      if (pre === undefined) state.loadState(compaction.state);
    } catch (e) {
      throw new CorruptStoreError(`compacted state does not load: ${(e as Error).message}`, { cause: e });
    }
    await checkCompaction(input, compaction, state, voids, seal, headers, caughtUp);
    state.adoptOwners([...base.keys(), ...voids.keys()]);
  }

  const tops = new Map(booted.map((b) => [b.head.author, b.top.seq]));
  const count = await checkHeadsCover(store, heads, base, tops);
  let marker = await store.getMeta(UNVERIFIED_META);
  // The sealed mark holds whether or not its row is still there (the row alone, under a v1 or v2
  // seal or with no compaction; a row under a seal without the mark still counts: unverified is
  // the safe side, and markVerified reseals before it deletes the row).
  if (marker === undefined && seal !== undefined && 'unverified' in seal && seal.unverified)
    marker = { headsRoot: '', exporter: 'sealed unverified mark (its meta row is missing)', at: stored!.at };
  if (marker === undefined && stale && !whole) {
    // Kept for good (a later compaction will not look stale): the state shows void entries' items.
    marker = { headsRoot: '', exporter: 'void feeds above a compaction of pruned history', at: 0 };
    await store.setMeta(UNVERIFIED_META, marker);
    if (input.seed !== undefined) await resealMark(store, input.seed, true);
  }
  const result: ReplayResult = {
    feeds: new FeedSet(),
    compaction,
    lamport: 0,
    applied: 0,
    skipped: [],
    unverified: marker === undefined ? undefined : (marker as UnverifiedState)
  };
  const recent: HashedEntry[] = [];
  for (const head of heads) {
    checkHead(head, 'feed head');
    if (isVoidSeq(head.seq)) {
      // A bootstrapped void head: the entries it took above its light header's top (checked above).
      const b = booted.find((x) => x.head.author === head.author)!;
      recent.push(...replayAboveTop(state, b, voids.get(head.author), result));
      continue;
    }
    const entries = await replayFeed(input, head, base.get(head.author), result, voids.get(head.author));
    recent.push(...entries);
  }
  // After the feeds (which name the first missing entry above the compaction): rows below it.
  // Pruned-headers rows are sealed (pruned-headers.ts); rows from before that are accepted, and
  // sealed, only in a store whose compaction seal is older than v4.
  const pruned = new PrunedHeaders(store, input.seed, seal !== undefined && seal.version < 4 ? 'accept' : 'ignore');
  await checkEntriesHeld(store, heads, headers, count, tops, pruned);

  try {
    const voidTops = booted.map((b) => ({ author: b.head.author, ...b.top }));
    result.feeds = FeedSet.fromHeads({ heads, recent, forks, voidTops }, input.feedOptions);
  } catch (e) {
    throw new CorruptStoreError(`stored fork evidence is unreadable: ${(e as Error).message}`, { cause: e });
  }
  // A compacted top found by a walk (no hint, or a stale one): the next open reads it directly.
  if (compaction !== undefined && booted.some((b) => b.searched))
    await storeCompactedTops(store, compaction.heads, (a) => {
      const c = caughtUp.get(a);
      return c?.hash === undefined ? undefined : { seq: c.seq, hash: c.hash };
    });
  return result;
}

export interface LightStateInput {
  /** This node (hex key): a light snapshot may carry neither its head nor its clientID's structs. */
  author: string;
  state: Uint8Array;
  heads: readonly FeedHead[];
  /** Lamport and Yjs clock of each head entry (which the store will not hold). */
  headers: readonly HeadHeader[];
  /** The snapshot's heads root and exporter, kept as the unverified marker. */
  headsRoot: string;
  exporter: string;
  at: number;
  /**
   * The state's digest when the caller already loaded exactly these bytes into a LedgerState and
   * computed it (verifyJoinSnapshot): the trial load and digest are then skipped.
   */
  verifiedDigest?: string;
  /**
   * That loaded document, for the ledger's next load to take over (loadLedger `preloaded`) when
   * the stored compaction is exactly its canonical bytes.
   */
  loaded?: LoadedState;
  /** Seals the compaction this bootstrap stores (compaction-seal.ts) with what it binds besides. */
  seal: (c: Omit<Compaction, 'mac'>, bound: SealBinding) => string;
  /**
   * A join quorum or an operator checkpoint vouched for this state already (join/ledger-source.ts):
   * stored and sealed without the unverified mark. Default false: marked unverified.
   */
  verified?: boolean;
}

/**
 * Bootstraps an EMPTY store from a light snapshot: a state and heads that nobody signed (only
 * their self-declared digest was checked). Accepting them next to any history would let a forged
 * head block an honest feed, or forged structs speak for any author; so a store with entries,
 * heads or a state refuses with LightSnapshotRefusedError, and so does a snapshot that claims
 * this node's own feed or clientID. The state is marked unverified (meta UNVERIFIED_META) before
 * it is stored; Ledger.markVerified clears it once a join quorum or an operator checkpoint vouched
 * for the state (src/lib/core/join).
 * Returns the number of entries the stored heads cover. Run it inside the ledger's queue.
 */
export async function storeLightState(store: LedgerStore, input: LightStateInput): Promise<number> {
  const [count, heads, compaction] = await Promise.all([store.count(), store.heads(), store.loadCompaction()]);
  if (count > 0 || heads.length > 0 || compaction !== undefined) throw new LightSnapshotRefusedError();
  const own = clientIdOf(input.author);
  // A document loaded from exactly these bytes and checked (no pending structs or deletes) holds
  // structs of a client, or deletes aimed at it, only if its store has that client: no decode.
  const touches =
    input.loaded !== undefined && input.loaded.canonical === input.state
      ? input.loaded.doc.store.clients.has(own)
      : updateTouchesClient(input.state, own);
  if (input.heads.some((h) => h.author === input.author) || touches) {
    throw new LightSnapshotRefusedError(
      "the light snapshot carries writes under this node's own key; import a full snapshot, which is verified entry by entry"
    );
  }
  if (input.heads.length === 0) return 0;
  checkHeads(input.heads); // InvalidHeadsError (the snapshot parser checked them already)
  // Trial load (in trialDigest): what is stored must load on every later replay (else the store
  // would not open).
  // A verified join state is canonical and integrates already (join/verify.ts); anything else is
  // loaded once here and stored in its canonical form, which replay requires (checkCompaction).
  const { canonical, digest } =
    input.verifiedDigest !== undefined
      ? { canonical: input.state, digest: input.verifiedDigest }
      : trialState(input.state, input.heads, input.headers);
  const marker: UnverifiedState = { headsRoot: input.headsRoot, exporter: input.exporter, at: input.at };
  const headers = input.headers.map((x) => copyHeader(x));
  const unverified = input.verified !== true;
  // Marked first: a crash between the two writes leaves an unverified flag, never an unflagged state.
  if (unverified) await store.setMeta(UNVERIFIED_META, marker);
  await store.setMeta(HEAD_HEADERS_META, headers);
  try {
    // The seal binds the mark and the headers too (v3): deleting the row or forging a header is found.
    const c = { state: canonical, heads: [...input.heads], at: input.at, digest };
    await store.saveCompaction({ ...c, mac: input.seal(c, { unverified, headers }) });
  } catch (e) {
    // Nothing of a failed bootstrap stays: its unsigned head headers would count as entries
    // never held (checkEntriesHeld) and be sealed into later compactions.
    await store.deleteMeta(HEAD_HEADERS_META).catch(() => undefined);
    if (unverified) await store.deleteMeta(UNVERIFIED_META).catch(() => undefined);
    throw e;
  }
  return input.heads.reduce((n, h, i) => n + coveredEntries(h, input.headers[i]?.top), 0);
}

/**
 * Verifies and applies one author's entries above the compaction, page by page. Returns the
 * last few (to seed FeedSet's duplicate/fork window).
 */
async function replayFeed(
  input: ReplayInput,
  head: FeedHead,
  base: FeedHead | undefined,
  out: ReplayResult,
  voidFrom = Infinity
): Promise<HashedEntry[]> {
  const { store, state } = input;
  const author = head.author;
  const pageSize = Math.max(1, input.pageSize ?? LEDGER_REPLAY_PAGE);
  let seq = base?.seq ?? 0;
  let prev = base ? fromHex(base.hash) : new Uint8Array(HASH_BYTES);
  if (head.seq < seq) throw corrupt(author, head.seq, `head seq ${head.seq} is below the compaction's ${seq}`);
  const recent: HashedEntry[] = [];

  while (seq < head.seq) {
    const page = await store.getRange(author, seq + 1, head.seq, pageSize);
    if (page.length === 0) throw corrupt(author, seq + 1, `entries ${seq + 1}..${head.seq} are missing`);
    // Signatures of a page are checked concurrently (WebCrypto works in parallel), links in order.
    const checks = await Promise.allSettled(page.map((h) => verifyStored(h, input)));
    for (let i = 0; i < page.length; i++) {
      const h = page[i];
      const at = seq + 1;
      if (h.entry.seq !== at) throw corrupt(author, at, `entry ${at} is missing (found ${h.entry.seq})`);
      const check = checks[i];
      if (check.status === 'rejected') {
        const why =
          check.reason instanceof Error ? `${check.reason.name}: ${check.reason.message}` : String(check.reason);
        throw corrupt(author, at, `stored entry fails verification (${why})`, check.reason);
      }
      if (toHex(h.entry.author) !== author) throw corrupt(author, at, 'stored entry has another author');
      if (!bytesEqual(h.entry.prev, prev)) throw corrupt(author, at, 'stored entry does not link to its predecessor');
      // Stored before its feed was found forked: kept and verified, never applied (void.ts).
      if (at < voidFrom) apply(state, h, author, out);
      seq = at;
      prev = h.hash;
      recent.push(h);
      if (recent.length > RECENT_ENTRIES_PER_AUTHOR) recent.shift();
    }
  }
  if (toHex(prev) !== head.hash) throw corrupt(author, head.seq, 'feed head does not match its entry');
  if (recent.length === 0) {
    // Nothing above the compaction: the head entry (never pruned, if present) still carries the
    // author's latest lamport, which the compacted state does not remember.
    const last = await store.getEntry(author, head.seq);
    if (last && bytesEqual(last.hash, prev)) out.lamport = Math.max(out.lamport, last.entry.lamport);
  }
  return recent;
}

async function verifyStored(h: HashedEntry, input: ReplayInput): Promise<void> {
  // hashEntry re-encodes: a shape error is a MalformedEntryError, a changed byte a hash mismatch.
  if (!(h.hash instanceof Uint8Array) || !bytesEqual(hashEntry(h.entry), h.hash)) {
    throw new CorruptStoreError('stored hash does not match the entry');
  }
  if (input.signatures !== false) await verifyEntry(h.entry, input.networkId, input.genesis);
}

function apply(state: LedgerState, h: HashedEntry, author: string, out: ReplayResult): void {
  const { seq, lamport, time, payload } = h.entry;
  out.lamport = Math.max(out.lamport, lamport);
  try {
    state.applyRemote(payload, { author, seq, lamport, time });
    out.applied++;
  } catch (e) {
    if (!(e instanceof LedgerError)) throw e;
    out.skipped.push({ author, seq, code: e.code, message: e.message });
  }
}

/**
 * Stored fork and collision evidence must prove what it claims (collision.ts: evidenceFlaw) with
 * two entries that verify; otherwise a row written into the store could void any feed.
 */
async function checkEvidence(forks: readonly ForkEvidence[], input: ReplayInput): Promise<void> {
  for (const ev of forks) {
    const flaw = evidenceFlaw(ev);
    const checks = flaw === undefined ? await Promise.allSettled([ev.a, ev.b].map((h) => verifyStored(h, input))) : [];
    const bad = checks.find((c) => c.status === 'rejected');
    if (flaw !== undefined || bad !== undefined)
      throw corrupt(ev.author, ev.seq, `stored fork evidence does not hold (${flaw ?? 'an entry fails verification'})`);
  }
}

/** Author → lowest forked seq, from stored fork evidence and bootstrapped void heads (void.ts). */
export function voidsOf(forks: readonly ForkEvidence[], heads: readonly FeedHead[] = []): Map<string, number> {
  const out = new Map<string, number>();
  const note = (author: string, s: number) => out.set(author, Math.min(out.get(author) ?? s, s));
  for (const ev of forks) note(ev.author, ev.seq);
  for (const h of heads) note(h.author, forkSeqOf(h.seq));
  return out;
}

/** A compaction head that is the void head of the feed's current void: not stale. */
function sameVoid(h: FeedHead, voids: ReadonlyMap<string, number>): boolean {
  return isVoidSeq(h.seq) && forkSeqOf(h.seq) === voids.get(h.author);
}

/**
 * For each bootstrapped void feed (bootstrappedVoids, replay mode), the canonical top the
 * compaction holds: the top its void head for the feed binds (with that entry's Yjs clock), or a
 * plain head's seq.
 */
function compactedTops(booted: readonly BootstrappedVoid[]): Map<string, CompactedTop> {
  const out = new Map<string, CompactedTop>();
  for (const b of booted) if (b.compacted !== undefined) out.set(b.head.author, b.compacted);
  return out;
}

/**
 * Applies the canonical entries a bootstrapped void feed took above what the compaction holds
 * (b.above), below the fork; returns the last few read (FeedSet's window).
 */
function replayAboveTop(
  state: LedgerState,
  b: BootstrappedVoid,
  voidFrom = Infinity,
  out: ReplayResult
): HashedEntry[] {
  out.lamport = Math.max(out.lamport, b.lamport);
  for (const h of b.above) if (h.entry.seq < voidFrom) apply(state, h, b.head.author, out);
  return b.recent;
}

/** A stored copy of a light head header: its fields, the canonical top only when it names one. */
function copyHeader(x: HeadHeader): HeadHeader {
  const base = { author: x.author, seq: x.seq, lamport: x.lamport, clock: x.clock };
  return x.top === undefined ? base : { ...base, top: x.top, topHash: x.topHash };
}

/**
 * The stored light head headers (meta HEAD_HEADERS_META), undefined when there is no such row.
 * A malformed row is CorruptStoreError.
 */
export async function readHeadHeaders(store: Pick<LedgerStore, 'getMeta'>): Promise<HeadHeader[] | undefined> {
  const v = await store.getMeta(HEAD_HEADERS_META);
  if (v === undefined) return undefined;
  const ok =
    Array.isArray(v) &&
    v.every(
      (x: HeadHeader) =>
        x !== null &&
        typeof x === 'object' &&
        typeof x.author === 'string' &&
        HEX64.test(x.author) &&
        [x.seq, x.lamport, x.clock].every((n) => Number.isSafeInteger(n) && n >= 0)
    );
  if (!ok) throw new CorruptStoreError('the stored light head headers are malformed');
  return v as HeadHeader[];
}

/**
 * Reseals the stored compaction with the unverified mark `unverified` (same state, heads, time,
 * digest), when it carries a v2 or v3 seal of this seed with the other mark. A v1 seal (no
 * canonical-bytes check) and a seal that does not hold are left as they are.
 */
export async function resealMark(store: LedgerStore, seed: Uint8Array, unverified: boolean): Promise<void> {
  const [c, headers] = await Promise.all([store.loadCompaction(), readHeadHeaders(store)]);
  if (c === undefined) return;
  const s = checkSeal(c, seed, headers);
  if (s === null || s.version === 1 || ('unverified' in s && s.unverified === unverified)) return;
  const { mac: _mac, ...rest } = c;
  // A v3 seal stays v3 (v4 promises sealed pruned-headers rows: only a compaction made after open
  // checked them, PrunedHeaders, makes that promise).
  const version = s.version === 4 ? 4 : 3;
  await store.saveCompaction({ ...rest, mac: sealCompaction(rest, seed, { unverified, headers }, version) });
}

/**
 * Clears the unverified mark durably: reseals the compaction without it first, then deletes the
 * row (a crash in between leaves the row, so the state stays unverified).
 */
export async function markStoreVerified(store: LedgerStore, seed: Uint8Array): Promise<void> {
  await resealMark(store, seed, false);
  await store.deleteMeta(UNVERIFIED_META);
}

function checkHead(h: FeedHead, what: string): void {
  const ok =
    h !== null &&
    typeof h === 'object' &&
    typeof h.author === 'string' &&
    HEX64.test(h.author) &&
    typeof h.hash === 'string' &&
    HEX64.test(h.hash) &&
    Number.isSafeInteger(h.seq) &&
    h.seq >= 1;
  if (!ok) throw new CorruptStoreError(`malformed ${what}`);
}

function corrupt(author: string, seq: number, why: string, cause?: unknown): CorruptStoreError {
  return new CorruptStoreError(`${why}: author ${author.slice(0, 16)}… seq ${seq}`, { author, seq, cause });
}

/**
 * The compacted state must be the one this node sealed (state, heads, digest, time), and its
 * structure must match its heads: every clientID belongs to a covered author, and each covered
 * author's Yjs clock is the clock of its head entry.
 */
async function checkCompaction(
  input: ReplayInput,
  c: Compaction,
  state: LedgerState,
  voids: ReadonlyMap<string, number>,
  seal: SealCheck | undefined,
  base: readonly HeadHeader[] | undefined,
  caughtUp: ReadonlyMap<string, { seq: number; clock?: number }> = new Map()
): Promise<void> {
  if (typeof c.digest !== 'string' || c.digest !== state.digest())
    throw new CorruptStoreError('the compacted state does not match its digest');
  // The digest covers integrated structs only: nothing may be left pending, and a v2 or v3 seal
  // (over the digest) binds the bytes only if they are exactly the canonical state.
  if (state.hasPending()) throw new CorruptStoreError('the compacted state holds structs that do not integrate');
  if (seal !== undefined && seal.version >= 2 && !bytesEqual(state.canonical().canonical, c.state))
    throw new CorruptStoreError('the compacted state is not in its canonical encoding');
  const byClient = new Map(c.heads.map((h) => [clientIdOf(h.author), h]));
  // A void feed's clock space ends in its placeholder (void.ts), not at its last applied entry.
  const voided = new Set([...voids.keys()].map(clientIdOf));
  for (const client of state.doc.store.clients.keys()) {
    if (voided.has(client) && Y.getState(state.doc.store, client) === MAX_ENTRY_CLOCK) continue;
    const head = byClient.get(client);
    if (head === undefined)
      throw new CorruptStoreError(`the compacted state holds writes of client ${client}, which no head covers`);
    const entry = await input.store.getEntry(head.author, head.seq);
    // A bootstrapped void feed that took entries since: the clock of the top its head binds.
    const clock =
      caughtUp.get(head.author)?.clock ??
      entry?.entry.clock ??
      base?.find((b) => b.author === head.author && b.seq === head.seq)?.clock;
    if (clock !== undefined && Y.getState(state.doc.store, client) !== clock)
      throw corrupt(head.author, head.seq, 'the compacted state does not end at its head entry');
  }
}

/**
 * Heads rows cannot vanish unnoticed: every author of the compaction keeps a head at or above
 * it, and the store holds no more entries than its heads cover. Returns the store's entry count.
 */
async function checkHeadsCover(
  store: LedgerStore,
  heads: readonly FeedHead[],
  base: Map<string, FeedHead>,
  tops: ReadonlyMap<string, number>
): Promise<number> {
  const stored = new Map(heads.map((h) => [h.author, h.seq]));
  for (const [author, h] of base) {
    if ((stored.get(author) ?? 0) < h.seq) throw corrupt(author, h.seq, 'a feed head is missing from the store');
  }
  const covered = heads.reduce((n, h) => n + coveredEntries(h, tops.get(h.author)), 0);
  const count = await store.count();
  if (count > covered) throw new CorruptStoreError(`the store holds ${count} entries but its heads cover ${covered}`);
  return count;
}

/**
 * Entry rows cannot vanish unnoticed either (below the compaction, where replay reads none): the
 * store holds exactly the entries its heads cover, less those it records as not held (a light
 * bootstrap's heads, pruned by a light budget). Costs the count already taken; the pruned rows
 * (one meta read per author, each row's mac checked) are read only when the store holds fewer.
 */
async function checkEntriesHeld(
  store: LedgerStore,
  heads: readonly FeedHead[],
  headers: readonly HeadHeader[] | undefined,
  count: number,
  tops: ReadonlyMap<string, number>,
  pruned: PrunedHeaders
): Promise<void> {
  const covered = heads.reduce((n, h) => n + coveredEntries(h, tops.get(h.author)), 0);
  if (count >= covered) return;
  const notHeld = await entriesNotHeld(heads, headers, pruned);
  if (covered - count > notHeld)
    throw new CorruptStoreError(
      `the store lacks ${covered - count - notHeld} entries: it holds ${count} of the ${covered} its heads cover, ${notHeld} of them never held or pruned`
    );
}

/** Entries the store records as not held: those a light bootstrap's heads cover, and those pruned. */
async function entriesNotHeld(
  heads: readonly FeedHead[],
  headers: readonly HeadHeader[] | undefined,
  pruned: PrunedHeaders
): Promise<number> {
  const bootstrapped = (headers ?? []).reduce((n, x) => n + coveredEntries({ ...x, hash: '' }, x.top), 0);
  const counts = await Promise.all(heads.map((h) => pruned.count(h.author)));
  return counts.reduce((n, x) => n + x, bootstrapped);
}
