// Snapshot file format: line types, limits and options. A snapshot is gzip of NDJSON:
// header, then entry lines (full, incremental) or state lines (light), then a trailer.
// Byte-level description: PROTOCOL.md §9.
import type { FeedHead, Genesis } from '../types.js';
import {
  MAX_STATE_BYTES,
  SNAPSHOT_MAX_DECOMPRESSED_BYTES,
  SNAPSHOT_MAX_ENTRIES,
  SNAPSHOT_MAX_LINE_BYTES
} from '../constants.js';

export type SnapshotKind = 'full' | 'light' | 'incremental';
export const SNAPSHOT_KINDS: readonly SnapshotKind[] = ['full', 'light', 'incremental'];

/** One author's position an incremental snapshot starts after; `hash` when the exporter knew it. */
export interface AfterHead {
  author: string;
  seq: number;
  hash?: string;
}

/** First line. */
/**
 * The causal header (lamport, Yjs clock) of the entry at a feed head. A void head's (void.ts) is
 * that of its canonical top entry k, with `top` = k and `topHash` = hex hash of entry k (64 zeros
 * when k = 0): what its void head hash binds (PROTOCOL.md §9.2).
 */
export interface HeadHeader {
  author: string;
  seq: number;
  lamport: number;
  clock: number;
  top?: number;
  topHash?: string;
}

/** `topHash` of a void head header whose canonical top is 0 (no entry). */
export const NO_TOP_HASH = '0'.repeat(64);

export interface SnapshotHeader {
  t: 'header';
  format: string;
  version: number;
  kind: SnapshotKind;
  /** Hex SHA-256 of the canonical genesis encoding. */
  networkId: string;
  /** The genesis as JSON, for people; `genesisBytes` is authoritative. */
  genesis: Genesis;
  /** Base64 of the canonical genesis encoding (PROTOCOL.md §2.1). */
  genesisBytes: string;
  /** Feed heads the snapshot covers, sorted by author. */
  heads: FeedHead[];
  /** headsRoot(heads), hex. */
  headsRoot: string;
  /** Digest of the application state at `heads`; required for light snapshots, else null if unknown. */
  stateDigest: string | null;
  /** ISO 8601 UTC time of the export. */
  created: string;
  /** Public key (hex) of the exporting node. */
  exporter: string;
  /** Incremental only: entries at or below these seqs are left out. Sorted by author. */
  after?: AfterHead[];
  /**
   * Light only: lamport and Yjs clock of each head entry, in the order of `heads`, so the node can
   * check and sign entries that build on heads whose entries it does not hold (PROTOCOL.md §5.3).
   */
  headers?: HeadHeader[];
}

/** One entry; `bytes` (base64 of the canonical encoding) is authoritative, the rest must match it. */
export interface EntryLine {
  t: 'entry';
  author: string;
  seq: number;
  hash: string;
  bytes: string;
}

/**
 * The evidence that voids a feed (PROTOCOL.md §6.1, §6.2), one per void head of the header: the
 * stored record of `author` at its fork seq `seq` (the void head's s). `a` is by `author`; `b` by
 * `author` at `seq` too (a fork) or by another key with the same clientID (a collision, seq 1).
 * Both are base64 of canonical entry bytes.
 */
export interface EvidenceLine {
  t: 'evidence';
  author: string;
  seq: number;
  a: string;
  b: string;
}

/** A piece of the encoded state (light); pieces are in order and `offset` says where each goes. */
export interface StateLine {
  t: 'state';
  digest: string;
  /** Total state bytes. */
  size: number;
  offset: number;
  bytes: string;
}

/** Last line: number of entry lines and the SHA-256 (hex) of every preceding line, newlines included. */
export interface EndLine {
  t: 'end';
  entries: number;
  sha256: string;
}

export interface SnapshotLimits {
  maxDecompressedBytes: number;
  maxLineBytes: number;
  maxEntries: number;
  maxStateBytes: number;
}

export const DEFAULT_SNAPSHOT_LIMITS: Readonly<SnapshotLimits> = {
  maxDecompressedBytes: SNAPSHOT_MAX_DECOMPRESSED_BYTES,
  maxLineBytes: SNAPSHOT_MAX_LINE_BYTES,
  maxEntries: SNAPSHOT_MAX_ENTRIES,
  maxStateBytes: MAX_STATE_BYTES
};

export function resolveLimits(opts: Partial<SnapshotLimits> = {}): SnapshotLimits {
  const pick = (v: number | undefined, d: number): number => (v !== undefined && v > 0 ? v : d);
  const d = DEFAULT_SNAPSHOT_LIMITS;
  return {
    maxDecompressedBytes: pick(opts.maxDecompressedBytes, d.maxDecompressedBytes),
    maxLineBytes: pick(opts.maxLineBytes, d.maxLineBytes),
    maxEntries: pick(opts.maxEntries, d.maxEntries),
    maxStateBytes: pick(opts.maxStateBytes, d.maxStateBytes)
  };
}

/** Download name from SPEC §7: tabula-<first 8 hex of the network id>-<UTC time>.snapshot.gz */
export function snapshotFileName(networkIdHex: string, at: Date = new Date()): string {
  const utc = at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `tabula-${networkIdHex.slice(0, 8)}-${utc}.snapshot.gz`;
}
