// Feed history: pages of a feed, pruned entries fetched back from peers and verified.
export {
  FeedHistory,
  type FeedHistoryOptions,
  type HistoryPage,
  type HistorySource,
  type RangeFetch
} from './feed-history.js';
export { describeEntry, type HistoryItem, type HistoryWrite } from './describe.js';
export { ledgerHistorySource } from './ledger-source.js';
export { HistoryTooFarError, HistoryUnavailableError } from './errors.js';
