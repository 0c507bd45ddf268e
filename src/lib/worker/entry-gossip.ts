// Push: every local entry is published on the network's entries topic. Entries heard there are
// judged by a gossipsub topic validator BEFORE gossipsub delivers or forwards them: junk is
// Rejected (not forwarded, and gossipsub lowers the score of its signed originator; junk that a
// relay or another peer merely carried is Ignored instead, see platform/gossip-origin.ts), entries this node already
// stored or cannot take right now are Ignored (not forwarded, no penalty), and only verified
// entries are Accepted, forwarded and queued for the ledger. Gossip carries only entries that
// link (core/chain-links.ts): an entry whose `prev` is not the entry known here at seq - 1, or
// whose predecessor is unknown here (beyond the known head + 1), is Ignored: not forwarded, the
// carrier not penalised. A gap's entry is still handed to the ledger, which holds it as pending
// (bounded) and asks the sync driver for the missing range (hooks.onPending): filling gaps is
// the sync protocol's job, and the held entry is applied once its predecessor arrives. A broken
// link's entry and a causally refused one (validly signed: the signature was verified) go to the
// ledger too, through the same bounded queue: it refuses a broken link as sync would (ingest) and
// records a causal refusal without an ingest (Ledger.rememberRefused), remembering both as
// variants of their seq (core/refused-variants.ts), so a second variant is fork evidence whichever
// path either took.
//
// Flow control: a message dropped over the queue cap takes the node off the topic for a while
// (core/gossip-shed.ts): its peers stop pushing to it, and sync pulls its gaps meanwhile.
//
// Forwarding is not paced. A relay charges a message to the peer it first heard it from, so a
// node that forwards others' entries ahead of them (bridging relays that are not meshed) can go
// over the relay's per-peer rate; the relay's strike cap bounds that to ~14 s under the graylist.
// Pacing forwards (80/s, tried on 2026-12-01) was worse: tokens went to whichever entries finished
// validation, so most forwarded entries did not link downstream and gossip beyond the node fell
// back to sync (review of that day).
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { blameOrigin, originOf, type OriginBlame } from '../platform/gossip-origin.js';
import { errorCode } from '../core/peers/offences.js';
import { toHex } from '../core/bytes.js';
import {
  GOSSIP_DROP_RESYNC_MS,
  GOSSIP_LINK_GRACE_MS,
  GOSSIP_SHED_CHECK_MS,
  GOSSIP_INGEST_BATCH,
  GOSSIP_MAX_QUEUED,
  GOSSIP_MAX_QUEUED_BYTES,
  GOSSIP_SEEN_HASHES,
  GOSSIP_TRACKED_PEERS
} from '../core/constants.js';
import { encodeEntry } from '../core/entry.js';
import { decodeGossipMessage, type GossipEntries } from '../core/gossip-batch.js';
import { verifyHashed } from '../core/verified-entries.js';
import { ChainLinks, type ChainLinksOptions, type LinkVerdict } from '../core/chain-links.js';
import { GossipShed, type GossipShedOptions } from '../core/gossip-shed.js';
import { LinkWaitShares, type LinkWaitLimits } from '../core/link-wait-shares.js';
import type { Ledger } from '../core/ledger.js';
import type { HashedEntry } from '../core/types.js';

/** The part of the libp2p node gossip uses (a BrowserNode fits; tests pass a fake). */
export interface GossipNode {
  services: { pubsub: Pick<GossipSub, 'topicValidators' | 'subscribe' | 'unsubscribe' | 'publish'> };
}

export interface GossipLimits {
  /** Entries being verified or waiting for the ledger at once; a message arriving at or over it is Ignored and counted as dropped (a batch may overshoot it by its size). */
  maxQueued: number;
  /** Their bytes (entry encodings) at once; a message that would take them over it is Ignored and counted as dropped. */
  maxQueuedBytes: number;
  /** Entries per Ledger.ingest call. */
  ingestBatch: number;
  /** Stored entry hashes remembered, to Ignore re-sent entries without verifying them again. */
  seenHashes: number;
  /** Peers tracked in rejectedByPeer. */
  trackedPeers: number;
  /** Chain-link memory and wait (core/chain-links.ts); the ledger is its lookup. */
  links?: Partial<Omit<ChainLinksOptions, 'lookup'>>;
  /** Each peer's share of entries waiting for a predecessor (core/link-wait-shares.ts); they do not count toward maxQueued. */
  linkWaits?: Partial<LinkWaitLimits>;
  /** A link check still waiting after this long takes its peer's share of waits, or its run is a gap at once, ms. */
  linkGraceMs: number;
  /**
   * Flow control (core/gossip-shed.ts): off the topic after a drop; `checkMs`: how often to check,
   * while off. false: never off the topic (drops only).
   */
  shed?: false | (Partial<GossipShedOptions> & { checkMs?: number });
}

export const GOSSIP_DEFAULTS: GossipLimits = {
  maxQueued: GOSSIP_MAX_QUEUED,
  maxQueuedBytes: GOSSIP_MAX_QUEUED_BYTES,
  ingestBatch: GOSSIP_INGEST_BATCH,
  seenHashes: GOSSIP_SEEN_HASHES,
  trackedPeers: GOSSIP_TRACKED_PEERS,
  linkGraceMs: GOSSIP_LINK_GRACE_MS
};

/**
 * `check`'s verdict, or, if it is still waiting after `graceMs`, whatever `share()` allows: true,
 * keep waiting (the caller gives the share back); false, 'gap' now (the check runs on unheard).
 */
function withGrace(check: Promise<LinkVerdict>, graceMs: number, share: () => boolean): Promise<LinkVerdict> {
  return new Promise((resolve, reject) => {
    let done = false;
    const end = (): boolean => {
      if (done) return false;
      done = true;
      clearTimeout(timer);
      return true;
    };
    const timer = setTimeout(() => {
      if (!done && !share() && end()) resolve('gap');
    }, graceMs);
    check.then(
      (v) => end() && resolve(v),
      (e: unknown) => end() && reject(e)
    );
  });
}

export interface GossipStats {
  /** Local entries published. */
  published: number;
  /** Messages on the topic that reached the validator (a message is one entry or a batch, core/gossip-batch.ts). */
  received: number;
  /** Entries in the messages that decoded. */
  receivedEntries: number;
  /** Entries verified, forwarded and queued for the ledger. */
  accepted: number;
  /** Messages that failed the size, decoding, batch, network, signature or payload checks (sender penalised). */
  rejected: number;
  /** Entries this node already stored: Ignored without verifying again. */
  duplicates: number;
  /** Messages Ignored because maxQueued entries (or maxQueuedBytes) were already in progress, or while off the topic (flow control). */
  dropped: number;
  /** Of them, drops that did not take the node off the topic: a burst over a young queue (core/gossip-shed.ts). */
  readonly burstDrops: number;
  /** Runs judged gaps at once because their peer (or all) held its share of waits for a predecessor (core/link-wait-shares.ts). */
  readonly linkWaitsRefused: number;
  /** Entries waiting for a predecessor past the grace now, on their peers' shares (outside maxQueued). */
  readonly waitingOnShares: number;
  /** Messages Ignored, not forwarded, because an entry of theirs, validly signed, is refused by the causal rules here (Ledger.precheckRun; the ledger remembers that entry). */
  causalIgnored: number;
  /** Entries validly signed whose run does not link to the entry known here at seq - 1: Ignored, not forwarded, handed to the ledger (a gap's entry: held as pending; a broken link's: remembered as a variant, or fork evidence). */
  unlinked: number;
  /** Entries handed to the ledger (accepted, unlinked or causally refused) that it refused or could not store. */
  ingestFailed: number;
  /**
   * Entries the ledger stored from gossip ingests (their `added`, with held ones a gossip entry
   * released). An ingest that throws (our own storage failed) counts its whole batch in
   * `ingestFailed` and none here, even entries it had stored before failing.
   */
  stored: number;
  /** Rejected messages per originating peer id (signed `from`); bounded, the least recently updated peer goes first. */
  rejectedByPeer: Map<string, number>;
  /** Now: entries being verified, waiting for a predecessor's verdict or for the ledger (at maxQueued messages are dropped). */
  readonly inProgress: number;
  /** Now: their bytes (entry encodings; over maxQueuedBytes messages are dropped). */
  readonly inProgressBytes: number;
  /** Now: of them, entries waiting for their predecessor (core/chain-links.ts), and verified entries queued for the ledger. */
  readonly waitingForLink: number;
  readonly queuedForLedger: number;
  /**
   * Flow control (core/gossip-shed.ts): off the entries topic now (after a drop; sync fills the
   * gaps), times the node left it, and ms spent off it (closed stretches).
   */
  readonly shed: boolean;
  readonly sheds: number;
  readonly shedMs: number;
}

export interface GossipHooks extends OriginBlame {
  /**
   * false: local entries are not published here; the caller does (worker/gossip-outbox.ts holds
   * them until a peer subscribes). Default true: each is published as it is appended.
   */
  publishLocal?: boolean;
  /**
   * An ingest held entries whose predecessors or dependencies are missing (report.pending > 0),
   * or messages were dropped over `maxQueued` or `maxQueuedBytes` (called GOSSIP_DROP_RESYNC_MS after the first drop),
   * or the node is off the topic (flow control: called every check, GOSSIP_SHED_CHECK_MS):
   * the sync driver asks its peers for them, instead of waiting for the next periodic sync.
   */
  onPending?: () => void;
}

export interface EntryGossip {
  stats: GossipStats;
  /** Resolves once every accepted entry so far has been handed to the ledger. */
  settled(): Promise<void>;
  stop(): void;
}

/**
 * Networks and genesis come from the ledger; `maxEntryBytes` can only tighten the genesis limit
 * (kept as a parameter for existing callers).
 */
export function startEntryGossip(
  node: GossipNode,
  ledger: Ledger,
  topic: string,
  maxEntryBytes: number = ledger.genesis.maxEntryBytes,
  limits: Partial<GossipLimits> = {},
  hooks: GossipHooks = {}
): EntryGossip {
  const pubsub = node.services.pubsub;
  const lim = { ...GOSSIP_DEFAULTS, ...limits };
  const maxBytes = Math.min(maxEntryBytes, ledger.genesis.maxEntryBytes);
  const stats: GossipStats = {
    published: 0,
    received: 0,
    receivedEntries: 0,
    accepted: 0,
    rejected: 0,
    duplicates: 0,
    dropped: 0,
    causalIgnored: 0,
    unlinked: 0,
    ingestFailed: 0,
    stored: 0,
    rejectedByPeer: new Map(),
    get inProgress() {
      return inProgress;
    },
    get inProgressBytes() {
      return inProgressBytes;
    },
    get waitingForLink() {
      return links.waiting;
    },
    get burstDrops() {
      return shed.burstDrops;
    },
    get linkWaitsRefused() {
      return waits.refused;
    },
    get waitingOnShares() {
      return waits.entries;
    },
    get queuedForLedger() {
      return queue.length + refusedQueue.length;
    },
    get shed() {
      return shed.shed;
    },
    get sheds() {
      return shed.sheds;
    },
    get shedMs() {
      return shed.shedMs;
    }
  };
  const seen = new Set<string>(); // insertion order = age
  // Dropped messages are lost to gossip (their ids are marked seen): ask sync for them soon.
  let resync: ReturnType<typeof setTimeout> | undefined;
  const resyncSoon = (): void => {
    resync ??= setTimeout(() => {
      resync = undefined;
      if (!stopped) hooks.onPending?.();
    }, GOSSIP_DROP_RESYNC_MS);
  };
  const links = new ChainLinks({ ...lim.links, lookup: (a, seq) => ledger.entryHashes(a, seq) });
  // Entries waiting for a predecessor: each peer's bounded share, outside the queue's cap.
  const waits = new LinkWaitShares(lim.linkWaits);
  // Flow control: a drop while the queue is standing takes the node off the topic (its peers stop
  // pushing to it); while off, sync is asked for the gaps every check, and the node joins again
  // once its queue is empty. A burst over a young queue only loses its excess (gossip-shed.ts).
  const shed = new GossipShed(lim.shed === false ? {} : lim.shed);
  let shedTimer: ReturnType<typeof setInterval> | undefined;
  // Gossipsub throws once stopped (the node shutting down before this gossip's stop()).
  const topicCall = (call: () => void): void => {
    try {
      call();
    } catch {
      /* stopping: nothing to join or leave */
    }
  };
  const shedCheck = (): void => {
    if (stopped) return;
    if (!shed.mayJoin(Date.now(), inProgress - waits.entries)) {
      hooks.onPending?.();
      return;
    }
    clearInterval(shedTimer);
    shedTimer = undefined;
    topicCall(() => pubsub.subscribe(topic));
  };
  const shedNow = (): void => {
    if (stopped || lim.shed === false || !shed.dropped(Date.now(), queuedSince())) return;
    topicCall(() => pubsub.unsubscribe(topic));
    shedTimer = setInterval(shedCheck, lim.shed?.checkMs ?? GOSSIP_SHED_CHECK_MS);
  };
  /** An entry on its way to the ledger, with its message's size (counted in inProgressBytes) and when it was queued (`at`, ms). */
  type Held = { h: HashedEntry; bytes: number; at?: number };
  const queue: Held[] = [];
  /** Causally refused entries for Ledger.rememberRefused; counted in inProgress like the queue. */
  const refusedQueue: Held[] = [];
  /** When the batch being ingested now was first queued (its oldest entry), ms; null when none is. */
  let ingestingSince: number | null = null;
  /** When the oldest entry waiting for the ledger or being ingested was queued, ms; null when none. */
  const queuedSince = (): number | null => {
    let t = ingestingSince ?? Infinity;
    for (const q of [queue[0], refusedQueue[0]]) if (q?.at !== undefined) t = Math.min(t, q.at);
    return t === Infinity ? null : t;
  };
  let inProgress = 0; // being verified, queued or being ingested
  let inProgressBytes = 0; // their message bytes
  const release = (n: number, bytes: number): void => {
    inProgress -= n;
    inProgressBytes -= bytes;
  };
  let draining: Promise<void> | undefined;
  let stopped = false;

  const remember = (hashHex: string): void => {
    seen.delete(hashHex);
    if (seen.size >= lim.seenHashes) seen.delete(seen.values().next().value!);
    seen.add(hashHex);
  };

  type Verdict = { verdict: TopicValidatorResult; code?: string };
  const ignore: Verdict = { verdict: TopicValidatorResult.Ignore };
  const reject = (peer: PeerId, msg: Message, code: string | undefined): Verdict => {
    stats.rejected++;
    const id = originOf(msg, peer.toString());
    const n = (stats.rejectedByPeer.get(id) ?? 0) + 1;
    stats.rejectedByPeer.delete(id);
    if (stats.rejectedByPeer.size >= lim.trackedPeers)
      stats.rejectedByPeer.delete(stats.rejectedByPeer.keys().next().value!);
    stats.rejectedByPeer.set(id, n);
    return { verdict: TopicValidatorResult.Reject, code };
  };

  // Batches keep the ledger's work ordered and its write transactions few. The batch is taken once
  // the ledger's queue is free, so it holds what arrived meanwhile: under load, entries arrive one
  // at a time and each ingest step (a store transaction) cost as much for 1 entry as for 64.
  const drain = async (): Promise<void> => {
    while ((queue.length > 0 || refusedQueue.length > 0) && !stopped) {
      await ledger.idle();
      for (const r of refusedQueue.splice(0, lim.ingestBatch)) {
        ingestingSince = r.at ?? null;
        try {
          await ledger.rememberRefused(r.h);
        } catch {
          stats.ingestFailed++;
        } finally {
          release(1, r.bytes);
        }
      }
      ingestingSince = null;
      const batch = queue.splice(0, lim.ingestBatch);
      if (batch.length === 0) continue;
      ingestingSince = batch[0].at ?? null;
      try {
        const report = await ledger.ingest(batch.map((b) => b.h));
        stats.ingestFailed += report.rejected.length;
        stats.stored += report.added;
        if (report.pending > 0) hooks.onPending?.();
      } catch {
        stats.ingestFailed += batch.length;
      } finally {
        ingestingSince = null;
        release(
          batch.length,
          batch.reduce((n, b) => n + b.bytes, 0)
        );
      }
    }
    ingestingSince = null;
    draining = undefined;
  };

  const judge = async (peer: PeerId, msg: Message): Promise<Verdict> => {
    if (stopped || msg.topic !== topic) return ignore;
    stats.received++;
    // Bounded before any parsing or queueing.
    const bytes = msg.data.byteLength;
    if (bytes > maxBytes) return reject(peer, msg, 'oversized-entry');
    // Off the topic (flow control), what still arrives is dropped unread: gossipsub validates
    // messages of a topic it left too, and the node joins again only once nothing is in progress,
    // so a peer that ignored the UNSUBSCRIBE and kept one message in progress at each check (a gap
    // entry waits 500 ms for its predecessor) would otherwise keep it off the topic for good.
    // Entries waiting for a predecessor hold their peer's share (link-wait-shares.ts), not the queue's.
    const queued = inProgress - waits.entries;
    if (shed.shed || queued >= lim.maxQueued || inProgressBytes - waits.bytes + bytes > lim.maxQueuedBytes) {
      stats.dropped++;
      resyncSoon();
      shedNow();
      return ignore;
    }
    let decoded: GossipEntries;
    try {
      decoded = decodeGossipMessage(msg.data, maxBytes);
    } catch (err) {
      return reject(peer, msg, errorCode(err));
    }
    stats.receivedEntries += decoded.entries.length;
    // The entries from the first one not stored here on (a batch is a run of one feed: the rest
    // link to what is stored). Those already stored are Ignored without verifying them again.
    const first = decoded.entries.findIndex((h) => !seen.has(toHex(h.hash)));
    if (first < 0) {
      stats.duplicates += decoded.entries.length;
      return ignore;
    }
    stats.duplicates += first;
    const items: Held[] = decoded.entries
      .slice(first)
      .map((h, i) => ({ h, bytes: decoded.encoded[first + i].byteLength }));
    return judgeRun(peer, msg, items);
  };

  /** Judges a run of one feed's entries (one message): all Accepted, or none. */
  const judgeRun = async (peer: PeerId, msg: Message, items: Held[]): Promise<Verdict> => {
    const held = items.map(() => false);
    for (const it of items) {
      inProgress++;
      inProgressBytes += it.bytes;
    }
    const hold = (i: number, refused = false): void => {
      items[i].at = Date.now();
      (refused ? refusedQueue : queue).push(items[i]);
      held[i] = true;
      draining ??= drain();
    };
    const holdAll = (refused: ReadonlySet<number> = new Set()): void => {
      if (stopped) return;
      for (let i = 0; i < items.length; i++) hold(i, refused.has(i));
    };
    const author = toHex(items[0].h.entry.author);
    // Marked before any await, so a successor judged meanwhile waits for this verdict.
    const judged = items.map(({ h }) => links.begin(author, h.entry.seq, toHex(h.hash), toHex(h.entry.prev)));
    let learnt = false;
    let rejected = false;
    try {
      // The ledger's own checks, so what is forwarded is what every honest ledger accepts.
      // (Remembered: Ledger.ingest's own check of these entries does not verify them again.)
      await Promise.all(items.map(({ h }) => verifyHashed(h, ledger.networkId, ledger.genesis)));
      // Only runs that link to what this node knows are forwarded. An unknown predecessor (a gap)
      // is held here by the ledger (bounded pending, and it asks sync for the gap) but not
      // forwarded. A prev naming another entry than the one known here is not forwarded either,
      // but goes to the ledger all the same (verified above): its author signed it for that seq,
      // so the ledger remembers it as a refused variant or finds the fork against the entry it
      // holds there (PROTOCOL.md §6: either order). The run's later entries link to its first.
      const head = items[0].h;
      // A link check still waiting after the grace (for a predecessor never seen, or behind one
      // that is) takes the sending peer's share, the run whole, or the run is a gap now.
      const source = peer.toString();
      const runBytes = items.reduce((n, it) => n + it.bytes, 0);
      let took = false;
      let link: LinkVerdict;
      try {
        link = await withGrace(links.check(author, head.entry.seq, toHex(head.entry.prev)), lim.linkGraceMs, () => {
          took = waits.take(source, items.length, runBytes);
          return took;
        });
      } finally {
        if (took) waits.give(source, items.length, runBytes);
      }
      if (link !== 'links') {
        stats.unlinked += items.length;
        holdAll();
        return ignore;
      }
      // Validly signed but refused by the causal rules (when this node can judge): not forwarded.
      // Ignored, not rejected: the peer that carried it (often the relay) is not to blame. Every
      // entry of the run is judged, each on top of the ones before it (Ledger.precheckRun), so
      // a run that hides a refused entry behind a valid head is not forwarded either (before,
      // only the head was judged here). The refused entry is remembered by the ledger as a
      // variant of its seq (Ledger.rememberRefused: no ingest, unless it holds another entry
      // there, then fork evidence); the run's other entries go to the ledger as usual (those
      // after it are refused there too: their predecessor is not applied). A run judged up to
      // an entry naming something missing here is forwarded, as a single such entry is.
      const run = await ledger.precheckRun(items.map((it) => it.h));
      if (run.verdict === 'refused') {
        stats.causalIgnored++;
        holdAll(new Set([run.at]));
        return ignore;
      }
      if (stopped) return ignore;
      stats.accepted += items.length;
      learnt = true;
      holdAll();
      return { verdict: TopicValidatorResult.Accept };
    } catch (err) {
      rejected = true;
      return reject(peer, msg, errorCode(err));
    } finally {
      // A rejected batch says nothing of its other entries: their marks just end ('void'), so an
      // honest run that shares one of them is not taken for a gap (review of 2026-12-03).
      for (const j of judged) j(learnt || (rejected ? 'void' : false));
      items.forEach((it, i) => held[i] || release(1, it.bytes));
    }
  };

  const validate = blameOrigin(judge, hooks);

  pubsub.topicValidators.set(topic, validate);
  pubsub.subscribe(topic);
  const offAppend = ledger.onAppend((h, origin) => {
    remember(toHex(h.hash));
    links.learn(toHex(h.entry.author), h.entry.seq, toHex(h.hash));
    if (origin !== 'local' || hooks.publishLocal === false) return;
    pubsub.publish(topic, encodeEntry(h.entry)).then(
      () => stats.published++,
      // No subscribers yet is normal for a lone tab; the entry is durable either way.
      () => undefined
    );
  });

  return {
    stats,
    settled: async () => {
      while (draining !== undefined) await draining;
    },
    stop(): void {
      stopped = true;
      clearTimeout(resync);
      clearInterval(shedTimer);
      queue.length = 0;
      refusedQueue.length = 0;
      offAppend();
      if (pubsub.topicValidators.get(topic) === validate) pubsub.topicValidators.delete(topic);
      pubsub.unsubscribe(topic);
    }
  };
}
