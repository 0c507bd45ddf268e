// The archive's push path: entries heard on the network's entries topic (already checked by the
// relay's topic validator: size, encoding, network, signature, payload) are queued and handed to
// the ledger's verified ingest in batches. A batch resolves after its SQLite transaction
// committed, so an entry counted in `stored` is durable. Gaps are the sync driver's job.
import type { GossipSub, Message } from '@libp2p/gossipsub';
import { GOSSIP_INGEST_BATCH } from '../../src/lib/core/constants.js';
import { splitGossipMessage } from '../../src/lib/core/gossip-batch.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { ARCHIVE_MAX_QUEUED, ARCHIVE_MAX_QUEUED_BYTES } from './constants.js';

export interface ArchiveIngestStats {
  /** Messages on the entries topic delivered to the archive (one entry or a batch each). */
  received: number;
  /** Entries in them. */
  receivedEntries: number;
  /** Entries newly stored (durable). */
  stored: number;
  /** Entries already held. */
  duplicates: number;
  /** Entries the ledger refused or could not store. */
  failed: number;
  /** Dropped because ARCHIVE_MAX_QUEUED entries or ARCHIVE_MAX_QUEUED_BYTES were already waiting (sync fetches them later). */
  dropped: number;
  /** Verified entries the relay did not forward for a missing predecessor, handed to the ledger (held pending). */
  gaps: number;
}

export interface ArchiveIngest {
  stats: ArchiveIngestStats;
  /**
   * Queues a verified entry that gossip did not deliver because its predecessor is missing here
   * (relay/entry-links.ts): the ledger holds it pending and `onPending` asks sync for the gap, so
   * it is stored as soon as the gap is filled instead of at the next periodic sync.
   */
  holdGap(data: Uint8Array): void;
  /** Resolves once every queued entry so far has been handed to the ledger. */
  settled(): Promise<void>;
  stop(): void;
}

type Pubsub = Pick<GossipSub, 'addEventListener' | 'removeEventListener'>;

export function startGossipIngest(
  pubsub: Pubsub,
  topic: string,
  ledger: Ledger,
  onPending: () => void = () => undefined
): ArchiveIngest {
  const stats: ArchiveIngestStats = {
    received: 0,
    receivedEntries: 0,
    stored: 0,
    duplicates: 0,
    failed: 0,
    dropped: 0,
    gaps: 0
  };
  const queue: Uint8Array[] = [];
  /** Bytes in `queue` plus the batch being ingested. */
  let heldBytes = 0;
  let draining: Promise<void> | undefined;
  let stopped = false;

  const drain = async (): Promise<void> => {
    while (queue.length > 0 && !stopped) {
      const batch = queue.splice(0, GOSSIP_INGEST_BATCH);
      const batchBytes = batch.reduce((n, d) => n + d.byteLength, 0);
      try {
        const r = await ledger.ingest(batch);
        stats.stored += r.added;
        stats.duplicates += r.duplicates;
        stats.failed += r.rejected.length;
        if (r.pending > 0) onPending();
      } catch {
        stats.failed += batch.length;
      } finally {
        heldBytes -= batchBytes;
      }
    }
    draining = undefined;
  };

  const enqueue = (data: Uint8Array): void => {
    if (queue.length >= ARCHIVE_MAX_QUEUED || heldBytes + data.byteLength > ARCHIVE_MAX_QUEUED_BYTES) {
      stats.dropped++;
      return;
    }
    heldBytes += data.byteLength;
    queue.push(data);
    draining ??= drain();
  };
  const onMessage = (ev: CustomEvent<Message>): void => {
    const msg = ev.detail;
    if (stopped || msg.topic !== topic) return;
    stats.received++;
    // Accepted by the relay's validator, so well-formed: one entry or a batch (a run of one feed).
    let entries: Uint8Array[];
    try {
      entries = splitGossipMessage(msg.data);
    } catch {
      stats.failed++;
      return;
    }
    stats.receivedEntries += entries.length;
    for (const e of entries) enqueue(e);
  };
  pubsub.addEventListener('message', onMessage);

  return {
    stats,
    holdGap(data) {
      if (stopped) return;
      stats.gaps++;
      enqueue(data);
    },
    settled: async () => {
      while (draining !== undefined) await draining;
    },
    stop() {
      stopped = true;
      for (const d of queue.splice(0)) heldBytes -= d.byteLength;
      pubsub.removeEventListener('message', onMessage);
    }
  };
}
