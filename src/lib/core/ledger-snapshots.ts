// Snapshots of a running ledger: export what it holds, import a file through its verified ingest
// path so feeds, state and subscribers stay in step with the store.
import * as Y from 'yjs';
import type { Ledger } from './ledger.js';
import { exportSnapshot, importSnapshot, type SnapshotInput, type SnapshotKind } from './snapshot/index.js';
import type { AfterHead } from './snapshot/format.js';
import { stateDigest } from './state/digest.js';
import { newStateDoc } from './state/yjs-doc.js';
import { CausalityError, MalformedSnapshotError } from './errors.js';
import type { FeedHead, ForkEvidence, HashedEntry } from './types.js';
import { isVoidSeq } from './void.js';
import type { IngestResult } from './storage.js';

export interface LedgerImportReport {
  kind: SnapshotKind;
  /** Entries added (full/incremental), or entries covered by the bootstrapped state (light). */
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
  // The canonical state (integrated structs only, what the digest covers): an importer refuses
  // structs left pending, and stores the state canonically.
  const { canonical, digest } = ledger.canonicalState();
  return exportSnapshot(
    {
      genesis: ledger.genesis,
      store: ledger.store,
      exporter: ledger.author,
      heads,
      state: kind === 'light' ? { bytes: canonical, digest } : { digest },
      headers: () => ledger.headHeaders(heads),
      forks: () => ledger.forks(),
      voidTop: (author) => ledger.voidTop(author)
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
        getHead: (a) => chainHead(ledger, a),
        getEntry: (a, s) => store.getEntry(a, s),
        // Through the ledger, so the entries reach the feeds and the Yjs state too (one store batch).
        // All or nothing: an entry the ledger refuses (e.g. by the causal rules), or one left
        // waiting for entries neither the file nor the store has, refuses the whole file.
        ingest: (batch) => atomicIngest(ledger, batch)
      },
      // A file's void feeds: recorded with its entries in the same all-or-nothing step.
      ingestWithEvidence: (batch, evidence) => atomicIngest(ledger, batch, evidence)
    },
    { digestOf: (bytes) => digestOfState(bytes) }
  );
  // Equivocations the file proves against our store: the ledger records the evidence.
  if (result.forks.length > 0) await ledger.ingest(result.forks.map((f) => f.b));
  if (result.kind !== 'light' || result.state === undefined) {
    return { kind: result.kind, added: result.added, skipped: result.skipped, rejected: result.rejected };
  }
  // Unsigned state and heads: only an empty ledger takes them (else LightSnapshotRefusedError),
  // inside the ledger's queue, and the ledger is then marked unverified.
  const { headsRoot, exporter } = result.header;
  const added = await ledger.mergeLightSnapshot({
    state: result.state.bytes,
    heads: result.heads,
    headers: result.header.headers ?? [],
    headsRoot,
    exporter
  });
  return { kind: 'light', added, skipped: 0, rejected: 0 };
}

/**
 * The head a file's entries of `author` are planned against: the stored head; for a void head a
 * light snapshot or a join bootstrapped (void.ts), its canonical top k (none when k = 0), so the
 * file's canonical entries k + 1 .. s - 1 are taken (PROTOCOL.md §6.1.2) instead of skipped as
 * pruned history.
 */
async function chainHead(ledger: Ledger, author: string): Promise<FeedHead | undefined> {
  const head = await ledger.store.getHead(author);
  if (head === undefined || !isVoidSeq(head.seq)) return head;
  const top = ledger.chainVoidTop(author);
  return top === undefined || top.seq === 0 || top.hash === undefined
    ? undefined
    : { author, seq: top.seq, hash: top.hash };
}

async function atomicIngest(
  ledger: Ledger,
  batch: readonly HashedEntry[],
  evidence?: readonly ForkEvidence[]
): Promise<IngestResult> {
  try {
    const r = await ledger.ingest(batch, { atomic: true, ...(evidence !== undefined ? { evidence } : {}) });
    return { added: r.added, duplicates: r.duplicates, conflicts: [] };
  } catch (e) {
    if (e instanceof CausalityError) throw new MalformedSnapshotError(e.message, { cause: e });
    throw e;
  }
}

function digestOfState(bytes: Uint8Array): string {
  const doc = newStateDoc();
  try {
    Y.applyUpdate(doc, bytes);
    return stateDigest(doc);
  } finally {
    doc.destroy();
  }
}
