// Building blocks of the liars in the sync red-team simulations: a replica that claims a fake
// head for an honest author (hiding the real one), and a send filter that withholds answers.
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { EntriesMsg } from '../../src/lib/core/sync/messages.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import type { FeedHead } from '../../src/lib/core/types.js';

/**
 * wrapReplica for a liar: `author`'s real head is replaced by `fake()` (read at every call), in
 * heads() and in head-change events. `onListener` receives the wrapped listener (to push a
 * changed claim at will).
 */
export function claimFake(
  author: string,
  fake: () => FeedHead,
  onListener?: (cb: (hs: FeedHead[], complete?: boolean) => void) => void
): (base: SyncReplica) => SyncReplica {
  return (base) => ({
    ...base,
    heads: () => [...base.heads().filter((h) => h.author !== author), fake()],
    onHeadsChanged: (cb) => {
      onListener?.(cb);
      return base.onHeadsChanged((hs, complete) =>
        cb(
          hs.filter((h) => h.author !== author),
          complete
        )
      );
    }
  });
}

/** How a liar answers a range request it will not serve. */
export type Withhold = 'empty' | 'silent' | 'busy';

/**
 * wrapSend for a liar: range answers (`entries`) that `serves` does not let through are dropped
 * ('silent': the request times out) or replaced by a "sync-busy" error ('busy'); 'empty' sends
 * them as they are (an honest "nothing" when the liar holds nothing).
 */
export function withholdAnswers(
  mode: Withhold,
  serves: (m: EntriesMsg) => boolean = () => false
): (to: string, b: Uint8Array) => Uint8Array | null {
  return (_to, b) => {
    const m = decodeSyncMessage(b);
    if (mode === 'empty' || m.t !== 'entries' || serves(m)) return b;
    return mode === 'busy'
      ? encodeSyncMessage({ t: 'error', rid: m.rid, xid: 0, code: 'sync-busy', message: 'busy' })
      : null;
  };
}
