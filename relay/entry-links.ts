// The relay's check on the entries topic: the same stateless checks every browser runs (size,
// encoding, a batch's run, network, signature, payload), then the chain link
// (core/chain-links.ts). A message is one entry or a batch of one feed's run
// (core/gossip-batch.ts): judged as a whole, by its first entry's link. A validly
// signed entry whose `prev` is not the entry the relay knows at seq - 1, or whose predecessor it
// does not know (an unknown author past seq 1, or beyond the known head + 1), is Ignored: not
// forwarded, nobody penalised (it may be honest out-of-order delivery; gaps are the sync
// protocol's job). So a broken chain never crosses the relay, even before its sender is banned.
//
// What the relay knows: a plain relay keeps no ledger, only ChainLinks' bounded memory of the
// recent entry hashes of each author it forwarded (LINKS_MAX_AUTHORS authors, LINKS_WINDOW_SEQS
// seqs each, least recently used forgotten first), learnt from seq 1 onward. An archive relay
// also looks in its ledger, which sync keeps complete. A plain relay that never saw an author
// from seq 1 (it started later, or the author wrote while cut off from it, or it missed an entry)
// learns the link with a LinkFetcher (relay/link-fetch.ts): for a gap entry it asks a peer that
// serves sync (the mesh's archive, else the sender) for the predecessor, keeps it only if it hashes
// to the entry's `prev`, and judges the entry again, forwarding it if it now links. Validation
// waits for that fetch (bounded in time and number): the entry itself crosses, not only the next
// one. When no peer can serve it (no archive, a sender that does not serve sync, a bound reached),
// the entry is Ignored as before and sync carries it.
import { verifyEntry } from '../src/lib/core/entry.js';
import { decodeGossipMessage, type GossipEntries } from '../src/lib/core/gossip-batch.js';
import { errorCode } from '../src/lib/core/peers/offences.js';
import { toHex } from '../src/lib/core/bytes.js';
import { ChainLinks, type LinkLookup } from '../src/lib/core/chain-links.js';
import type { Genesis } from '../src/lib/core/types.js';
import type { LinkFetcher } from './link-fetch.js';

/** A content validator's answer that Ignores the message (not forwarded, nobody penalised). */
export const IGNORE_MESSAGE = Symbol('ignore-message');

/** What a relay content validator returns: true accept, false or an error code reject, or Ignore. */
export type ContentVerdict = boolean | string | typeof IGNORE_MESSAGE;

export interface EntryLinkGuard {
  /** The entries topic's content validator; `via`: the peer that sent the message (may serve the link). */
  validate(data: Uint8Array, via?: string): Promise<ContentVerdict>;
  /** Entries stored by other paths (an archive's sync) teach the links too. */
  learn(author: string, seq: number, hashHex: string): void;
  links: ChainLinks;
  /** Gap entries that linked once their predecessor was fetched (counted as gaps in links.counts too). */
  recovered: { count: number };
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
  onGap?: (data: Uint8Array) => void,
  fetcher?: LinkFetcher
): EntryLinkGuard {
  const links = new ChainLinks({ lookup });
  const recovered = { count: 0 };
  return {
    links,
    recovered,
    learn: (author, seq, hashHex) => links.learn(author, seq, hashHex),
    async validate(data, via) {
      let run: GossipEntries;
      try {
        run = decodeGossipMessage(data, genesis.maxEntryBytes);
      } catch (err) {
        return errorCode(err) ?? false;
      }
      const entries = run.entries;
      // Marked before any await, so a successor judged meanwhile waits for this verdict.
      const author = toHex(entries[0].entry.author);
      const judged = entries.map((h) => links.begin(author, h.entry.seq, toHex(h.hash), toHex(h.entry.prev)));
      let linked = false;
      let rejected = false;
      try {
        try {
          await Promise.all(entries.map((h) => verifyEntry(h.entry, networkId, genesis)));
        } catch (err) {
          rejected = true;
          return errorCode(err) ?? false;
        }
        // A batch is a run of one feed (checked by the decoder): it links when its first entry does.
        const head = entries[0].entry;
        // A failing lookup (e.g. the archive closing) is our problem, not the sender's: Ignored.
        const prev = toHex(head.prev);
        let verdict = await links.check(author, head.seq, prev).catch(() => 'gap' as const);
        // A gap: fetch the predecessor (verified to hash to prev) and judge again.
        if (verdict === 'gap' && fetcher !== undefined && (await fetcher.fetch(author, head.seq - 1, prev, via))) {
          links.learn(author, head.seq - 1, prev);
          verdict = await links.check(author, head.seq, prev).catch(() => 'gap' as const);
          if (verdict === 'links') recovered.count++;
        }
        linked = verdict === 'links';
        // Not forwarded; but once its predecessor turns up it links, and so do the entries after it.
        if (verdict === 'gap')
          entries.forEach((h, i) => {
            links.park(author, h.entry.seq, toHex(h.hash), toHex(h.entry.prev));
            onGap?.(run.encoded[i]);
          });
        return linked ? true : IGNORE_MESSAGE;
      } finally {
        // A rejected batch says nothing of its other entries (see worker/entry-gossip.ts).
        for (const j of judged) j(linked || (rejected ? 'void' : false));
      }
    }
  };
}
