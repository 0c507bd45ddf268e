// Adapts a Ledger to the JoinSource a JoinServer serves from: the signed entry at every head
// (only a node holding all of them can serve) and the canonical state, built once per heads root.
import * as Y from 'yjs';
import type { Ledger } from '../ledger.js';
import { encodeEntry } from '../entry.js';
import { toHex } from '../bytes.js';
import { headsRoot, sortHeads } from '../heads-digest.js';
import { canonicalState, stateDigest } from '../state/digest.js';
import { encodeJoinSnapshot } from './snapshot.js';
import type { Checkpoint, JoinClaim } from './messages.js';
import type { JoinSource, ServedSnapshot } from './server.js';
import type { VerifiedSnapshot } from './verify.js';
import type { JoinVerdict } from './joiner.js';

export interface LedgerSourceOptions {
  /** An operator's node: a checkpoint of the claim (e.g. signCheckpoint with its key); else none. */
  checkpoint?: (claim: JoinClaim) => Promise<Checkpoint | undefined>;
}

/** The join snapshot of `ledger` now; undefined while it lacks an entry at one of its heads (light replica). */
export function ledgerJoinSource(ledger: Ledger, opts: LedgerSourceOptions = {}): JoinSource {
  let last: ServedSnapshot | undefined;
  return {
    async snapshot() {
      // Heads and state read together, synchronously (as exportLedgerSnapshot does).
      const heads = sortHeads(ledger.heads());
      const state = ledger.encodeState();
      const root = headsRoot(heads);
      if (last?.claim.headsRoot === root) return last;
      const entries: Uint8Array[] = [];
      for (const h of heads) {
        const e = await ledger.store.getEntry(h.author, h.seq);
        if (e === undefined || toHex(e.hash) !== h.hash) return undefined;
        entries.push(encodeEntry(e.entry));
      }
      const doc = new Y.Doc({ gc: false });
      let canonical: Uint8Array;
      let digest: string;
      try {
        Y.applyUpdate(doc, state);
        canonical = canonicalState(doc);
        digest = stateDigest(doc);
      } finally {
        doc.destroy();
      }
      const claim = { headsRoot: root, stateDigest: digest, entries: heads.reduce((n, h) => n + h.seq, 0) };
      const body = encodeJoinSnapshot({ heads: entries, state: canonical });
      last = { claim, feeds: heads.length, body, checkpoint: (await opts.checkpoint?.(claim)) ?? null };
      return last;
    }
  };
}

/** The ledger's (root, digest, entries) now: what re-verification compares with peers' claims. */
export function ledgerClaim(ledger: Ledger): JoinClaim {
  const heads = ledger.heads();
  return {
    headsRoot: headsRoot(heads),
    stateDigest: ledger.stats().stateDigest,
    entries: heads.reduce((n, h) => n + h.seq, 0)
  };
}

/**
 * The joiner's `install` for a Ledger with no history: bootstraps it from the verified snapshot
 * (Ledger.mergeLightSnapshot, which marks the state unverified first), then clears the mark when
 * the verdict verified it. Throws LightSnapshotRefusedError for a ledger that already holds data.
 */
export async function installJoinSnapshot(ledger: Ledger, snap: VerifiedSnapshot, verdict: JoinVerdict): Promise<void> {
  await ledger.mergeLightSnapshot({
    state: snap.state,
    heads: snap.heads,
    headers: snap.headers,
    headsRoot: snap.headsRoot,
    exporter: verdict.checkpoint?.signer ?? `join-${verdict.by}`
  });
  if (verdict.verified) await ledger.markVerified();
}
