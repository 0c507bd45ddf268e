// Adapts a Ledger (and its store) to the SyncReplica interface the sync engine uses.
import type { Ledger } from '../ledger.js';
import type { FeedHead } from '../types.js';
import { encodeEntry } from '../entry.js';
import { toHex } from '../bytes.js';
import type { SyncReplica } from './replica.js';
import { SYNC_MAX_COVERAGE, SYNC_MAX_RANGE_ENTRIES } from './constants.js';

/** A replica backed by `ledger`: full (every entry from seq 1) or light (what its coverage lists). */
export function ledgerReplica(ledger: Ledger): SyncReplica {
  return {
    networkId: ledger.networkId,
    role: ledger.role,
    heads: () => ledger.heads(),
    voidTop: (author) => ledger.voidTop(author),
    entryCount: () => ledger.stats({ digest: false }).entries,
    coverage: () => ledger.coverage(SYNC_MAX_COVERAGE),
    async getRange(author, from, to, maxBytes) {
      // A void feed (void.ts) is served up to its fork, as far as its canonical part is held here;
      // asked for more, or from a seq not held below the fork, the answer is the fork evidence
      // itself (both variants), which is what voids it on the asking node too (PROTOCOL.md §11.5).
      // A part that reaches the fork, asked up to it or beyond, has the evidence appended when
      // both fit the byte cap and the entry count: the asking node needs no second round trip.
      const s = ledger.voidFrom(author);
      const record = () => ledger.forks().find((f) => f.author === author && f.seq === s);
      const evidence = (): Uint8Array[] => {
        const ev = record();
        return ev === undefined ? [] : [encodeEntry(ev.a.entry), encodeEntry(ev.b.entry)];
      };
      if (s !== undefined && from >= s) return evidence();
      const asked = to;
      if (s !== undefined) to = Math.min(to, s - 1);
      const limit = Math.min(to - from + 1, SYNC_MAX_RANGE_ENTRIES);
      const stored = await ledger.store.getRange(author, from, to, limit);
      const out: Uint8Array[] = [];
      let bytes = 0;
      let expect = from;
      for (const h of stored) {
        if (h.entry.seq !== expect) break; // a hole (pruned or not stored): stop at it
        const b = encodeEntry(h.entry);
        if (out.length > 0 && bytes + b.length > maxBytes) break;
        out.push(b);
        bytes += b.length;
        expect++;
      }
      if (s === undefined) return out;
      if (out.length === 0) return evidence();
      if (expect !== s || asked < s || out.length + 2 > SYNC_MAX_RANGE_ENTRIES) return out;
      // Only a fork pair (a collision's evidence names another key, and sits at s = 1).
      const ev = record();
      if (ev === undefined || toHex(ev.b.entry.author) !== author) return out;
      const pair = [encodeEntry(ev.a.entry), encodeEntry(ev.b.entry)];
      return bytes + pair[0].length + pair[1].length <= maxBytes ? [...out, ...pair] : out;
    },
    ingest: (entries) => ledger.ingest(entries),
    onHeadsChanged(cb) {
      // The head as the ledger reports it: an entry of a void feed's canonical part moves its
      // void head's hash (void.ts), and fork evidence turns a head into a void head.
      const emit = (author: string): void => {
        const head: FeedHead | undefined = ledger.head(author);
        if (head !== undefined) cb([head]);
      };
      const offAppend = ledger.onAppend((h) => emit(toHex(h.entry.author)));
      const offFork = ledger.onFork((ev) => {
        emit(ev.author);
        const other = toHex(ev.b.entry.author);
        if (other !== ev.author) emit(other);
      });
      const offReset = ledger.onReset(() => cb(ledger.heads(), true));
      return () => {
        offAppend();
        offFork();
        offReset();
      };
    }
  };
}
