// Join wire messages (decoded form). Byte layout: codec.ts and PROTOCOL.md §13. Hex strings are
// lowercase; roots and digests are 32 bytes on the wire, 64 hex characters here.

/** Joiner → peer: "tell me what you hold", with a fresh nonce the vote must sign. */
export interface AskMsg {
  t: 'ask';
  version: number;
  /** Network id (SHA-256 of the genesis), 32 bytes. */
  network: Uint8Array;
  nonce: Uint8Array;
}

/** What a peer says it holds (and will serve): the values a vote and a checkpoint sign. */
export interface JoinClaim {
  /** headsRoot() of its feed heads (PROTOCOL.md §9.3), hex. */
  headsRoot: string;
  /** Digest of its application state (state/digest.ts), hex. */
  stateDigest: string;
  /** Entries the heads cover (sum of head seqs). */
  entries: number;
}

/** A checkpoint: the claim signed by `signer` (an operator key when it is to count) at `time`. */
export interface Checkpoint extends JoinClaim {
  /** ms since the epoch. */
  time: number;
  /** Ed25519 public key, hex. */
  signer: string;
  sig: Uint8Array;
}

/** Peer → joiner: its signed claim (the vote) and the size of the snapshot it serves. */
export interface ClaimMsg extends JoinClaim {
  t: 'claim';
  nonce: Uint8Array;
  /** Feeds (heads) in the snapshot. */
  feeds: number;
  /** Bytes of the snapshot body (PROTOCOL.md §13.4). */
  size: number;
  /** The voter's ledger identity key, hex: votes count once per key. */
  voter: string;
  /** Ed25519 signature of the vote (PROTOCOL.md §13.3). */
  sig: Uint8Array;
  /** Present when the peer serves a state an operator checkpointed (same root, digest, entries). */
  checkpoint: { time: number; signer: string; sig: Uint8Array } | null;
}

/** Joiner → peer: bytes `offset ..< offset + maxBytes` of the snapshot with heads root `root`. */
export interface GetMsg {
  t: 'get';
  rid: number;
  root: string;
  offset: number;
  maxBytes: number;
}

/** Peer → joiner: one piece of the snapshot body (`total` is its whole size). */
export interface ChunkMsg {
  t: 'chunk';
  rid: number;
  total: number;
  offset: number;
  /** Decoded: a view of the received message (decodeJoinMessage); copy what is kept. */
  bytes: Uint8Array;
}

/** A refusal; `rid` names the request it answers (0: the ask). */
export interface JoinErrorMsg {
  t: 'error';
  rid: number;
  code: string;
  message: string;
}

export type JoinMsg = AskMsg | ClaimMsg | GetMsg | ChunkMsg | JoinErrorMsg;
