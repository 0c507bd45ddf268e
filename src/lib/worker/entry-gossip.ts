// Push: every local entry is published on the network's entries topic, and entries heard there
// are verified and ingested (duplicates are dropped by the ledger). Filling gaps left by missed
// messages is the sync protocol's job, not this module's.
import type { Message } from '@libp2p/gossipsub';
import { encodeEntry } from '../core/entry.js';
import type { Ledger } from '../core/ledger.js';
import type { BrowserNode } from '../platform/libp2p-browser.js';

export interface GossipStats {
  published: number;
  received: number;
  rejected: number;
}

export function startEntryGossip(node: BrowserNode, ledger: Ledger, topic: string, maxEntryBytes: number) {
  const pubsub = node.services.pubsub;
  const stats: GossipStats = { published: 0, received: 0, rejected: 0 };
  let chain = Promise.resolve();

  const onMessage = (ev: CustomEvent<Message>): void => {
    const msg = ev.detail;
    if (msg.topic !== topic) return;
    stats.received++;
    // Bounded before any parsing; the ledger decodes and verifies the rest.
    if (msg.data.byteLength > maxEntryBytes) {
      stats.rejected++;
      return;
    }
    // One ingest at a time keeps the ledger's batches small and ordered.
    chain = chain
      .then(() => ledger.ingest([msg.data]))
      .then((report) => {
        stats.rejected += report.rejected.length;
      })
      .catch(() => {
        stats.rejected++;
      });
  };

  pubsub.subscribe(topic);
  pubsub.addEventListener('message', onMessage);
  const offAppend = ledger.onAppend((h, origin) => {
    if (origin !== 'local') return;
    pubsub.publish(topic, encodeEntry(h.entry)).then(
      () => stats.published++,
      // No subscribers yet is normal for a lone tab; the entry is durable either way.
      () => undefined
    );
  });

  return {
    stats,
    stop(): void {
      offAppend();
      pubsub.removeEventListener('message', onMessage);
      pubsub.unsubscribe(topic);
    }
  };
}
