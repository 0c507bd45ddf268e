// Snapshots of a running ledger: export what it holds, import a file through its verified ingest
// path so feeds, state and subscribers stay in step with the store.
import * as Y from 'yjs';
import type { Ledger } from './ledger.js';
import { exportSnapshot, importSnapshot, type SnapshotInput, type SnapshotKind } from './snapshot/index.js';
import type { AfterHead } from './snapshot/format.js';
import type { FeedHead } from './types.js';
import { stateDigest } from './state/digest.js';

export interface LedgerImportReport {
  kind: SnapshotKind;
  /** Entries added (full/incremental), or entries newly covered by the merged state (light). */
  added: number;
  skipped: number;
  rejected: number;
}

/** The snapshot of the ledger as it is now: heads and state digest are captured together. */
export function exportLedgerSnapshot(
  ledger: Ledger,
  kind: SnapshotKind = 'full',
  after?: readonly AfterHead[]
): ReadableStream<Uint8Array> {
  const heads = ledger.heads();
  const digest = ledger.stats().stateDigest;
  return exportSnapshot(
    {
      genesis: ledger.genesis,
      store: ledger.store,
      exporter: ledger.author,
      heads,
      state: kind === 'light' ? { bytes: ledger.encodeState(), digest } : { digest }
    },
    { kind, after }
  );
}

/** Verifies the whole file first (nothing is written if any of it fails), then merges it. */
export async function importLedgerSnapshot(ledger: Ledger, input: SnapshotInput): Promise<LedgerImportReport> {
  const store = ledger.store;
  const result = await importSnapshot(
    input,
    {
      genesis: ledger.genesis,
      networkId: ledger.networkId,
      store: {
        getHead: (a) => store.getHead(a),
        getEntry: (a, s) => store.getEntry(a, s),
        // Through the ledger, so the entries reach the feeds and the Yjs state too (one store batch).
        ingest: async (batch) => {
          const r = await ledger.ingest(batch);
          return { added: r.added, duplicates: r.duplicates, conflicts: [] };
        }
      }
    },
    { digestOf: (bytes) => digestOfState(bytes) }
  );
  // Equivocations the file proves against our store: the ledger records the evidence.
  if (result.forks.length > 0) await ledger.ingest(result.forks.map((f) => f.b));
  if (result.kind !== 'light' || result.state === undefined) {
    return { kind: result.kind, added: result.added, skipped: result.skipped, rejected: result.rejected };
  }
  return mergeLightState(ledger, result.state.bytes, result.heads);
}

function digestOfState(bytes: Uint8Array): string {
  const doc = new Y.Doc({ gc: false });
  try {
    Y.applyUpdate(doc, bytes);
    return stateDigest(doc);
  } finally {
    doc.destroy();
  }
}

/**
 * A light snapshot carries state and heads, not entries: merge the state into a compaction that
 * covers the union of heads, then rebuild. Yjs merges are idempotent, so re-importing adds nothing.
 */
async function mergeLightState(ledger: Ledger, state: Uint8Array, heads: FeedHead[]): Promise<LedgerImportReport> {
  const ours = new Map(ledger.heads().map((h) => [h.author, h]));
  let added = 0;
  let skipped = 0;
  const union = new Map(ours);
  for (const h of heads) {
    const mine = ours.get(h.author);
    if (mine !== undefined && mine.seq >= h.seq) {
      skipped += h.seq;
      continue;
    }
    // Our own feed is only ever extended by us: a snapshot cannot move our head.
    if (h.author === ledger.author) {
      skipped += h.seq;
      continue;
    }
    added += h.seq - (mine?.seq ?? 0);
    skipped += mine?.seq ?? 0;
    union.set(h.author, h);
  }
  if (added > 0) {
    const merged = Y.mergeUpdates([ledger.encodeState(), state]);
    await ledger.store.saveCompaction({ state: merged, heads: [...union.values()], at: Date.now() });
    await ledger.reload();
  }
  return { kind: 'light', added, skipped, rejected: 0 };
}
