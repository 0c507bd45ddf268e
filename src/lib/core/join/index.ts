// Public surface of the verified join (PROTOCOL.md §13).
export * from './constants.js';
export * from './errors.js';
export type * from './messages.js';
export { encodeJoinMessage, decodeJoinMessage, JOIN_MSG } from './codec.js';
export { encodeJoinSnapshot, decodeJoinSnapshot, type JoinSnapshotBody } from './snapshot.js';
export { signVote, voteHolds, signCheckpoint, checkpointHolds, operatorKeys } from './signing.js';
export { tally, quorumOf, claimKey, type Vote, type Tally } from './tally.js';
export { verifyJoinSnapshot, type VerifiedSnapshot } from './verify.js';
export {
  Joiner,
  type JoinerOptions,
  type JoinStatus,
  type JoinVerdict,
  type JoinPhase,
  type JoinMarks
} from './joiner.js';
export { JoinServer, type JoinServerOptions, type JoinSource, type ServedSnapshot } from './server.js';
export { ledgerJoinSource, ledgerClaim, installJoinSnapshot, type LedgerSourceOptions } from './ledger-source.js';
export { Checkpointer, checkpointJson, type CheckpointerOptions, type CheckpointerStats } from './checkpointer.js';
