// Typed errors of the ledger core. Match them by `name` (stable across bundles and workers)
// or by `code` (stable, short, safe to put in metrics and wire messages).

/** Base class: every core error carries a stable machine-readable code. */
export class LedgerError extends Error {
  readonly code: string;
  constructor(name: string, code: string, message: string) {
    super(message);
    this.name = name;
    this.code = code;
  }
}

/** The entry was made for another network (its network tag differs from ours). */
export class WrongNetworkError extends LedgerError {
  constructor(message = 'entry belongs to another network') {
    super('WrongNetworkError', 'wrong-network', message);
  }
}

/** The Ed25519 signature does not verify for the entry's author and our network id. */
export class BadSignatureError extends LedgerError {
  constructor(message = 'entry signature does not verify') {
    super('BadSignatureError', 'bad-signature', message);
  }
}

/** `prev` does not match the hash of the stored predecessor in the author's feed. */
export class BrokenChainError extends LedgerError {
  constructor(message = 'entry does not link to its predecessor') {
    super('BrokenChainError', 'broken-chain', message);
  }
}

/** The encoded entry is larger than the genesis limit. */
export class OversizedEntryError extends LedgerError {
  constructor(message = 'entry exceeds the maximum entry size') {
    super('OversizedEntryError', 'oversized-entry', message);
  }
}

/** The bytes are not a canonical entry encoding (lengths, integers, trailing bytes...). */
export class MalformedEntryError extends LedgerError {
  constructor(message = 'malformed entry') {
    super('MalformedEntryError', 'malformed-entry', message);
  }
}

/** The (validly signed) payload is not a decodable Yjs update. */
export class MalformedPayloadError extends LedgerError {
  constructor(message = 'payload is not a valid Yjs update') {
    super('MalformedPayloadError', 'malformed-payload', message);
  }
}

/**
 * A validly signed entry that breaks the causal rules (PROTOCOL.md §5.3): its lamport or Yjs
 * clock is not the one its predecessor and dependencies imply, or its payload references or
 * deletes items its author could not have seen (outside its declared dependencies).
 */
export class CausalityError extends LedgerError {
  constructor(message = 'entry breaks the causal rules') {
    super('CausalityError', 'causality', message);
  }
}

/** An export whose header would claim entries the store does not hold (pruned or lost): nothing is left out silently. */
export class IncompleteExportError extends LedgerError {
  constructor(message = 'the store lacks entries the snapshot would claim') {
    super('IncompleteExportError', 'incomplete-export', message);
  }
}

/** A genesis document that cannot be encoded, decoded or accepted. */
export class InvalidGenesisError extends LedgerError {
  constructor(message = 'invalid genesis') {
    super('InvalidGenesisError', 'invalid-genesis', message);
  }
}

/** A hex string that is not an even-length run of hex digits. */
export class InvalidHexError extends LedgerError {
  constructor(message = 'invalid hex string') {
    super('InvalidHexError', 'invalid-hex', message);
  }
}

/** Key material of the wrong length or shape. */
export class InvalidKeyError extends LedgerError {
  constructor(message = 'invalid key') {
    super('InvalidKeyError', 'invalid-key', message);
  }
}

/** The browser refused a write for lack of storage space; the transaction left nothing behind. */
export class StorageQuotaError extends LedgerError {
  constructor(message = 'storage quota exceeded', options?: { cause?: unknown }) {
    super('StorageQuotaError', 'storage-quota', message);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/**
 * A store operation did not settle within its time bound (e.g. a hung IndexedDB transaction).
 * Its transaction was aborted. `rolledBack` true: nothing of it was stored. False: it had
 * already begun committing, so its writes may still land later (a reader then sees them).
 */
export class StorageTimeoutError extends LedgerError {
  readonly rolledBack: boolean;
  constructor(message = 'storage operation timed out', options?: { rolledBack?: boolean; cause?: unknown }) {
    super('StorageTimeoutError', 'storage-timeout', message);
    this.rolledBack = options?.rolledBack ?? false;
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** A local append does not extend the stored feed head (wrong seq or prev): nothing was written. */
export class FeedHeadMismatchError extends LedgerError {
  constructor(message = 'entry does not extend the stored feed head') {
    super('FeedHeadMismatchError', 'feed-head-mismatch', message);
  }
}

/**
 * A local write found the store's own feed head other than the one the node holds: the store
 * changed under the running node (deleted, e.g. by the browser's "Clear site data", or replaced).
 * Nothing was written; the node must be restarted (the page reloaded).
 */
export class StoreChangedError extends LedgerError {
  constructor(message = "this device's store changed under the running node; nothing was written") {
    super('StoreChangedError', 'store-changed', message);
  }
}

/**
 * The own copy (own-copy.ts: this device's identity and own entries kept outside the store)
 * refused a write: entries that do not continue it, of another author, or a short write (no
 * space). Nothing of that call is kept in the copy; the store is not affected.
 */
export class OwnCopyError extends LedgerError {
  constructor(message = 'the own copy refused the write') {
    super('OwnCopyError', 'own-copy', message);
  }
}

/**
 * A local write was refused: this device signed its own feed up to a seq its store does not hold
 * yet (the own copy restored entries that wait for entries of others, or older own ones, from
 * peers). Signing now would sign one of those seqs again and fork the feed; writes resume once
 * sync has brought what they wait for. Nothing was written.
 */
export class OwnFeedBehindError extends LedgerError {
  constructor(message = "this device's own feed is not fully restored yet; nothing was written") {
    super('OwnFeedBehindError', 'own-feed-behind', message);
  }
}

/** The store was closed (or destroyed); reopen it to use it again. */
export class StorageClosedError extends LedgerError {
  constructor(message = 'storage is closed') {
    super('StorageClosedError', 'storage-closed', message);
  }
}

/** A payload carries Yjs structs under a clientID that is not its author's: a forged write. */
export class ForeignClientError extends LedgerError {
  constructor(message = 'payload contains structs of another client') {
    super('ForeignClientError', 'foreign-client', message);
  }
}

/** Two different authors derive the same Yjs clientID; the later one is refused. */
export class ClientIdCollisionError extends LedgerError {
  constructor(message = 'clientID already used by another author') {
    super('ClientIdCollisionError', 'client-id-collision', message);
  }
}

/** A state operation that is not possible in the current state (read-only, nested, type clash). */
export class StateUsageError extends LedgerError {
  constructor(message = 'invalid state operation') {
    super('StateUsageError', 'state-usage', message);
  }
}

/** A write tag (Ledger.put's idempotency key) that is not a string of 1 to MAX_WRITE_TAG_LENGTH units. */
export class InvalidWriteTagError extends LedgerError {
  constructor(message = 'invalid write tag') {
    super('InvalidWriteTagError', 'invalid-write-tag', message);
  }
}

/** A record key that is empty, too long or not well-formed Unicode. */
export class InvalidRecordKeyError extends LedgerError {
  constructor(message = 'invalid record key') {
    super('InvalidRecordKeyError', 'invalid-record-key', message);
  }
}

/** A record value that is not plain JSON or is too large or too deep. */
export class InvalidRecordValueError extends LedgerError {
  constructor(message = 'invalid record value') {
    super('InvalidRecordValueError', 'invalid-record-value', message);
  }
}

/** A set of feed heads that cannot be digested: bad hex, bad seq or an author listed twice. */
export class InvalidHeadsError extends LedgerError {
  constructor(message = 'invalid feed heads') {
    super('InvalidHeadsError', 'invalid-heads', message);
  }
}

/** A snapshot made for another network (its genesis gives a different network id). Nothing was imported. */
export class ForeignSnapshotError extends LedgerError {
  constructor(message = 'snapshot belongs to another network') {
    super('ForeignSnapshotError', 'foreign-snapshot', message);
  }
}

/** Which snapshot bound was exceeded. */
export type SnapshotLimit = 'decompressed-bytes' | 'line-bytes' | 'entries' | 'state-bytes';

/** A snapshot exceeded a size bound (e.g. a gzip bomb). Reading stopped there; nothing was imported. */
export class SnapshotTooLargeError extends LedgerError {
  readonly limit: SnapshotLimit;
  constructor(limit: SnapshotLimit, message = `snapshot exceeds the ${limit} limit`) {
    super('SnapshotTooLargeError', 'snapshot-too-large', message);
    this.limit = limit;
  }
}

/**
 * A snapshot whose bytes are damaged: not gzip, truncated, trailer missing or not matching,
 * data after the trailer, or state bytes not matching their digest. Nothing was imported.
 */
export class CorruptSnapshotError extends LedgerError {
  constructor(message = 'snapshot is corrupt', options?: { cause?: unknown }) {
    super('CorruptSnapshotError', 'corrupt-snapshot', message);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/**
 * A snapshot line that does not follow the format (JSON, fields, order, cross-checks), or an
 * entry in it that fails verification (signature, network tag, size, payload). Nothing was imported.
 */
export class MalformedSnapshotError extends LedgerError {
  constructor(message = 'malformed snapshot', options?: { cause?: unknown }) {
    super('MalformedSnapshotError', 'malformed-snapshot', message);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/**
 * The store holds something that fails verification on open or reload: a stored entry whose
 * hash, signature, network or chain link is wrong, a feed with a gap, a head that does not match
 * its entry, or a compacted state that does not decode. Nothing was loaded.
 */
export class CorruptStoreError extends LedgerError {
  /** Author (hex) and seq of the offending entry, when one is to blame. */
  readonly author?: string;
  readonly seq?: number;
  constructor(message = 'store is corrupt', options?: { author?: string; seq?: number; cause?: unknown }) {
    super('CorruptStoreError', 'corrupt-store', message);
    if (options?.author !== undefined) this.author = options.author;
    if (options?.seq !== undefined) this.seq = options.seq;
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** The store was created by another identity than the keys the ledger was opened with. */
export class IdentityMismatchError extends LedgerError {
  constructor(message = 'store belongs to another identity') {
    super('IdentityMismatchError', 'identity-mismatch', message);
  }
}

/**
 * A light snapshot (state and heads, no signed entries) was refused: it can only bootstrap a
 * ledger with no history at all, and never carry this node's own writes. Import a full snapshot
 * instead: every entry in it is verified. Nothing was written.
 */
export class LightSnapshotRefusedError extends LedgerError {
  constructor(
    message = 'a light snapshot can only be imported into an empty ledger; import a full snapshot, which is verified entry by entry'
  ) {
    super('LightSnapshotRefusedError', 'light-snapshot-refused', message);
  }
}

/** A genesis signature is missing, made by a key that is not an operator, or does not verify. */
export class GenesisSignatureError extends LedgerError {
  constructor(message = 'genesis signature does not verify') {
    super('GenesisSignatureError', 'bad-genesis-signature', message);
  }
}

/** The genesis we were given is not the network this node was opened for (its id differs). */
export class GenesisMismatchError extends LedgerError {
  constructor(message = 'genesis belongs to another network') {
    super('GenesisMismatchError', 'genesis-mismatch', message);
  }
}

/** A network id given by a person or a build (URL `?network=`, env) that is not 64 hex digits. */
export class InvalidNetworkIdError extends LedgerError {
  constructor(message = 'network id must be 64 hex digits') {
    super('InvalidNetworkIdError', 'invalid-network-id', message);
  }
}
