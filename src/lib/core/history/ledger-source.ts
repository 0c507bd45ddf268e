// Adapts a Ledger (its heads, store, kept headers and document) to the history's HistorySource.
import type { Ledger } from '../ledger.js';
import type { HistorySource } from './feed-history.js';
import { describeEntry } from './describe.js';

export function ledgerHistorySource(ledger: Ledger): HistorySource {
  return {
    networkId: ledger.networkId,
    genesis: ledger.genesis,
    head: (author) => ledger.head(author),
    voidFrom: (author) => ledger.voidFrom(author),
    stored: (author, from, to, limit) => ledger.store.getRange(author, from, to, limit),
    prunedHeader: (author, seq) => ledger.prunedHeader(author, seq),
    describe: (h, held) => describeEntry(ledger.doc, h, held)
  };
}
