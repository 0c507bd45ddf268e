// Snapshot import. All or nothing for the file: (1) stream-decompress under a byte cap and check
// every line (parse.ts), (2) once the trailer proves the content intact, verify every entry's
// network, signature, size and payload, (3) plan how entries chain onto the store (chain.ts),
// (4) store the accepted ones with ONE ingest call. Any failure in 1-2 throws a typed error
// and writes nothing. Light snapshots write nothing at all: their state goes back to the caller.
import type { FeedHead, ForkEvidence, Genesis, HashedEntry } from '../types.js';
import type { IngestResult, LedgerStore } from '../storage.js';
import { LedgerError, CorruptSnapshotError, MalformedSnapshotError } from '../errors.js';
import { bytesEqual, toHex } from '../bytes.js';
import { verifyEntry, type VerifyOptions } from '../entry.js';
import { networkId as networkIdOf } from '../genesis.js';
import { SNAPSHOT_VERIFY_BATCH } from '../constants.js';
import { readLines } from './ndjson.js';
import { SnapshotParser } from './parse.js';
import { planImport, type RejectedEntry } from './chain.js';
import { resolveLimits, type SnapshotHeader, type SnapshotKind, type SnapshotLimits } from './format.js';

/** Where an import goes: our network and the store the entries are merged into. */
export interface SnapshotTarget {
  genesis: Genesis;
  /** Our network id; computed from `genesis` when absent (and checked against it when present). */
  networkId?: Uint8Array;
  store: Pick<LedgerStore, 'getHead' | 'getEntry' | 'ingest'>;
  /**
   * Takes the entries to add together with the file's void-feed evidence (signatures verified,
   * shape checked: collision.ts evidenceFlaw) in ONE all-or-nothing step that voids those feeds as
   * ingest does (Ledger.ingest with `evidence`). Only files with void heads need it; a target
   * without it refuses them (MalformedSnapshotError), since a bare store cannot void a feed.
   */
  ingestWithEvidence?: (batch: HashedEntry[], evidence: ForkEvidence[]) => Promise<IngestResult>;
}

export interface ImportOptions extends Partial<SnapshotLimits> {
  /** Light snapshots: recomputes the state digest, e.g. `(b) => digestOfState(b)` from the state module. */
  digestOf?: (state: Uint8Array) => string | Promise<string>;
  /** Passed to verifyEntry (payload validation). */
  verify?: VerifyOptions;
  /** Clock for ForkEvidence.detectedAt. */
  now?: () => number;
}

export interface ImportResult {
  kind: SnapshotKind;
  /** Entries newly stored. */
  added: number;
  /** Entries the store already had. */
  skipped: number;
  /** Intact, validly signed entries that do not chain onto the store; see `rejectedEntries`. */
  rejected: number;
  rejectedEntries: RejectedEntry[];
  /** Equivocations found against the store (stored entry vs snapshot entry); not stored by the import. */
  forks: ForkEvidence[];
  /** The heads the snapshot claims to cover. */
  heads: FeedHead[];
  header: SnapshotHeader;
  /** Light snapshots: the state to apply. `verified` when `digestOf` confirmed the digest. */
  state?: { bytes: Uint8Array; digest: string; verified: boolean };
}

export type SnapshotInput = Uint8Array | Blob | ReadableStream<Uint8Array>;

const SLICE_BYTES = 64 * 1024;

function inputStream(input: SnapshotInput): ReadableStream<Uint8Array> {
  if (input instanceof Uint8Array) {
    let off = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull(c) {
          if (off >= input.length) return c.close();
          c.enqueue(input.slice(off, off + SLICE_BYTES));
          off += SLICE_BYTES;
        }
      },
      { highWaterMark: 0 }
    );
  }
  if (typeof Blob !== 'undefined' && input instanceof Blob) return input.stream() as ReadableStream<Uint8Array>;
  return input as ReadableStream<Uint8Array>;
}

function gunzip(s: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  if (typeof DecompressionStream === 'undefined')
    throw new TypeError('DecompressionStream is not available on this platform');
  return s.pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
}

/** Verifies every entry against our network; the first failure rejects the whole file. */
async function verifyAll(
  entries: readonly HashedEntry[],
  id: Uint8Array,
  genesis: Genesis,
  opts: VerifyOptions
): Promise<void> {
  for (let i = 0; i < entries.length; i += SNAPSHOT_VERIFY_BATCH) {
    const batch = entries.slice(i, i + SNAPSHOT_VERIFY_BATCH);
    await Promise.all(
      batch.map(async (h) => {
        try {
          await verifyEntry(h.entry, id, genesis, opts);
        } catch (e) {
          const where = `entry ${toHex(h.entry.author).slice(0, 16)}…/${h.entry.seq}`;
          const why = e instanceof LedgerError ? `${e.name}: ${e.message}` : String(e);
          throw new MalformedSnapshotError(`${where} fails verification (${why})`, { cause: e });
        }
      })
    );
  }
}

export async function importSnapshot(
  input: SnapshotInput,
  target: SnapshotTarget,
  opts: ImportOptions = {}
): Promise<ImportResult> {
  const limits = resolveLimits(opts);
  const id = networkIdOf(target.genesis);
  if (target.networkId && !bytesEqual(target.networkId, id))
    throw new TypeError('target.networkId does not match target.genesis');
  const parser = new SnapshotParser(toHex(id), target.genesis, limits);
  await readLines(
    gunzip(inputStream(input)),
    { maxBytes: limits.maxDecompressedBytes, maxLineBytes: limits.maxLineBytes },
    (l) => parser.line(l)
  );
  const parsed = parser.finish();
  const { header } = parsed;
  const base = { kind: header.kind, heads: header.heads, header, rejectedEntries: [], forks: [] };

  if (parsed.state) {
    let verified = false;
    if (opts.digestOf) {
      const actual = await opts.digestOf(parsed.state.bytes);
      if (actual !== parsed.state.digest) throw new CorruptSnapshotError('state bytes do not match the stated digest');
      verified = true;
    }
    return { ...base, added: 0, skipped: 0, rejected: 0, state: { ...parsed.state, verified } };
  }

  const evidence = parsed.evidence;
  await verifyAll(
    [...parsed.entries, ...evidence.flatMap((ev) => [ev.a, ev.b])],
    id,
    target.genesis,
    opts.verify ?? {}
  );
  if (evidence.length > 0 && target.ingestWithEvidence === undefined)
    throw new MalformedSnapshotError('the snapshot voids feeds (fork evidence), which this target cannot record');
  const plan = await planImport(parsed.entries, target.store, opts.now ?? Date.now);
  const detectedAt = (opts.now ?? Date.now)();
  const res =
    evidence.length > 0
      ? await target.ingestWithEvidence!(
          plan.batch,
          evidence.map((ev) => ({ ...ev, detectedAt }))
        )
      : plan.batch.length > 0
        ? await target.store.ingest(plan.batch)
        : { added: 0, duplicates: 0, conflicts: [] };
  // Duplicates and conflicts here mean the store changed since planning (a concurrent write).
  const rejectedEntries = [
    ...plan.rejected,
    ...res.conflicts.map((h) => ({
      author: toHex(h.entry.author),
      seq: h.entry.seq,
      hash: toHex(h.hash),
      reason: 'fork' as const
    }))
  ];
  return {
    ...base,
    added: res.added,
    skipped: plan.skipped + res.duplicates,
    rejected: rejectedEntries.length,
    rejectedEntries,
    forks: plan.forks
  };
}
