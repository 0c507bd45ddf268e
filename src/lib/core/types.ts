// Shared data types of the ledger core. Pure: no DOM, Dexie or libp2p.

/** The network's founding document; SHA-256 of its canonical encoding is the network id. */
export interface Genesis {
  /** Format version of the genesis document itself. */
  v: 1;
  name: string;
  /** Creation time, ms since the Unix epoch. */
  createdAt: number;
  /** Largest accepted encoded entry, in bytes. */
  maxEntryBytes: number;
  /** Operator Ed25519 public keys, lowercase hex, sorted. */
  operators: string[];
}

/** One signed change in an author's feed (a hash chain per author). */
export interface Entry {
  /**
   * First 8 bytes of the network id. Lets a verifier reject another network's entry as
   * WrongNetworkError before (and distinct from) a signature failure. See PROTOCOL.md.
   */
  network: Uint8Array;
  /** Author's Ed25519 public key, 32 bytes. */
  author: Uint8Array;
  /** 1-based position in the author's feed. */
  seq: number;
  /** SHA-256 of the author's previous entry; 32 zero bytes when seq === 1. */
  prev: Uint8Array;
  /**
   * Lamport clock: exactly 1 + the largest lamport of the author's previous entry and of every
   * dependency (PROTOCOL.md §5.3), so it grows by at most one per entry across the network.
   */
  lamport: number;
  /** Author's wall clock, ms since the Unix epoch (at most MAX_ENTRY_TIME). */
  time: number;
  /**
   * The author's Yjs clock after this entry: the previous entry's clock plus the clock units of
   * this entry's structs (a delete-only entry keeps it). Lets a node check, from one entry
   * header, which of an author's items existed at a given seq.
   */
  clock: number;
  /**
   * Causal dependencies: for every other author whose items the payload references (origins,
   * parents, deletes), the seq of that author's feed the entry builds on. Sorted by author,
   * no duplicates, never the entry's own author, at most MAX_ENTRY_DEPS.
   */
  deps: EntryDep[];
  /** A Yjs update. */
  payload: Uint8Array;
  /** Ed25519 signature over the signing bytes (canonical encoding of the rest plus the network id). */
  sig: Uint8Array;
}

/** One causal dependency of an entry: `author`'s feed up to `seq` was present when it was signed. */
export interface EntryDep {
  /** Author public key, 64 lowercase hex characters. */
  author: string;
  seq: number;
}

/** An entry with its hash (SHA-256 of its canonical encoding), as stored and served. */
export interface HashedEntry {
  entry: Entry;
  hash: Uint8Array;
}

/** The tip of one author's feed. Author and hash are lowercase hex. */
export interface FeedHead {
  author: string;
  seq: number;
  hash: string;
}

/** A node's persisted identity: raw Ed25519 key material. */
export interface IdentityKeys {
  /** 32-byte Ed25519 private seed. */
  seed: Uint8Array;
  /** 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

/** Two different valid entries with the same (author, seq): proof of equivocation. */
export interface ForkEvidence {
  author: string;
  seq: number;
  a: HashedEntry;
  b: HashedEntry;
  detectedAt: number;
}

/** A concurrent overwrite of one record key, as shown to users. */
export interface Conflict {
  key: string;
  /** Author (hex) of the write that Yjs kept. */
  winner: string;
  /** Authors (hex) of the concurrent writes that lost. */
  losers: string[];
  /** Every author involved, winner first. */
  authors: string[];
  /** Author wall-clock times of the writes, in the order of `authors`. */
  times: number[];
  /**
   * What each write left as the key's value, in the order of `authors` (the winner's first): the
   * value, or null with `deleted` true for a delete. The losers' values are what was overwritten.
   */
  values: unknown[];
  /** True where that write was a delete, in the order of `authors`. */
  deleted: boolean[];
}

/**
 * A sequential overwrite or delete of ANOTHER author's record: who removed what, and when. (An
 * author replacing its own value is not listed; concurrent writes are conflicts instead.)
 */
export interface Removal {
  key: string;
  /** Author (hex) of the write that replaced or deleted the value, and its time. */
  by: string;
  time: number;
  /** True when the write was a delete. */
  deleted: boolean;
  /** Author (hex) of the value that was removed, its time and the value itself. */
  author: string;
  authorTime: number;
  value: unknown;
}
