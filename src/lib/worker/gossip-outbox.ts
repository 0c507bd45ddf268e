// The node's own entries on their way to gossip. Gossip carries only entries that link (a relay
// forwards an entry only when it knows the one at seq - 1, core/chain-links.ts), so a local entry
// that never reaches a relay costs more than itself: a plain relay that never heard seq 1 of a
// feed Ignores every later entry of that feed for good. Local entries are lost that way when they
// are written before entry gossip runs (it starts once the network is up and, for a fresh light
// replica, once the verified join installed a state or gave up, which it does at the first local
// write), or while no peer is known to subscribe to the entries topic (a relay's subscription
// arrives a moment after the connection). The outbox keeps them, from the node's start, and
// publishes them one after another in append (seq) order as soon as a peer subscribes.
import { GOSSIP_LOCAL_BACKLOG, GOSSIP_OUTBOX_RETRY_MS } from '../core/constants.js';
import { encodeEntry } from '../core/entry.js';
import type { AppendOrigin } from '../core/ledger.js';
import type { HashedEntry } from '../core/types.js';

/** The part of the ledger the outbox listens to. */
export interface AppendSource {
  onAppend(cb: (h: HashedEntry, origin: AppendOrigin) => void): () => void;
}

/** The part of gossipsub the outbox publishes with (a GossipSub fits). */
export interface OutboxPubsub {
  publish(topic: string, data: Uint8Array): Promise<{ recipients: readonly unknown[] }>;
  getSubscribers(topic: string): readonly unknown[];
  addEventListener(type: 'subscription-change', cb: () => void): void;
  removeEventListener(type: 'subscription-change', cb: () => void): void;
}

export interface OutboxStats {
  /** Entries published to at least one peer. */
  published: number;
  /** Entries waiting for a subscribed peer now. */
  held: number;
  /** Local entries not kept because `max` were already held with no peer to take them (peers get them by sync). */
  dropped: number;
}

export class GossipOutbox {
  private readonly queue: HashedEntry[] = [];
  private readonly offAppend: () => void;
  private target: { pubsub: OutboxPubsub; topic: string } | undefined;
  private draining: Promise<void> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly counts = { published: 0, dropped: 0 };
  private readonly onSubscription = (): void => this.kick();

  /**
   * Starts holding `ledger`'s local appends: at most `max` while none can be published (the
   * oldest kept). A publish that reached no peer is tried again after `retryMs`, or when a peer
   * subscribes.
   */
  constructor(
    ledger: AppendSource,
    private readonly max: number = GOSSIP_LOCAL_BACKLOG,
    private readonly retryMs: number = GOSSIP_OUTBOX_RETRY_MS
  ) {
    this.offAppend = ledger.onAppend((h, origin) => {
      if (origin !== 'local' || this.stopped) return;
      // Bounded while nothing can be published; while entries flow, a burst of writes waits in line.
      if (this.queue.length >= this.max && !this.flowing()) {
        this.counts.dropped++;
        return;
      }
      this.queue.push(h);
      this.kick();
    });
  }

  get stats(): OutboxStats {
    return { ...this.counts, held: this.queue.length };
  }

  /** Publishes on `topic` of `pubsub` (the running entry gossip's), now and whenever a peer subscribes. */
  attach(pubsub: OutboxPubsub, topic: string): void {
    this.detach();
    this.target = { pubsub, topic };
    pubsub.addEventListener('subscription-change', this.onSubscription);
    this.kick();
  }

  /** Resolves once nothing is being published (entries may still be held). */
  async settled(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  stop(): void {
    this.stopped = true;
    this.offAppend();
    this.detach();
    this.queue.length = 0;
  }

  private detach(): void {
    this.target?.pubsub.removeEventListener('subscription-change', this.onSubscription);
    this.target = undefined;
    clearTimeout(this.retry);
    this.retry = undefined;
  }

  /** Attached, a peer subscribed, and the last publish reached one. */
  private flowing(): boolean {
    const t = this.target;
    return t !== undefined && this.retry === undefined && t.pubsub.getSubscribers(t.topic).length > 0;
  }

  private kick(): void {
    this.draining ??= this.drain().then((emptied) => {
      this.draining = undefined;
      // An entry appended after the loop saw an empty queue and before this ran goes now.
      if (emptied && this.queue.length > 0) this.kick();
    });
  }

  /**
   * Publishes held entries in order while a subscribed peer takes them. True when it stopped for
   * an empty queue; false when it waits (no subscriber, a publish that reached nobody, stopped).
   */
  private async drain(): Promise<boolean> {
    for (;;) {
      const t = this.target;
      const h = this.queue[0];
      if (this.stopped || t === undefined) return false;
      if (h === undefined) return true;
      if (t.pubsub.getSubscribers(t.topic).length === 0) return false; // a subscription kicks again
      const sent = await t.pubsub.publish(t.topic, encodeEntry(h.entry)).then(
        (r) => r.recipients.length > 0,
        () => false
      );
      if (!sent) {
        this.retryLater();
        return false;
      }
      // Only now: an entry appended meanwhile was queued behind it, so the order holds.
      this.queue.shift();
      this.counts.published++;
    }
  }

  private retryLater(): void {
    if (this.stopped || this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.kick();
    }, this.retryMs);
  }
}
