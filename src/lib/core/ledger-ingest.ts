// The pure half of ingesting replicated entries: verifying each one on its own (never trusting
// the caller), then sorting the verified ones through the FeedSet into "store these", "fork
// evidence", duplicates, pending and rejections. The Ledger does the writes and the applying.
// Also the local author's next entry (signLocal), held to the same size limit.
import type { EntryDep, FeedHead, ForkEvidence, Genesis, HashedEntry, IdentityKeys } from './types.js';
import type { LedgerStore } from './storage.js';
import type { FeedSet, RejectedPending } from './feeds.js';
import type { RefusedVariants } from './refused-variants.js';
import type { LedgerState } from './state/doc.js';
import { createEntry, decodeEntry, encodeEntry } from './entry.js';
import { verifyHashed } from './verified-entries.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import { checkCausal, GENESIS_HEADER, type EntryHeader } from './causal.js';
import { parsePayload } from './payload.js';
import { checkRecordDeletes, checkRecordWrites } from './state/records-rules.js';
import { StructIndex } from './state/struct-index.js';
import type { ParsedStruct } from './yjs-update.js';
import {
  CausalityError,
  ClientIdCollisionError,
  LedgerError,
  MalformedEntryError,
  OversizedEntryError
} from './errors.js';
import { clientIdOf, contestedAuthors } from './state/client-id.js';
import { HASH_BYTES, LEDGER_VERIFY_CONCURRENCY } from './constants.js';
import type { WriteStamp } from './state/doc.js';
import { applyStored } from './apply-batch.js';
import { BatchWitnesses, collisionWitness, evidenceFlaw, isCollision } from './collision.js';

/** What a peer may hand to Ledger.ingest: canonical entry bytes, or a decoded entry. */
export type IncomingEntry = Uint8Array | HashedEntry;

export interface Rejection {
  author?: string;
  seq?: number;
  /** SHA-256 of the refused entry, hex, when it decoded (tells two variants of one seq apart). */
  hash?: string;
  /** The LedgerError code (e.g. 'bad-signature'); peers are scored on it. */
  code: string;
  message: string;
}

export interface IngestReport {
  /** Entries newly stored (and applied). */
  added: number;
  /** Entries already known (same author, seq and hash). */
  duplicates: number;
  /** Entries held until their predecessors arrive. */
  pending: number;
  /** Equivocations detected by this batch (evidence stored). */
  forks: number;
  /** Valid entries not kept: pending buffer full, or descendants of a fork's losing branch. */
  dropped: number;
  /**
   * Entries refused, with the reason. Nothing of them is stored, except an entry whose payload the
   * state refused only after it was stored (code of a state error, e.g. 'malformed-payload').
   */
  rejected: Rejection[];
}

export type Verified = { ok: true; h: HashedEntry } | { ok: false; rejection: Rejection };

export function emptyReport(): IngestReport {
  return { added: 0, duplicates: 0, pending: 0, forks: 0, dropped: 0, rejected: [] };
}

/**
 * Folds the report of a carried pass (entries judged again in the same ingest after a void or a
 * resync) into `report`. An entry refused by the first pass and stored by the carried one is no
 * longer reported refused (its sender sent a valid entry: the refusal came from judging it
 * before a void of the same batch was applied); one refused by both passes is reported once.
 * The carried pass also judges entries other peers sent earlier (held ones, remembered
 * refusals): their refusals are not this batch's sender's doing (peers are scored on the report),
 * so only refusals of `batch` entries are kept. `carriedStored`, `batch`: hex hashes. `pending`
 * is left to the caller (the batch's entries still held: the carried pass counts others' too).
 */
export function mergeCarried(
  report: IngestReport,
  again: IngestReport,
  carriedStored: ReadonlySet<string>,
  batch: ReadonlySet<string>
): void {
  report.added += again.added;
  report.forks += again.forks;
  const kept = report.rejected.filter((r) => r.hash === undefined || !carriedStored.has(r.hash));
  const seen = new Set(kept.flatMap((r) => (r.hash === undefined ? [] : [r.hash])));
  for (const r of again.rejected) if (r.hash !== undefined && batch.has(r.hash) && !seen.has(r.hash)) kept.push(r);
  report.rejected.splice(0, report.rejected.length, ...kept);
}

export function rejectionOf(e: unknown, author?: string, seq?: number, hash?: Uint8Array): Rejection {
  const code = e instanceof LedgerError ? e.code : new MalformedEntryError().code;
  const message = e instanceof Error ? e.message : String(e);
  return {
    ...(author !== undefined ? { author } : {}),
    ...(seq !== undefined ? { seq } : {}),
    ...(hash !== undefined ? { hash: toHex(hash) } : {}),
    code,
    message
  };
}

/** rejectionOf for a decoded entry: its author, seq and hash. */
function refusalOf(e: unknown, h: HashedEntry): Rejection {
  return rejectionOf(e, toHex(h.entry.author), h.entry.seq, h.hash);
}

/**
 * Decodes (bytes) or re-encodes (HashedEntry) into a private copy, checks the hash the caller
 * claims, then verifies network, signature and payload. Never throws: failures are rejections.
 */
export async function verifyIncoming(item: IncomingEntry, networkId: Uint8Array, genesis: Genesis): Promise<Verified> {
  let h: HashedEntry;
  try {
    if (item instanceof Uint8Array) {
      h = decodeEntry(item, genesis.maxEntryBytes);
    } else {
      if (item === null || typeof item !== 'object') throw new MalformedEntryError('entry must be bytes or an object');
      // Re-encoding copies every field (a caller mutating its object later cannot reach ours)
      // and yields the true hash; the size limit is checked before the copy is parsed.
      h = decodeEntry(encodeEntry(item.entry), genesis.maxEntryBytes);
      if (!(item.hash instanceof Uint8Array) || !bytesEqual(item.hash, h.hash)) {
        throw new MalformedEntryError('entry hash does not match its encoding');
      }
    }
  } catch (e) {
    return { ok: false, rejection: rejectionOf(e) };
  }
  try {
    // The default payload check: a bounded Yjs update, every struct under the author's clientID.
    // Once per process for the same bytes (gossip checked most entries before handing them over).
    await verifyHashed(h, networkId, genesis);
    return { ok: true, h };
  } catch (e) {
    return { ok: false, rejection: refusalOf(e, h) };
  }
}

/**
 * verifyIncoming over a batch, `concurrency` at a time: a snapshot-sized batch (up to a million
 * entries) never has more than that many verifications (and promises) in flight. Returns the
 * verified entries and a report holding the refusals.
 */
export async function checkBatch(
  batch: readonly IncomingEntry[],
  networkId: Uint8Array,
  genesis: Genesis,
  concurrency = LEDGER_VERIFY_CONCURRENCY
): Promise<{ verified: HashedEntry[]; report: IngestReport }> {
  const report = emptyReport();
  const verified: HashedEntry[] = [];
  if (!Array.isArray(batch)) {
    report.rejected.push(rejectionOf(new TypeError('ingest expects an array')));
    return { verified, report };
  }
  const step = Math.max(1, Math.floor(concurrency));
  for (let i = 0; i < batch.length; i += step) {
    const chunk = batch.slice(i, i + step).map((item) => verifyIncoming(item, networkId, genesis));
    for (const c of await Promise.all(chunk)) {
      if (c.ok) verified.push(c.h);
      else report.rejected.push(c.rejection);
    }
  }
  return { verified, report };
}

export interface FeedPlan {
  /** Newly contiguous entries, in the order they joined their feeds. */
  toStore: HashedEntry[];
  evidence: ForkEvidence[];
  /** The caller declared evidence (a snapshot's void feeds): forks and void drops are expected. */
  declared: boolean;
  /** Entries dropped for another reason than a void feed (pending budget, pruned history). */
  lost: number;
}

/**
 * Verifies declared evidence (a snapshot's void feeds) as ingest verifies entries: both entries
 * (network, signature, payload) and its shape (collision.ts evidenceFlaw). Throws CausalityError
 * naming the first that does not hold: nothing is stored then.
 */
export async function checkEvidence(
  evidence: readonly ForkEvidence[],
  networkId: Uint8Array,
  genesis: Genesis
): Promise<ForkEvidence[]> {
  const out: ForkEvidence[] = [];
  for (const ev of evidence) {
    const [a, b] = await Promise.all([ev.a, ev.b].map((h) => verifyIncoming(h, networkId, genesis)));
    const flaw = !a.ok ? a.rejection.message : !b.ok ? b.rejection.message : evidenceFlaw({ ...ev, a: a.h, b: b.h });
    if (flaw !== undefined || !a.ok || !b.ok)
      throw new CausalityError(
        `refused as a whole: evidence of ${String(ev.author).slice(0, 16)}… does not hold (${flaw})`
      );
    out.push({ author: ev.author, seq: ev.seq, a: a.h, b: b.h, detectedAt: ev.detectedAt });
  }
  return out;
}

/** Records declared evidence in the FeedSet before the batch, unless the feed is void there already. */
function recordDeclared(
  feeds: FeedSet,
  evidence: readonly ForkEvidence[],
  plan: FeedPlan,
  held: Set<HashedEntry>,
  report: IngestReport,
  refused: RefusedVariants | undefined
): void {
  for (const ev of evidence) {
    if (isCollision(ev)) {
      const other = toHex(ev.b.entry.author);
      if (feeds.voidFrom(ev.author) === 1 && feeds.voidFrom(other) === 1) continue;
      const c = feeds.recordCollision(ev.a, ev.b);
      plan.evidence.push(...c.evidence);
      released(c, plan, held, report, refused, feeds);
    } else {
      if ((feeds.voidFrom(ev.author) ?? Infinity) <= ev.seq) continue;
      const f = feeds.recordFork(ev.a, ev.b);
      plan.evidence.push(f.evidence);
      released(f, plan, held, report, refused, feeds);
    }
  }
}

/**
 * Runs verified entries through the FeedSet (which it mutates: the caller must rebuild the
 * FeedSet from the store if storing the plan fails). Counts go into `report`.
 */
export async function planFeeds(
  feeds: FeedSet,
  store: Pick<LedgerStore, 'getEntry'>,
  verified: readonly HashedEntry[],
  report: IngestReport,
  refused?: RefusedVariants,
  declared?: readonly ForkEvidence[]
): Promise<FeedPlan> {
  const plan: FeedPlan = { toStore: [], evidence: [], declared: declared !== undefined, lost: 0 };
  const held = new Set<HashedEntry>(); // entries of this batch that went pending
  // A snapshot's void feeds first: nothing of theirs at or above the fork is stored or applied.
  recordDeclared(feeds, declared ?? [], plan, held, report, refused);
  const unjudged = new Map<string, HashedEntry>(); // "author:seq" of pruned seqs seen in this batch
  const witnesses = new BatchWitnesses(verified);
  for (const h of verified) {
    // Two keys with one clientID: both feeds are void from seq 1, whatever came first (§6.2).
    const rival = await collisionWitness(feeds, store, witnesses, h);
    if (rival !== undefined) {
      const c = feeds.recordCollision(rival, h);
      plan.evidence.push(...c.evidence);
      released(c, plan, held, report, refused, feeds);
    }
    const r = feeds.ingest(h);
    switch (r.kind) {
      case 'appended':
        plan.toStore.push(...r.entries);
        for (const e of r.entries) held.delete(e);
        settleRejected(r.rejected, held, report, refused, { feeds, plan });
        // A variant of an entry refused earlier (causal rules, broken chain): fork evidence all the same.
        for (const e of r.entries) variantFork(e, { feeds, plan }, held, report, refused);
        break;
      case 'pending':
        held.add(h);
        // Held for a missing dependency or gap, but signed for its seq: with a variant refused
        // earlier, fork evidence now, as when the refusal comes second (gossip-converge fuzz).
        variantFork(h, { feeds, plan }, held, report, refused);
        break;
      case 'duplicate':
        report.duplicates++;
        break;
      case 'fork':
        plan.evidence.push(r.evidence);
        released(r, plan, held, report, refused, feeds);
        break;
      case 'broken-chain':
        // Signed for this seq all the same: with a variant refused earlier, fork evidence (§6).
        if (variantFork(h, { feeds, plan }, held, report, refused)) break;
        report.rejected.push(refusalOf(r.error, h));
        refused?.add(h, false);
        break;
      case 'dropped':
        // Not held (pending budget full): a remembered refused variant still makes it evidence.
        if (r.reason !== 'forked-branch' && variantFork(h, { feeds, plan }, held, report, refused)) break;
        report.dropped++;
        if (r.reason !== 'forked-branch') plan.lost++;
        break;
      case 'needs-lookup': {
        // Below the retained window: only the store can tell a duplicate from a fork.
        const stored = await store.getEntry(r.author, r.seq);
        const key = `${r.author}:${r.seq}`;
        const seen = unjudged.get(key);
        if (
          stored === undefined &&
          seen !== undefined &&
          !bytesEqual(seen.hash, h.hash) &&
          !feeds.hasEvidence(r.author, r.seq)
        ) {
          // Two signed entries at one pruned seq prove the fork by themselves (PROTOCOL.md §6.1).
          const f = feeds.recordFork(seen, h);
          plan.evidence.push(f.evidence);
          released(f, plan, held, report, refused, feeds);
        } else if (stored === undefined) {
          unjudged.set(key, h);
          report.dropped++; // pruned history: cannot judge alone, keep nothing
          plan.lost++;
        } else if (bytesEqual(stored.hash, h.hash)) report.duplicates++;
        else if (feeds.hasEvidence(r.author, r.seq)) report.dropped++;
        else {
          const f = feeds.recordFork(stored, h);
          plan.evidence.push(f.evidence);
          released(f, plan, held, report, refused, feeds);
        }
        break;
      }
    }
  }
  // Still waiting for a predecessor after the whole batch: a fork or the pending budget may have
  // taken some of them out of the buffer since they went pending.
  report.pending = [...held].filter((h) => feeds.isPending(h)).length;
  report.forks = plan.evidence.length;
  return plan;
}

/** Entries a fork released from pending (see FeedSet's fork result) join the plan. */
function released(
  r: { entries: HashedEntry[]; rejected: RejectedPending[] },
  plan: FeedPlan,
  held: Set<HashedEntry>,
  report: IngestReport,
  refused: RefusedVariants | undefined,
  feeds: FeedSet
): void {
  plan.toStore.push(...r.entries);
  for (const e of r.entries) held.delete(e);
  settleRejected(r.rejected, held, report, refused, { feeds, plan });
}

/**
 * Records the fork of `h` with a remembered refused variant of its (author, seq), if there is one
 * and no evidence yet; true when it did. Two signed entries at one seq prove the fork whatever
 * refused either (causal rules, broken chain), so the verdict does not depend on which came first.
 */
function variantFork(
  h: HashedEntry,
  at: { feeds: FeedSet; plan: FeedPlan },
  held: Set<HashedEntry>,
  report: IngestReport,
  refused: RefusedVariants | undefined
): boolean {
  const author = toHex(h.entry.author);
  const v = refused?.other(author, h.entry.seq, h.hash);
  if (v === undefined || at.feeds.hasEvidence(author, h.entry.seq)) return false;
  const f = at.feeds.recordFork(v, h);
  at.plan.evidence.push(f.evidence);
  released(f, at.plan, held, report, refused, at.feeds);
  return true;
}

/**
 * Held entries that could not join their chain: dropped (a void feed) or a broken chain, which is
 * remembered as a variant of its seq (its author signed it for that seq all the same, §6.1).
 */
function settleRejected(
  rejected: readonly RejectedPending[],
  held: Set<HashedEntry>,
  report: IngestReport,
  refused: RefusedVariants | undefined,
  at: { feeds: FeedSet; plan: FeedPlan }
): void {
  for (const p of rejected) {
    held.delete(p.entry);
    if (p.reason === 'forked-branch') report.dropped++;
    else if (!variantFork(p.entry, at, held, report, refused)) {
      report.rejected.push(brokenChain(p.entry));
      refused?.add(p.entry, false);
    }
  }
}

function brokenChain(h: HashedEntry): Rejection {
  return {
    author: toHex(h.entry.author),
    seq: h.entry.seq,
    hash: toHex(h.hash),
    code: 'broken-chain',
    message: `seq ${h.entry.seq} does not link to its predecessor`
  };
}

export interface CommitResult {
  /** Entries stored (or already in the store) and applied, in feed order: announce these. */
  stored: HashedEntry[];
  /** Highest lamport among them. */
  lamport: number;
  /** Stored entries whose payload the state refused (also listed in report.rejected). */
  skipped: number;
  /** True when the store disagreed with the FeedSet: rebuild the FeedSet from the store. */
  feedsStale: boolean;
  /** Fork evidence stored by this commit (announce these). */
  forks: ForkEvidence[];
  /** Storing fork evidence failed (after the entries were stored and applied): rethrow it. */
  forkError?: unknown;
  /** Verified entries the causal rules refused (remember them: RefusedVariants). */
  refused: HashedEntry[];
}

/** Set by commitPlan once store.ingest has committed: from then on a failure needs a full rebuild. */
export interface CommitProgress {
  stored: boolean;
  /** Called just before the stored entries are applied; `feedsStale` as in CommitResult. */
  beforeApply?: (feedsStale: boolean) => void;
}

/** Refuses, before they are stored, the entries of authors that lost their clientID (see contestedAuthors). */
function refuseRivals(toStore: HashedEntry[], state: LedgerState, report: IngestReport): HashedEntry[] {
  const refused = contestedAuthors(new Set(toStore.map((h) => toHex(h.entry.author))), (c) => state.authorOf(c));
  if (refused.size === 0) return toStore;
  return toStore.filter((h) => {
    const author = toHex(h.entry.author);
    const owner = refused.get(author);
    if (owner === undefined) return true;
    const e = new ClientIdCollisionError(`clientID ${clientIdOf(author)} belongs to ${owner}, not ${author}`);
    report.rejected.push(refusalOf(e, h));
    return false;
  });
}

/** The header (lamport, Yjs clock) of an entry present here, or undefined. */
export type HeaderLookup = (author: string, seq: number) => Promise<EntryHeader | undefined>;

/**
 * Headers and structs of the entries judged acceptable so far in one batch (an ingest batch, or a
 * gossip run), not applied yet: later entries are judged on top of them (judgeCausal).
 */
export class CausalBatch {
  private readonly headers = new Map<string, EntryHeader>();
  readonly structs = new StructIndex();

  constructor(private readonly lookup: HeaderLookup) {}

  /** An earlier entry of the batch's header, else the lookup's. */
  async header(author: string, seq: number): Promise<EntryHeader | undefined> {
    return this.headers.get(`${author}:${seq}`) ?? (await this.lookup(author, seq));
  }

  add(h: HashedEntry, author: string, structs: readonly ParsedStruct[]): void {
    this.headers.set(`${author}:${h.entry.seq}`, { lamport: h.entry.lamport, clock: h.entry.clock });
    this.structs.addAll(structs);
  }
}

/**
 * Judges `h` (of `author`) by the causal rules (causal.ts), the state's integrability check and
 * the records rules, on top of `batch`, which it then joins. Returns what it names that is not
 * present (its predecessor or a dependency: nothing is judged then), else undefined. Throws the
 * LedgerError of a refusal. Shared by ingest (admitCausal) and gossip's precheck
 * (Ledger.precheckRun), so the two cannot judge an entry differently.
 */
export async function judgeCausal(
  h: HashedEntry,
  author: string,
  state: LedgerState,
  maxBytes: number,
  batch: CausalBatch
): Promise<string | undefined> {
  const seq = h.entry.seq;
  const prev = await batch.header(author, seq - 1);
  if (prev === undefined) return `predecessor ${seq - 1} is not present`;
  const deps: EntryHeader[] = [];
  for (const d of h.entry.deps) {
    const dh = await batch.header(d.author, d.seq);
    if (dh === undefined) return `dependency ${d.author.slice(0, 16)}…:${d.seq} is not present`;
    deps.push(dh);
  }
  const parsed = parsePayload(h.entry.payload, maxBytes);
  checkCausal(h.entry, author, parsed, prev, deps);
  state.checkIntegrable(parsed, batch.structs);
  checkRecordDeletes(state.doc, parsed, batch.structs);
  checkRecordWrites(state.doc, parsed, batch.structs);
  batch.add(h, author, parsed.structs);
  return undefined;
}

/**
 * The causal rules (causal.ts) and the state's integrability check over entries that passed the
 * chain and dependency gates, in their causal order, before anything is stored. An entry that
 * fails them is refused, and so is everything after it in its feed and everything that names
 * it (or a later seq of its feed) as a dependency. Returns the admitted entries.
 */
export async function admitCausal(
  toStore: readonly HashedEntry[],
  state: LedgerState,
  lookup: HeaderLookup,
  maxBytes: number,
  report: IngestReport
): Promise<HashedEntry[]> {
  const batch = new CausalBatch((a, s) => (s === 0 ? Promise.resolve(GENESIS_HEADER) : lookup(a, s)));
  const refused = new Map<string, number>(); // author → lowest refused seq
  const admitted: HashedEntry[] = [];
  for (const h of toStore) {
    const author = toHex(h.entry.author);
    const seq = h.entry.seq;
    try {
      const low = refused.get(author);
      if (low !== undefined && seq > low) throw new CausalityError(`follows refused seq ${low} of its feed`);
      for (const d of h.entry.deps) {
        const dl = refused.get(d.author);
        if (dl !== undefined && d.seq >= dl)
          throw new CausalityError(`depends on a refused entry of ${d.author.slice(0, 16)}…`);
      }
      const missing = await judgeCausal(h, author, state, maxBytes, batch);
      if (missing !== undefined) throw new CausalityError(missing);
      admitted.push(h);
    } catch (e) {
      if (!(e instanceof LedgerError)) throw e;
      refused.set(author, Math.min(refused.get(author) ?? seq, seq));
      report.rejected.push(refusalOf(e, h));
    }
  }
  return admitted;
}

/**
 * Stores a plan with ONE store.ingest (relaxed durability), applies the stored payloads, then
 * stores the fork evidence (last, so a failure there cannot leave stored entries unapplied).
 * If this throws before `progress.stored`, nothing was stored but the FeedSet is ahead of the
 * store: rebuild the FeedSet. After it, the state may lack stored entries: rebuild everything.
 * A fork's second entry is never stored; a new fork voids its author's feed (the Ledger rebuilds).
 */
export async function commitPlan(
  store: LedgerStore,
  state: LedgerState,
  plan: FeedPlan,
  report: IngestReport,
  now: () => number,
  lookup: HeaderLookup,
  maxBytes: number,
  progress: CommitProgress = { stored: false },
  atomic = false
): Promise<CommitResult> {
  const out: CommitResult = { stored: [], lamport: 0, skipped: 0, feedsStale: false, forks: [], refused: [] };
  const rivalsOut = refuseRivals(plan.toStore, state, report);
  const toStore = await admitCausal(rivalsOut, state, lookup, maxBytes, report);
  const admitted = new Set(toStore);
  out.refused = rivalsOut.filter((h) => !admitted.has(h));
  // With declared evidence (a snapshot's void feeds), forks and entries dropped into a void are expected.
  const unexpected = plan.declared ? plan.lost > 0 : report.dropped > 0 || plan.evidence.length > 0;
  if (atomic && (report.rejected.length > 0 || report.pending > 0 || unexpected)) throw atomicFailure(report);
  // The FeedSet already took the refused entries: it must be rebuilt from the store.
  if (toStore.length !== plan.toStore.length) out.feedsStale = true;
  if (toStore.length > 0) {
    const res = await store.ingest(toStore);
    progress.stored = true;
    report.added = res.added;
    report.duplicates += res.duplicates;
    const clash = new Set(res.conflicts);
    out.stored = toStore.filter((h) => !clash.has(h));
    // The store held other entries at those seqs: they stay; the newcomers become evidence.
    for (const h of res.conflicts) {
      const author = toHex(h.entry.author);
      const theirs = await store.getEntry(author, h.entry.seq);
      if (theirs) plan.evidence.push({ author, seq: h.entry.seq, a: theirs, b: h, detectedAt: now() });
    }
    out.feedsStale ||= res.conflicts.length > 0;
  }
  report.forks = plan.evidence.length;
  // One Yjs transaction for the batch (apply-batch.ts). A payload that is verified and stored but
  // that the state cannot integrate is skipped, here and on every replay.
  progress.beforeApply?.(out.feedsStale);
  const applied = applyStored(state, out.stored);
  out.lamport = applied.lamport;
  out.skipped = applied.refused.length;
  for (const r of applied.refused) report.rejected.push(refusalOf(r.error, r.h));
  try {
    for (const ev of plan.evidence) {
      await store.putFork(ev);
      out.forks.push(ev);
    }
  } catch (e) {
    out.forkError = e;
  }
  return out;
}

/** What a local entry carries besides its payload: wall time, lamport, Yjs clock and deps. */
export interface LocalStamp extends WriteStamp {
  clock: number;
  deps: EntryDep[];
}

/** The local author's entry after `head`, signed, within the genesis size limit. */
export async function signLocal(
  keys: IdentityKeys,
  head: FeedHead | undefined,
  stamp: LocalStamp,
  payload: Uint8Array,
  networkId: Uint8Array,
  maxEntryBytes: number
): Promise<HashedEntry> {
  const seq = (head?.seq ?? 0) + 1;
  const prev = head ? fromHex(head.hash) : new Uint8Array(HASH_BYTES);
  const { lamport, time, clock, deps } = stamp;
  const h = await createEntry({ keys, seq, prev, lamport, time, clock, deps, payload }, networkId);
  const size = encodeEntry(h.entry).length;
  if (size > maxEntryBytes) throw new OversizedEntryError(`entry is ${size} bytes, limit ${maxEntryBytes}`);
  return h;
}

/** Why an all-or-nothing ingest stored nothing: the first refusal, or what was left waiting or forked. */
export function atomicFailure(report: IngestReport): CausalityError {
  const r = report.rejected[0];
  if (r !== undefined)
    return new CausalityError(`refused as a whole: ${r.code} at ${r.author?.slice(0, 16)}…:${r.seq} (${r.message})`);
  const waiting = report.pending + report.dropped;
  return new CausalityError(
    waiting > 0
      ? `refused as a whole: ${waiting} entries depend on entries that are missing`
      : 'refused as a whole: it forks a feed this node holds'
  );
}
