// What the sync engine needs from a node's ledger: a deliberately narrow interface, so the
// ledger can change underneath (ledger-replica.ts adapts a Ledger to it).
import type { FeedHead } from '../types.js';
import type { CoverageException, SyncRole } from './messages.js';

/** The part of an ingest report sync looks at (Ledger's IngestReport fits it as is). */
export interface SyncIngestReport {
  /** Entries newly stored. */
  added: number;
  /** Fork evidence found. */
  forks: number;
  /** Valid new entries held until their predecessors arrive (Ledger's `pending`; default 0). */
  pending?: number;
  /** Valid entries not kept (Ledger's `dropped`: pending buffer full...; default 0). */
  dropped?: number;
  /** Refused entries (any shape: only the count is used; the driver may log them). */
  rejected: readonly unknown[];
}

export interface SyncReplica {
  /** SHA-256 of the genesis, 32 bytes; peers with another one are refused. */
  readonly networkId: Uint8Array;
  /** 'full' holds every entry from seq 1; 'light' holds what coverage() says. */
  readonly role: SyncRole;
  /** Current contiguous feed heads (one per author). Read once at start, then kept by onHeadsChanged. */
  heads(): FeedHead[];
  /**
   * The canonical top of `author`'s feed when it is void here (void.ts: the highest seq k below
   * its fork held, and that entry's hash); optional (without it, 0: a void feed's canonical part
   * is fetched from 1).
   */
  voidTop?(author: string): { seq: number; hash: string | undefined } | undefined;
  /** Entries held (for hello and status). */
  entryCount(): number;
  /** Authors held from a seq above 1 (light replicas, pruned history); [] for a full replica. */
  coverage(): CoverageException[];
  /**
   * Canonical bytes of `author`'s entries with from <= seq <= to, ascending, stopping before the
   * total would pass maxBytes (but always the first one if held). Missing seqs end the list. A
   * feed void here from s (PROTOCOL.md §11.5): at or past s, its fork pair alone; a list that
   * reaches s - 1 with to >= s may end with the fork pair appended (within maxBytes).
   */
  getRange(author: string, from: number, to: number, maxBytes: number): Promise<Uint8Array[]>;
  /** Verifies and stores a batch (one transaction); never trusts the bytes. */
  ingest(entries: Uint8Array[]): Promise<SyncIngestReport>;
  /**
   * Calls `cb` with heads that moved forward (or appeared). After the replica rebuilt its state
   * (heads may have moved back), it calls `cb(allHeads, true)` with the complete set. Returns an
   * unsubscribe function.
   */
  onHeadsChanged(cb: (heads: FeedHead[], complete?: boolean) => void): () => void;
}
