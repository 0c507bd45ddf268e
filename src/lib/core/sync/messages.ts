// Sync wire messages (decoded form). Byte layout: codec.ts and PROTOCOL.md §11.3.
// Hex strings are lowercase; a "path" is a hex prefix of an author key (0..16 nibbles).

export type SyncRole = 'full' | 'light';

/**
 * A coverage exception: the sender holds `author`'s entries from `from` up to its head.
 * Authors not listed are held from seq 1 (a light replica lists the feeds it pruned).
 */
export interface CoverageException {
  author: string;
  from: number;
}

/** First message of a session, sent by both sides at once. */
export interface HelloMsg {
  t: 'hello';
  version: number;
  /** Network id (SHA-256 of the genesis), 32 bytes. */
  network: Uint8Array;
  role: SyncRole;
  /** Stable Merkle root of the sender's heads, 32 bytes. */
  root: Uint8Array;
  /** Feeds (authors) the sender holds. */
  feeds: number;
  /** Entries the sender holds. */
  entries: number;
  coverage: CoverageException[];
  /** Fresh random salt of this session (16 bytes); keys the fingerprints of exchanges the peer starts. */
  salt: Uint8Array;
}

/** One head in a compare: seq 0 means "I hold nothing of this author" (fp is then all zero bytes). */
export interface WireItem {
  author: string;
  seq: number;
  /** Salted fingerprint of the head record (author, seq, hash), SYNC_HEAD_FP_BYTES (4) bytes. */
  fp: Uint8Array;
}

/**
 * One head in a compact listing (`items`): the author's tag (SYNC_TAG_BYTES = 2 author bytes
 * after the path's bytes, big-endian), its seq (>= 1) and the salted fingerprint of its record.
 */
export interface TagItem {
  tag: number;
  seq: number;
  fp: Uint8Array;
}

/**
 * One node of a compare step:
 * - children: my 16 child fingerprints at `path` (undefined = empty child); reply for differing ones.
 * - items: every head I hold under `path` (a small subtree), compactly; reply with an `answer`.
 * - answer: to your `items` at `path`: which of your items I hold no identical head for
 *   (`unmatched`, one flag per item, in order), and my heads there that you do not hold
 *   identically (full); you reply with a `final` only if I could not name some of your heads.
 * - final: my heads under `path` that differ from yours (seq 0 = I lack your author); no reply.
 */
export type CompareNode =
  | { k: 'children'; path: string; fps: (Uint8Array | undefined)[] }
  | { k: 'items'; path: string; items: TagItem[] }
  | { k: 'answer'; path: string; unmatched: boolean[]; items: WireItem[] }
  | { k: 'final'; path: string; items: WireItem[] };

/**
 * Starts a Merkle exchange (initiator, step 0). Fingerprints are keyed with
 * exchangeSalt(salt, responder's hello salt). `nodes` may already open the root (eager begin).
 */
export interface BeginMsg {
  t: 'begin';
  xid: number;
  salt: Uint8Array;
  root: Uint8Array;
  nodes: CompareNode[];
}

/** Answers a begin (responder, step 1). `equal`: roots match, the exchange is over. */
export interface ReplyMsg {
  t: 'reply';
  xid: number;
  equal: boolean;
  nodes: CompareNode[];
  end: boolean;
}

/** A compare step (step 2, 3, ...: the initiator sends even steps). */
export interface CompareMsg {
  t: 'compare';
  xid: number;
  step: number;
  nodes: CompareNode[];
  /** The sender has nothing more to send in this exchange. */
  end: boolean;
}

/** Asks for `author`'s entries with from <= seq <= to, at most `maxBytes` (at least one entry is sent). */
export interface GetMsg {
  t: 'get';
  rid: number;
  author: string;
  from: number;
  to: number;
  maxBytes: number;
}

/** Answers a get: canonical entry bytes, ascending seq (possibly fewer than asked, or none). */
export interface EntriesMsg {
  t: 'entries';
  rid: number;
  entries: Uint8Array[];
}

/** A refusal. `rid`/`xid` name the request or exchange it answers (0: the session). */
export interface ErrorMsg {
  t: 'error';
  rid: number;
  xid: number;
  code: string;
  message: string;
}

export type SyncMsg = HelloMsg | BeginMsg | ReplyMsg | CompareMsg | GetMsg | EntriesMsg | ErrorMsg;
