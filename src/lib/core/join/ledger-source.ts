// Adapts a Ledger to the JoinSource a JoinServer serves from: the signed entry at every head
// (only a node holding all of them can serve) and the canonical state, built once per heads root.
import type { Ledger } from '../ledger.js';
import type { FeedHead } from '../types.js';
import { encodeEntry } from '../entry.js';
import { toHex } from '../bytes.js';
import { headsRoot, sortHeads } from '../heads-digest.js';
import { coveredEntries, forkSeqOf, isVoidSeq, type VoidTop } from '../void.js';
import { encodeJoinSnapshot } from './snapshot.js';
import type { Checkpoint, JoinClaim } from './messages.js';
import type { JoinSource, ServedSnapshot } from './server.js';
import type { VerifiedSnapshot } from './verify.js';
import type { JoinVerdict } from './joiner.js';
import { JOIN_SERVE_REBUILD_MS } from './constants.js';

export interface LedgerSourceOptions {
  /** An operator's node: a checkpoint of the claim (e.g. signCheckpoint with its key); else none. */
  checkpoint?: (claim: JoinClaim) => Promise<Checkpoint | undefined>;
  /** Clock for the rebuild bound, ms; default Date.now. */
  now?: () => number;
  /** A snapshot younger than this is served again rather than rebuilt, ms; default JOIN_SERVE_REBUILD_MS. */
  rebuildMs?: number;
}

/**
 * The join snapshot of `ledger`; undefined while it lacks an entry at one of its heads (light
 * replica) or while its state is unverified (PROTOCOL.md §13). Built at most once per `rebuildMs` however often peers ask (one build at a time), so
 * asks cannot make the node re-encode its state continuously; a snapshot served meanwhile is one
 * the node held at most that long ago.
 */
export function ledgerJoinSource(ledger: Ledger, opts: LedgerSourceOptions = {}): JoinSource {
  const now = opts.now ?? Date.now;
  let last: { snap: ServedSnapshot | undefined; at: number } | undefined;
  let building: Promise<ServedSnapshot | undefined> | undefined;
  const build = async (): Promise<ServedSnapshot | undefined> => {
    const snap = await buildSnapshot(ledger, opts, last?.snap);
    last = { snap, at: now() };
    return snap;
  };
  return {
    snapshot() {
      if (last !== undefined && now() - last.at < (opts.rebuildMs ?? JOIN_SERVE_REBUILD_MS)) {
        return Promise.resolve(last.snap);
      }
      building ??= build().finally(() => (building = undefined));
      return building;
    }
  };
}

/**
 * Canonical bytes of the entry at each head, and of the evidence of each void head (PROTOCOL.md
 * §13.4): a void feed (§6.1) is served as its canonical top entry k (none when k = 0), which its
 * void head binds, and its evidence record at s. Undefined when one of them is not held (a light replica that
 * pruned it or bootstrapped its head; such a replica serves no join).
 */
async function headEntries(
  ledger: Ledger,
  heads: readonly FeedHead[],
  tops: ReadonlyMap<string, VoidTop | undefined>
): Promise<{ heads: Uint8Array[]; evidence: [Uint8Array, Uint8Array][] } | undefined> {
  const out: Uint8Array[] = [];
  const evidence: [Uint8Array, Uint8Array][] = [];
  for (const h of heads) {
    if (isVoidSeq(h.seq)) {
      const s = forkSeqOf(h.seq);
      const ev = ledger.forks().find((f) => f.author === h.author && f.seq === s);
      const top = tops.get(h.author);
      if (ev === undefined || top === undefined) return undefined;
      evidence.push([encodeEntry(ev.a.entry), encodeEntry(ev.b.entry)]);
      if (top.seq === 0) continue;
      // Its canonical top k, which its void head binds (void.ts).
      const e = await ledger.store.getEntry(h.author, top.seq);
      if (e === undefined || toHex(e.hash) !== top.hash) return undefined;
      out.push(encodeEntry(e.entry));
      continue;
    }
    const e = await ledger.store.getEntry(h.author, h.seq);
    if (e === undefined || toHex(e.hash) !== h.hash) return undefined;
    out.push(encodeEntry(e.entry));
  }
  return { heads: out, evidence };
}

async function buildSnapshot(
  ledger: Ledger,
  opts: LedgerSourceOptions,
  last: ServedSnapshot | undefined
): Promise<ServedSnapshot | undefined> {
  // Heads and state read together, at a point where they agree (Ledger.readConsistent: no local
  // write half done, no direct change on the document waiting to be signed).
  const point = await ledger.readConsistent(() => readPoint(ledger, last));
  if (point === undefined || 'last' in point) return point?.last;
  const { heads, root, canonical, digest, tops } = point;
  const entries = await headEntries(ledger, heads, tops);
  if (entries === undefined) return undefined;
  const covered = heads.reduce((n, h) => n + coveredEntries(h, tops.get(h.author)?.seq), 0);
  const claim = { headsRoot: root, stateDigest: digest, entries: covered };
  const body = encodeJoinSnapshot({ heads: entries.heads, evidence: entries.evidence, state: canonical });
  return { claim, feeds: heads.length, body, checkpoint: (await opts.checkpoint?.(claim)) ?? null };
}

/** What buildSnapshot reads synchronously: undefined when nothing may be served, `last` when unchanged. */
function readPoint(ledger: Ledger, last: ServedSnapshot | undefined) {
  const heads = sortHeads(ledger.heads());
  // A deferred void rebuild: the state still shows voided entries, which no joiner would accept.
  // An unverified state is not vouched for by anyone, this node included: it casts no vote (a
  // light replica that kept voided entries of pruned history is unverified, §6.1.4, and a
  // quorum of such replicas would otherwise install their state on a joiner as verified).
  const st = ledger.stats({ digest: false });
  if (st.staleVoids > 0 || st.unverified) return undefined;
  const root = headsRoot(heads);
  if (last?.claim.headsRoot === root) return { last };
  // The ledger's cached canonical state (its digest needs it anyway), read with the heads.
  const { canonical, digest } = ledger.canonicalState();
  // Void feeds' canonical tops, read with the heads (void.ts).
  const tops = new Map(heads.map((h) => [h.author, ledger.voidTop(h.author)]));
  return { heads, root, canonical, digest, tops };
}

/** The ledger's (root, digest, entries) now: what re-verification compares with peers' claims. */
export function ledgerClaim(ledger: Ledger): JoinClaim {
  const heads = ledger.heads();
  return {
    headsRoot: headsRoot(heads),
    stateDigest: ledger.stats().stateDigest,
    entries: ledger.stats({ digest: false }).entries
  };
}

/**
 * The joiner's `install` for a Ledger with no history: bootstraps it from the verified snapshot
 * (Ledger.mergeLightSnapshot, which marks the state unverified first, unless the verdict verified
 * it: then it is sealed verified at once, with no second write of the state to clear the mark).
 * Throws LightSnapshotRefusedError for a ledger that already holds data.
 */
export async function installJoinSnapshot(ledger: Ledger, snap: VerifiedSnapshot, verdict: JoinVerdict): Promise<void> {
  await ledger.mergeLightSnapshot({
    state: snap.state,
    heads: snap.heads,
    headers: snap.headers,
    headsRoot: snap.headsRoot,
    exporter: verdict.checkpoint?.signer ?? `join-${verdict.by}`,
    // verifyJoinSnapshot loaded these exact bytes and computed this digest: not loaded again.
    verifiedDigest: snap.stateDigest,
    loaded: snap.loaded?.(),
    verified: verdict.verified
  });
}
