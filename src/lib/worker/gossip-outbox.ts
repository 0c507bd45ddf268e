// The node's own entries on their way to gossip. Gossip carries only entries that link (a relay
// forwards an entry only when it knows the one at seq - 1, core/chain-links.ts), so a local entry
// that never reaches a relay costs more than itself: a plain relay that never heard seq 1 of a
// feed Ignores every later entry of that feed for good. Local entries are lost that way when they
// are written before entry gossip runs (it starts once the network is up and, for a fresh light
// replica, once the verified join installed a state or gave up, which it does at the first local
// write), or while no peer is known to subscribe to the entries topic (a relay's subscription
// arrives a moment after the connection). The outbox keeps them, from the node's start, and
// publishes them one after another in append (seq) order as soon as a peer subscribes.
//
// Publishing is paced (a token bucket, `ratePerSecond` with bursts of `burst`) below the relay's
// per-peer publish rate (relay/limits.ts GOSSIP_LIMITS.messagesPerSecond): a relay Ignores what
// comes faster and strikes the sender, so an unpaced burst of 2,000 writes used to push an honest
// writer far below the relay's graylist for about a minute. Its RPCs, discovery announcements
// included, were then dropped unread, and a device that arrived meanwhile waited 42-60 s for its
// first direct link. While entries flow, at most `maxQueued` entries wait in line (`maxHeld` while
// none can be sent), and never more than `maxQueuedBytes` encoded; more are dropped and counted
// (peers get them by sync, a relay by fetching the link).
//
// Batches (core/gossip-batch.ts): each publish carries every entry waiting in line whose seqs run
// on from the first, up to `batchEntries` and `maxMessageBytes` in all. Nothing waits to fill a
// batch: a lone write goes alone at once, and what was appended while a publish was under way
// (a write group, a burst, a backlog) goes together in the next one. The pace counts entries, as
// the relay's per-peer rate does.
import {
  DEFAULT_MAX_ENTRY_BYTES,
  GOSSIP_BATCH_MAX_ENTRIES,
  GOSSIP_LOCAL_BACKLOG,
  GOSSIP_OUTBOX_BURST,
  GOSSIP_OUTBOX_MAX_QUEUED,
  GOSSIP_OUTBOX_MAX_QUEUED_BYTES,
  GOSSIP_OUTBOX_RATE,
  GOSSIP_OUTBOX_RETRY_MS
} from '../core/constants.js';
import { encodeEntry } from '../core/entry.js';
import { batchBytes, encodeGossipMessage } from '../core/gossip-batch.js';
import { TokenBucket } from '../core/token-bucket.js';
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
  /** Messages that carried them (a message is one entry or a batch). */
  messages: number;
  /** Entries waiting for a subscribed peer, or for their place under the pace, now. */
  held: number;
  /**
   * Local entries not kept: `maxHeld` were already held with no peer to take them, or `maxQueued`
   * entries (`maxQueuedBytes`) were waiting in line (peers get them by sync).
   */
  dropped: number;
  /** Times the outbox waited for the pace (a publish would have gone over `ratePerSecond`). */
  paced: number;
}

export interface OutboxOptions {
  /** Entries held while none can be published (no subscriber yet, or the last publish reached none); the oldest kept. */
  maxHeld: number;
  /** Entries waiting in line while entries flow; more are dropped. */
  maxQueued: number;
  /** Encoded bytes held at once, flowing or not (`maxHeld` entries of 1 MiB would be 256 MiB); more are dropped. */
  maxQueuedBytes: number;
  /** A publish that reached no peer is tried again after this, ms (or when a peer subscribes). */
  retryMs: number;
  /** Entries published per second at most, over time (token bucket refill), and in one burst (bucket size). */
  ratePerSecond: number;
  burst: number;
  /** Entries in one message at most (1: no batches). */
  batchEntries: number;
  /** Bytes of one batch message at most (the genesis's maxEntryBytes: what every receiver accepts). */
  maxMessageBytes: number;
}

export const OUTBOX_DEFAULTS: OutboxOptions = {
  maxHeld: GOSSIP_LOCAL_BACKLOG,
  maxQueued: GOSSIP_OUTBOX_MAX_QUEUED,
  maxQueuedBytes: GOSSIP_OUTBOX_MAX_QUEUED_BYTES,
  retryMs: GOSSIP_OUTBOX_RETRY_MS,
  ratePerSecond: GOSSIP_OUTBOX_RATE,
  burst: GOSSIP_OUTBOX_BURST,
  batchEntries: GOSSIP_BATCH_MAX_ENTRIES,
  maxMessageBytes: DEFAULT_MAX_ENTRY_BYTES
};

interface Held {
  seq: number;
  bytes: Uint8Array;
}

export class GossipOutbox {
  private readonly queue: Held[] = [];
  private queuedBytes = 0;
  private readonly offAppend: () => void;
  private readonly opts: OutboxOptions;
  private target: { pubsub: OutboxPubsub; topic: string } | undefined;
  private draining: Promise<void> | undefined;
  /** kick() was called while a drain ran: look again once it ends. */
  private kickedMeanwhile = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private pace: { timer: ReturnType<typeof setTimeout>; wake: () => void } | undefined;
  private readonly bucket: TokenBucket;
  private stopped = false;
  private readonly counts = { published: 0, messages: 0, dropped: 0, paced: 0 };
  private readonly onSubscription = (): void => this.kick();

  /**
   * Starts holding `ledger`'s local appends (each encoded once, here). Options: OUTBOX_DEFAULTS.
   */
  constructor(ledger: AppendSource, opts: Partial<OutboxOptions> = {}) {
    this.opts = { ...OUTBOX_DEFAULTS, ...opts };
    // A message carries 1 to GOSSIP_BATCH_MAX_ENTRIES entries (encodeGossipMessage throws beyond).
    this.opts.batchEntries = Math.max(1, Math.min(GOSSIP_BATCH_MAX_ENTRIES, Math.floor(this.opts.batchEntries)));
    // Whole tokens, at least one (a fractional or zero burst would stall or unpace the drain).
    this.opts.burst = Math.max(1, Math.floor(this.opts.burst));
    this.opts.ratePerSecond = Math.max(Number.MIN_VALUE, this.opts.ratePerSecond);
    this.bucket = new TokenBucket(this.opts.ratePerSecond, this.opts.burst, Date.now());
    this.offAppend = ledger.onAppend((h, origin) => {
      if (origin !== 'local' || this.stopped) return;
      this.hold(h);
    });
  }

  get stats(): OutboxStats {
    return { ...this.counts, held: this.queue.length };
  }

  /** Queues a local entry unless the line is full: `maxHeld` while nothing flows, else `maxQueued`; bytes always. */
  private hold(h: HashedEntry): void {
    const bytes = encodeEntry(h.entry);
    const full =
      this.queue.length >= (this.flowing() ? this.opts.maxQueued : this.opts.maxHeld) ||
      this.queuedBytes + bytes.byteLength > this.opts.maxQueuedBytes;
    if (full) {
      this.counts.dropped++;
      return;
    }
    this.queue.push({ seq: h.entry.seq, bytes });
    this.queuedBytes += bytes.byteLength;
    this.kick();
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
    this.queuedBytes = 0;
    if (this.pace !== undefined) {
      clearTimeout(this.pace.timer);
      this.pace.wake();
    }
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
    if (this.draining !== undefined) {
      this.kickedMeanwhile = true;
      return;
    }
    this.kickedMeanwhile = false;
    this.draining = this.drain().then((emptied) => {
      this.draining = undefined;
      // An entry appended after the loop saw an empty queue and before this ran goes now; so do
      // entries held when a kick came after the loop gave up (an attach in the same tick as the
      // appends it should carry).
      if ((emptied || this.kickedMeanwhile) && this.queue.length > 0) this.kick();
    });
  }

  /**
   * Publishes held entries in order while a subscribed peer takes them. True when it stopped for
   * an empty queue; false when it waits (no subscriber, a publish that reached nobody, stopped).
   */
  private async drain(): Promise<boolean> {
    for (;;) {
      const t = this.target;
      if (this.stopped || t === undefined) return false;
      if (this.queue.length === 0) return true;
      if (t.pubsub.getSubscribers(t.topic).length === 0) return false; // a subscription kicks again
      // The pace counts entries (a relay charges a batch by its entries). When it binds, the
      // outbox waits for tokens enough for the run in line (up to a batch), not for one: paced
      // one token at a time, a backlog would go one entry a message.
      const want = Math.min(this.runLength(), this.opts.burst);
      const tokens = this.bucket.available(Date.now());
      if (tokens < want) {
        await this.waitForToken(want);
        continue;
      }
      // Taken now, after any wait: what was appended meanwhile rides along.
      const run = this.nextRun(tokens);
      this.bucket.take(Date.now(), run.length);
      const sent = await t.pubsub.publish(t.topic, encodeGossipMessage(run.map((h) => h.bytes))).then(
        (r) => r.recipients.length > 0,
        () => false
      );
      if (this.stopped) return false;
      if (!sent) {
        this.retryLater();
        return false;
      }
      // A peer took it: entries flow again, whether or not the retry a failed publish set has fired.
      this.flowAgain();
      // Only now: an entry appended meanwhile was queued behind them, so the order holds.
      this.queue.splice(0, run.length);
      for (const h of run) this.queuedBytes -= h.bytes.byteLength;
      this.counts.published += run.length;
      this.counts.messages++;
    }
  }

  /**
   * The entries the next message carries: the first in line, then those whose seqs run on from it
   * (an entry dropped over the bounds leaves a hole: the batch ends there), while they fit in
   * `batchEntries`, `maxMessageBytes` and the pace's `tokens`.
   */
  /** Entries in line whose seqs run on from the first, up to `batchEntries`. */
  private runLength(): number {
    let n = 1;
    while (n < this.queue.length && n < this.opts.batchEntries && this.queue[n].seq === this.queue[n - 1].seq + 1) n++;
    return n;
  }

  private nextRun(tokens: number): Held[] {
    const run = [this.queue[0]];
    const most = Math.min(this.opts.batchEntries, tokens);
    for (let i = 1; i < this.queue.length && run.length < most; i++) {
      const h = this.queue[i];
      if (h.seq !== run[run.length - 1].seq + 1) break;
      if (batchBytes([...run, h].map((r) => r.bytes)) > this.opts.maxMessageBytes) break;
      run.push(h);
    }
    return run;
  }

  private flowAgain(): void {
    clearTimeout(this.retry);
    this.retry = undefined;
  }

  /** Resolves when the bucket holds `n` tokens (or at stop()). */
  private waitForToken(n: number): Promise<void> {
    this.counts.paced++;
    const ms = this.bucket.waitMs(Date.now(), n);
    return new Promise((wake) => {
      const timer = setTimeout(() => {
        this.pace = undefined;
        wake();
      }, ms);
      this.pace = { timer, wake };
    });
  }

  private retryLater(): void {
    if (this.stopped || this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.kick();
    }, this.opts.retryMs);
  }
}
