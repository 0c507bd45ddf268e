// The relay's check on the entries topic: the same stateless checks every browser runs (size,
// encoding, network, signature, payload), then the chain link (core/chain-links.ts). A validly
// signed entry whose `prev` is not the entry the relay knows at seq - 1, or whose predecessor it
// does not know (an unknown author past seq 1, or beyond the known head + 1), is Ignored: not
// forwarded, nobody penalised (it may be honest out-of-order delivery; gaps are the sync
// protocol's job). So a broken chain never crosses the relay, even before its sender is banned.
//
// What the relay knows: a plain relay keeps no ledger, only ChainLinks' bounded memory of the
// recent entry hashes of each author it forwarded (LINKS_MAX_AUTHORS authors, LINKS_WINDOW_SEQS
// seqs each, least recently used forgotten first), learnt from seq 1 onward. An archive relay
// also looks in its ledger, which sync keeps complete. Consequence for a plain relay: an author it
// never saw from seq 1 (it started later, or the author wrote while cut off from it, or it missed
// an entry) is not forwarded by it until it learns a link again; browsers get those entries over
// their direct links and by sync.
import { decodeEntry, verifyEntry } from '../src/lib/core/entry.js';
import { errorCode } from '../src/lib/core/peers/offences.js';
import { toHex } from '../src/lib/core/bytes.js';
import { ChainLinks, type LinkLookup } from '../src/lib/core/chain-links.js';
import type { Genesis } from '../src/lib/core/types.js';

/** A content validator's answer that Ignores the message (not forwarded, nobody penalised). */
export const IGNORE_MESSAGE = Symbol('ignore-message');

/** What a relay content validator returns: true accept, false or an error code reject, or Ignore. */
export type ContentVerdict = boolean | string | typeof IGNORE_MESSAGE;

export interface EntryLinkGuard {
  /** The entries topic's content validator. */
  validate(data: Uint8Array): Promise<ContentVerdict>;
  /** Entries stored by other paths (an archive's sync) teach the links too. */
  learn(author: string, seq: number, hashHex: string): void;
  links: ChainLinks;
}

/**
 * `lookup`: entries held besides the remembered ones (an archive's ledger). `onGap`: gets each
 * verified entry judged a gap (Ignored, so gossipsub delivers it nowhere and drops the copies
 * other peers send); an archive holds it pending and asks sync for the missing predecessors.
 */
export function entryLinkGuard(
  networkId: Uint8Array,
  genesis: Genesis,
  lookup?: LinkLookup,
  onGap?: (data: Uint8Array) => void
): EntryLinkGuard {
  const links = new ChainLinks({ lookup });
  return {
    links,
    learn: (author, seq, hashHex) => links.learn(author, seq, hashHex),
    async validate(data) {
      let h;
      try {
        h = decodeEntry(data, genesis.maxEntryBytes);
      } catch (err) {
        return errorCode(err) ?? false;
      }
      // Marked before any await, so a successor judged meanwhile waits for this verdict.
      const author = toHex(h.entry.author);
      const judged = links.begin(author, h.entry.seq, toHex(h.hash));
      let linked = false;
      try {
        try {
          await verifyEntry(h.entry, networkId, genesis);
        } catch (err) {
          return errorCode(err) ?? false;
        }
        // A failing lookup (e.g. the archive closing) is our problem, not the sender's: Ignored.
        const verdict = await links.check(author, h.entry.seq, toHex(h.entry.prev)).catch(() => 'gap' as const);
        linked = verdict === 'links';
        // Not forwarded; but once its predecessor turns up it links, and so do the entries after it.
        if (verdict === 'gap') {
          links.park(author, h.entry.seq, toHex(h.hash), toHex(h.entry.prev));
          onGap?.(data);
        }
        return linked ? true : IGNORE_MESSAGE;
      } finally {
        judged(linked);
      }
    }
  };
}
