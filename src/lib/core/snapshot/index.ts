// Public surface of the snapshot codec (PROTOCOL.md §9).
export * from './format.js';
export {
  exportSnapshot,
  snapshotLines,
  collectBytes,
  collectBlob,
  type SnapshotSource,
  type ExportOptions
} from './export.js';
export {
  importSnapshot,
  type SnapshotTarget,
  type ImportOptions,
  type ImportResult,
  type SnapshotInput
} from './import.js';
export type { RejectedEntry, RejectReason } from './chain.js';
export { headsRoot } from '../heads-digest.js';
