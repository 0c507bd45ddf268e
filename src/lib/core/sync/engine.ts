// The sync engine of one node: hello, Merkle exchanges, gap fill and serving range requests for
// every connected peer, over an injected transport (send bytes to a peer id; the driver hands
// received bytes to receive()). Pure: clock and randomness are injected, timers are the driver's
// tick() calls. Three drivers run it: libp2p streams in the worker, the simulation in test/sim,
// and (later) the relay's archive mode.
//
// Driver contract:
// - addPeer(id, { initiator }) when a connection opens (the dialler is the initiator);
//   removePeer(id) when it closes. receive(id, bytes) for each message from the peer.
// - tick() every ~250 ms (timeouts, periodic anti-entropy with jitter, scheduling).
// - syncAll() / syncWith(id) on anti-entropy triggers: an entry whose predecessor is missing,
//   the network coming back. A partition (fewer than half of the recently known peers
//   reachable, partition.ts) is detected here from addPeer/removePeer; its healing runs syncAll().
// - onPeerRejected(id, error): wrong network (disconnect and count it), malformed messages or
//   invalid entries (score or ban the peer).
import type { FeedHead } from '../types.js';
import { LedgerError } from '../errors.js';
import { bytesEqual, toHex } from '../bytes.js';
import { sha256 } from '../hash.js';
import { HeadsTree } from './merkle.js';
import { Exchange, type Difference, type ExchangeOptions } from './reconcile.js';
import { GapFill, type AuthorGap, type GapRequest } from './gap-fill.js';
import { PeerSession, type PeerSyncStatus } from './session.js';
import { PartitionMonitor, type PartitionChange, type PartitionOptions, type PartitionStatus } from './partition.js';
import type { SyncIngestReport, SyncReplica } from './replica.js';
import type { CompareMsg, EntriesMsg, ErrorMsg, GetMsg, HelloMsg, ReplyMsg, SyncMsg } from './messages.js';
import { decodeSyncMessage, encodeSyncMessage } from './codec.js';
import {
  SyncOversizedError,
  SyncProtocolError,
  SyncRangeMismatchError,
  SyncFeedVoidError,
  SyncUnavailableError,
  SyncWrongNetworkError
} from './errors.js';
import { answerShape, peek, type AnswerShape, type EntryPrefix } from './answer-shape.js';
import { OnDemandRequests } from './on-demand.js';
import { forkSeqOf, isVoidSeq } from '../void.js';
import { isBanOffence } from '../peers/offences.js';
import {
  GAP_BATCH_BYTES,
  GAP_REQUEST_TIMEOUT_MS,
  SYNC_EXCHANGE_TIMEOUT_MS,
  SYNC_ON_DEMAND_TRIES,
  SYNC_MAX_OPEN_EXCHANGES,
  SYNC_MAX_RANGE_ENTRIES,
  SYNC_MAX_SERVING,
  SYNC_PERIOD_MS,
  SYNC_COMPARE_BYTES_PER_HEAD,
  SYNC_COMPARE_BUDGET_SLACK,
  SYNC_PROTOCOL_VERSION,
  SYNC_SALT_BYTES
} from './constants.js';

/** What sync reads of an ingest rejection (the ledger's Rejection fits). */
interface Rejected {
  author?: string;
  seq?: number;
  /** Hash (hex) of the refused entry, when it decoded. */
  hash?: string;
  code?: string;
  message?: string;
}

/** Refusals of a validly signed entry for what its author put in it (not a relaying peer's fault). */
const AUTHOR_FAULTS: ReadonlySet<string> = new Set(['malformed-payload', 'foreign-client']);

/** Error code asking the peer to say hello again. */
const NO_HELLO = 'sync-no-hello';

/** Bytes served per range answer at most (a single larger entry is still sent on its own). */
const SERVE_MAX_BYTES = 2 * GAP_BATCH_BYTES;

export interface SyncEngineOptions {
  replica: SyncReplica;
  /** Sends one message to a peer (the driver frames it; the simulation may drop it). */
  send: (peer: string, bytes: Uint8Array) => void;
  now: () => number;
  /** Random bytes (crypto.getRandomValues in production, seeded in simulations). */
  randomBytes: (n: number) => Uint8Array;
  /** Anti-entropy period, ms; each peer is synced again after period × (1 + jitter in [0, 1)). */
  periodMs?: number;
  /** A peer was refused or sent invalid data (error code in `error.code`). */
  onPeerRejected?: (peer: string, error: LedgerError) => void;
  /** A comparison with `peer` finished (or its hello showed equal roots): where our heads and its differ (lag, clock/lag.ts). */
  onCompared?: (peer: string, diffs: Difference[]) => void;
  /**
   * Whether a comparison is wanted at once (the own-feed check holds a first write,
   * core/own-feed-check.ts): a peer's differing hello then starts an exchange right away even
   * when this node is not the initiator, instead of after a random part of the period.
   */
  compareAtOnce?: () => boolean;
  /**
   * How one answer of a peer went, for peer scoring (src/lib/core/peers): `useful` (a range
   * answer brought entries or fork evidence), `empty` (a range answer with nothing new, an error
   * answer), `late` (a range answer after its request timed out), `timeout` (a range request or
   * an exchange step unanswered). Finished exchanges are not scored: every live peer finishes
   * them, often, and they would wash out the rarer range answers that tell peers apart.
   */
  onPeerOutcome?: (peer: string, outcome: 'useful' | 'empty' | 'late' | 'timeout') => void;
  /** The node's peer score, used to rank gap-fill (and join) candidates; higher is better. */
  peerScore?: (peer: string) => number;
  /** Test and benchmark knobs. */
  exchange?: Partial<Pick<ExchangeOptions, 'maxTurnBytes' | 'timeoutMs'>>;
  gap?: { batchBytes?: number; batchSeqs?: number; timeoutMs?: number; maxRequestsTotal?: number };
  partition?: Omit<PartitionOptions, 'now'>;
}

export interface SyncStatus extends PartitionStatus {
  /** Stable Merkle root of our heads, hex. */
  root: string;
  feeds: number;
  /** Entries known to be missing (and fork evidence to fetch), as claimed by connected peers. */
  missing: number;
  /** Feeds (and forks) claimed only by peers that left or answered "nothing" (GapStatus.unconfirmed). */
  unconfirmed: number;
  missingAuthors: number;
  /** Entries missing per author, largest first, at most GAP_STATUS_MAX_AUTHORS (see GapStatus.byAuthor). */
  missingByAuthor: AuthorGap[];
  /** Last time our root equalled a peer's, ms. */
  lastEqualRootAt: number | null;
  /** Peers refused for another network or protocol version. */
  rejectedPeers: number;
  peers: PeerSyncStatus[];
}

export class SyncEngine {
  readonly tree: HeadsTree;
  private readonly gap: GapFill;
  private readonly partition: PartitionMonitor;
  private readonly sessions = new Map<string, PeerSession>();
  /** Sessions whose exchange compareAtOnce started early (at most once each). */
  private readonly eagerStarted = new WeakSet<PeerSession>();
  private readonly onDemand = new OnDemandRequests();
  /** requestRange calls waiting for a peer's hello (resolved on any hello, or at their deadline). */
  private helloWaiters: { resolve: () => void; deadline: number }[] = [];
  private readonly unsubscribe: () => void;
  private lastEqualRootAt: number | null = null;
  private rejectedPeers = 0;
  private closed = false;

  constructor(private readonly opts: SyncEngineOptions) {
    this.tree = HeadsTree.from(opts.replica.heads());
    this.partition = new PartitionMonitor({ now: opts.now, ...opts.partition });
    this.unsubscribe = opts.replica.onHeadsChanged((hs, complete) => this.headsChanged(hs, complete === true));
    this.gap = new GapFill({
      now: opts.now,
      random: () => this.random(),
      // A void feed (void.ts): its canonical top k, and its fork seq.
      localHead: (a) => {
        const h = this.tree.get(a);
        if (h === undefined) return 0;
        return isVoidSeq(h.seq) ? (opts.replica.voidTop?.(a)?.seq ?? 0) : h.seq;
      },
      localVoidFrom: (a) => {
        const h = this.tree.get(a);
        return h !== undefined && isVoidSeq(h.seq) ? forkSeqOf(h.seq) : undefined;
      },
      peerScore: opts.peerScore,
      busyMs: (peer) => this.sessions.get(peer)?.busyMs(opts.now()) ?? 0,
      ...opts.gap
    });
  }

  // ---- driver calls ----

  /** A connection opened: says hello. The initiator starts the first exchange if roots differ. */
  addPeer(peer: string, o: { initiator: boolean; rttMs?: number }): void {
    if (this.closed || this.sessions.has(peer)) return;
    const s = new PeerSession(peer, o.initiator, this.opts.randomBytes(SYNC_SALT_BYTES), this.opts.now());
    this.sessions.set(peer, s);
    this.gap.addPeer(peer, { rttMs: o.rttMs, holdsFrom: (a) => s.holdsFrom(a) });
    this.sayHello(s);
  }

  removePeer(peer: string): void {
    this.sessions.delete(peer);
    this.onDemand.dropPeer(peer);
    this.gap.removePeer(peer);
    this.partitionChanged(this.partition.disconnected(peer));
  }

  setRtt(peer: string, rttMs: number): void {
    this.gap.setRtt(peer, rttMs);
  }

  /** Starts an exchange with every ready peer (anti-entropy trigger). */
  syncAll(): void {
    for (const s of this.sessions.values()) this.startExchange(s);
  }

  syncWith(peer: string): void {
    const s = this.sessions.get(peer);
    if (s) this.startExchange(s);
  }

  /** Timeouts, periodic anti-entropy, gap-fill scheduling. Call every ~250 ms. */
  tick(): void {
    if (this.closed) return;
    const now = this.opts.now();
    for (const s of this.sessions.values()) {
      for (const map of [s.mine, s.theirs]) {
        for (const x of [...map.values()]) {
          if (!x.expired(now)) continue;
          map.delete(x.xid);
          s.exchangesFailed++;
          this.opts.onPeerOutcome?.(s.peer, 'timeout');
          // A lost step: try again soon (jittered) rather than a whole period later.
          if (x.initiator) s.nextSyncAt = Math.min(s.nextSyncAt, now + this.exchangeTimeout() * this.random());
        }
      }
      if (s.hello && !s.rejected && now >= s.nextSyncAt) this.startExchange(s);
      // No hello from the peer yet: ours may have been lost; say it again after a timeout.
      if (!s.hello && !s.rejected && now - s.helloSentAt > this.exchangeTimeout()) this.sayHello(s);
    }
    this.partitionChanged(this.partition.evaluate());
    for (const { peer, rid } of this.onDemand.expire(now)) {
      // Not a catch-up range (not in rangesAsked/rangesTimedOut), but an answer after it is late.
      this.sessions.get(peer)?.rememberTimedOut(rid);
      this.opts.onPeerOutcome?.(peer, 'timeout');
    }
    this.wakeHelloWaiters((w) => now >= w.deadline);
    for (const r of this.gap.tick()) {
      const s = this.sessions.get(r.peer);
      s?.rangeTimedOut(r);
      this.opts.onPeerOutcome?.(r.peer, 'timeout');
    }
    this.pump();
  }

  /**
   * Handles one message (bytes as framed by the driver) from a peer. Resolves once any serving or
   * ingest it caused is done. Peer faults never throw: they are answered with an error message
   * and reported through onPeerRejected. Rejects only when the replica itself fails (e.g.
   * a storage error in ingest); the range is then asked again after a backoff.
   */
  async receive(peer: string, bytes: Uint8Array): Promise<void> {
    const s = this.sessions.get(peer);
    if (!s || s.rejected || this.closed) return;
    s.bytesIn += bytes.length;
    let msg: SyncMsg;
    try {
      msg = decodeSyncMessage(bytes);
    } catch (e) {
      this.refuse(s, e as LedgerError, 0, 0);
      return;
    }
    // Handling the peer's answers to our requests (their ingest) is our time, not the peer's:
    // the timeouts of its other requests and steps, which wait behind it, do not count it
    // (peer-wait.ts). The work it asks of us (serving its requests, its compare steps) is not
    // left out: else a peer streaming cheap requests would stretch every timeout to the cap.
    const ours = msg.t === 'entries';
    if (ours) s.handle(this.opts.now());
    try {
      await this.dispatch(s, msg);
    } catch (e) {
      if (e instanceof SyncProtocolError) this.refuse(s, e, 0, 0);
      else throw e;
    } finally {
      if (ours) s.handled(this.opts.now());
    }
  }

  status(): SyncStatus {
    const g = this.gap.status();
    const perPeer = new Map<string, number>();
    for (const r of g.inFlight) perPeer.set(r.peer, (perPeer.get(r.peer) ?? 0) + 1);
    return {
      root: toHex(this.tree.rootHash()),
      feeds: this.tree.size,
      missing: g.missing,
      unconfirmed: g.unconfirmed,
      missingAuthors: g.authors,
      missingByAuthor: g.byAuthor,
      lastEqualRootAt: this.lastEqualRootAt,
      rejectedPeers: this.rejectedPeers,
      ...this.partition.status(),
      peers: [...this.sessions.values()].map((s) => s.status(perPeer.get(s.peer) ?? 0, this.opts.now()))
    };
  }

  /** Nothing in flight and nothing known missing. */
  idle(): boolean {
    if (this.gap.busy()) return false;
    for (const s of this.sessions.values()) if (s.mine.size + s.theirs.size + s.serving > 0) return false;
    return true;
  }

  /**
   * Fetches `author`'s entries from `from` (up to `to`) from a connected peer, for the caller
   * rather than the ledger (history a light replica pruned). Asks peers whose hello covers
   * `from`, full replicas first, then by score, skipping `exclude` (and any but `only` when
   * given); a peer that answers with nothing is skipped for the next one, and so is one that times
   * out or refuses (SYNC_ON_DEMAND_TRIES of those at most). A peer answering with fork evidence
   * (the feed is void there) has it ingested, and SyncFeedVoidError is thrown. With no ready
   * holder yet (links just opened), it first waits for a peer's hello, one request timeout. Returns
   * the first non-empty answer that is a prefix of the range (entries from `from` on, at most
   * GAP_BATCH_BYTES unless one entry is larger), with that byte cap. The entries are NOT verified: the caller checks
   * them (history/verify-chain.ts) and reports a bad peer with reportInvalid().
   * Throws SyncUnavailableError when no peer served it.
   */
  async requestRange(
    author: string,
    from: number,
    to: number,
    o: { exclude?: ReadonlySet<string>; only?: string } = {}
  ): Promise<{ peer: string; entries: Uint8Array[]; maxBytes: number }> {
    if (!(Number.isSafeInteger(from) && from >= 1 && Number.isSafeInteger(to) && to >= from))
      throw new RangeError(`invalid range ${from}..${to}`);
    let lastError: Error | undefined;
    let failures = 0;
    const maxBytes = this.opts.gap?.batchBytes ?? GAP_BATCH_BYTES;
    const pick = (): PeerSession[] =>
      this.rangeHolders(author, from, o.exclude).filter((s) => o.only === undefined || s.peer === o.only);
    let holders = pick();
    // None ready yet (a link just opened, its hello on the way): wait for a hello, one timeout.
    if (holders.length === 0 && !this.closed) {
      await new Promise<void>((resolve) =>
        this.helloWaiters.push({
          resolve,
          deadline: this.opts.now() + this.requestTimeout()
        })
      );
      holders = pick();
    }
    // Every holder, one after another: an answer of "nothing" costs one round trip, so peers answering
    // "nothing" cannot hide one that holds the range; timeouts and errors end it after a few.
    for (const s of holders) {
      if (failures >= SYNC_ON_DEMAND_TRIES || !this.sessions.has(s.peer)) continue;
      const deadline = this.opts.now() + this.requestTimeout();
      const { msg, done } = this.onDemand.open(s.peer, { author, from, to, maxBytes }, deadline);
      this.send(s, msg);
      let entries: Uint8Array[];
      try {
        entries = await done;
      } catch (e) {
        failures++;
        lastError = e as Error;
        continue;
      }
      const heads = entries.map(peek);
      const shape = entries.length > 0 ? answerShape(heads, author, from, to) : null;
      const bytes = entries.reduce((n, e) => n + e.length, 0);
      if (shape === 'chain' && heads[0] !== null && (entries.length === 1 || bytes <= maxBytes)) {
        this.opts.onPeerOutcome?.(s.peer, 'useful');
        return { peer: s.peer, entries, maxBytes };
      }
      if (shape === 'chain-evidence' && heads[0] !== null && bytes <= maxBytes) {
        // The range reaches the feed's fork: the pair is evidence (ingested as gap fill takes
        // it), the prefix before it is the answer.
        await this.opts.replica.ingest(entries.slice(-2));
        this.opts.onPeerOutcome?.(s.peer, 'useful');
        return { peer: s.peer, entries: entries.slice(0, -2), maxBytes };
      }
      if (shape === 'evidence') {
        // The feed is void (a fork at or below `from`): its evidence, as gap fill takes it. The
        // caller's history ends below the fork; the peer served what the protocol says.
        await this.opts.replica.ingest(entries);
        throw new SyncFeedVoidError(`${author.slice(0, 8)}… is void (a fork at or below seq ${from})`);
      }
      if (shape === 'chain' || shape === 'chain-evidence')
        this.opts.onPeerRejected?.(s.peer, new SyncOversizedError('range answer larger than asked'));
      else if (entries.length > 0) this.opts.onPeerRejected?.(s.peer, new SyncRangeMismatchError());
      else this.opts.onPeerOutcome?.(s.peer, 'empty');
      lastError = new SyncUnavailableError(`peer ${s.peer} had nothing of the range`);
    }
    throw lastError ?? new SyncUnavailableError(`no connected peer holds ${author.slice(0, 8)}… from seq ${from}`);
  }

  /** requestRange calls awaiting an answer (or a peer's hello). */
  get onDemandInFlight(): number {
    return this.onDemand.size + this.helloWaiters.length;
  }

  /** A peer's answer to requestRange failed the caller's checks (onPeerRejected: scored or banned). */
  reportInvalid(peer: string, error: LedgerError): void {
    // Also when it has left meanwhile: hanging up before the verdict must not spare a forger.
    this.opts.onPeerRejected?.(peer, error);
  }

  private wakeHelloWaiters(which: (w: { deadline: number }) => boolean): void {
    if (this.helloWaiters.length === 0) return;
    const wake = this.helloWaiters.filter(which);
    this.helloWaiters = this.helloWaiters.filter((w) => !which(w));
    for (const w of wake) w.resolve();
  }

  /** Ready peers whose coverage includes `from` of `author`: full replicas first, then by score. */
  private rangeHolders(author: string, from: number, exclude?: ReadonlySet<string>): PeerSession[] {
    const score = (p: string): number => this.opts.peerScore?.(p) ?? 0;
    return [...this.sessions.values()]
      .filter((s) => s.hello && !s.rejected && !exclude?.has(s.peer) && s.holdsFrom(author) <= from)
      .sort(
        (a, b) => Number(b.hello!.role === 'full') - Number(a.hello!.role === 'full') || score(b.peer) - score(a.peer)
      );
  }

  close(): void {
    this.closed = true;
    this.onDemand.close();
    this.wakeHelloWaiters(() => true);
    this.unsubscribe();
    this.sessions.clear();
  }

  // ---- internals ----

  private random(): number {
    const b = this.opts.randomBytes(4);
    return (((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) / 2 ** 32;
  }

  /** A partition healed: compare with every peer (anti-entropy trigger). */
  private partitionChanged(change: PartitionChange): void {
    if (change === 'healed') this.syncAll();
  }

  private headsChanged(heads: FeedHead[], complete: boolean): void {
    if (complete) {
      // A rebuilt replica: make the tree equal to the given set (O(changes × depth)).
      const keep = new Set(heads.map((h) => h.author));
      for (const h of this.tree.heads()) if (!keep.has(h.author)) this.tree.remove(h.author);
      for (const h of heads) this.tree.set(h);
      return;
    }
    for (const h of heads) {
      const cur = this.tree.get(h.author);
      // A void head keeps its seq while the canonical part it binds grows (void.ts).
      if (!cur || h.seq > cur.seq || (h.seq === cur.seq && h.hash !== cur.hash && isVoidSeq(h.seq))) this.tree.set(h);
    }
  }

  private sayHello(s: PeerSession): void {
    s.helloSentAt = this.opts.now();
    this.send(s, this.hello(s));
  }

  private hello(s: PeerSession): HelloMsg {
    const r = this.opts.replica;
    return {
      t: 'hello',
      version: SYNC_PROTOCOL_VERSION,
      network: r.networkId,
      role: r.role,
      root: this.tree.rootHash(),
      feeds: this.tree.size,
      entries: r.entryCount(),
      coverage: r.coverage(),
      salt: s.salt
    };
  }

  private send(s: PeerSession, m: SyncMsg): number {
    const bytes = encodeSyncMessage(m);
    s.bytesOut += bytes.length;
    this.opts.send(s.peer, bytes);
    return bytes.length;
  }

  /**
   * Compare bytes a peer may make us send in exchanges it begins, per period: one naming of every
   * head we hold, plus some slack. Past it, its begins are refused (sync-busy) until it drains,
   * whatever root they state (a made-up root is never "the same comparison": resync-break5).
   */
  private compareBudget(): number {
    return this.tree.size * SYNC_COMPARE_BYTES_PER_HEAD + SYNC_COMPARE_BUDGET_SLACK;
  }

  private chargeCompare(s: PeerSession, bytes: number): void {
    s.chargeCompare(this.opts.now(), bytes, this.compareBudget(), this.opts.periodMs ?? SYNC_PERIOD_MS);
  }

  private refuse(s: PeerSession, e: LedgerError, rid: number, xid: number): void {
    this.send(s, { t: 'error', rid, xid, code: e.code, message: e.message });
    this.opts.onPeerRejected?.(s.peer, e);
  }

  private requestTimeout(): number {
    return this.opts.gap?.timeoutMs ?? GAP_REQUEST_TIMEOUT_MS;
  }

  private exchangeTimeout(): number {
    return this.opts.exchange?.timeoutMs ?? SYNC_EXCHANGE_TIMEOUT_MS;
  }

  /** Exchange options for exchanges with `s`'s peer (its steps wait behind our handling of its messages). */
  private exchangeOpts(s: PeerSession): ExchangeOptions {
    const busyMs = (): number => s.busyMs(this.opts.now());
    return { random: this.opts.randomBytes, now: this.opts.now, busyMs, ...this.opts.exchange };
  }

  private startExchange(s: PeerSession): void {
    if (!s.hello || s.rejected || s.mine.size > 0) return;
    const period = this.opts.periodMs ?? SYNC_PERIOD_MS;
    s.nextSyncAt = this.opts.now() + period * (1 + this.random());
    const root = this.tree.rootHash();
    const eager = !(s.peerRoot && bytesEqual(s.peerRoot, root));
    const { exchange, begin } = Exchange.initiate(this.tree, s.nextXid++, s.hello.salt, this.exchangeOpts(s), eager);
    s.mine.set(exchange.xid, exchange);
    this.send(s, begin);
  }

  private finished(s: PeerSession, x: Exchange): void {
    (x.initiator ? s.mine : s.theirs).delete(x.xid);
    const roots = s.beganWith.get(x);
    if (roots !== undefined) s.lastServed = { ...roots, at: this.opts.now() };
    s.exchangesCompleted++;
    const now = this.opts.now();
    s.lastSyncAt = now;
    const diffs = x.differences();
    // No difference found although the roots differed (a fingerprint collision under this
    // exchange's salt, or a head changed meanwhile): not equal; the next exchange looks again.
    const equal = diffs.length === 0 && !x.rootsDiffered;
    s.peerRoot = equal ? this.tree.rootHash() : null;
    if (equal) {
      s.lastEqualAt = now;
      this.lastEqualRootAt = now;
    }
    this.gap.learn(s.peer, diffs);
    this.opts.onCompared?.(s.peer, diffs);
    this.pump();
  }

  private async dispatch(s: PeerSession, m: SyncMsg): Promise<void> {
    if (m.t === 'hello') return this.onHello(s, m);
    if (m.t === 'error') return this.onError(s, m);
    if (!s.hello) {
      // Our peer's hello has not arrived (lost, or still on its way): ask for it again.
      this.send(s, { t: 'error', rid: 0, xid: 0, code: NO_HELLO, message: `${m.t} before hello` });
      return;
    }
    switch (m.t) {
      case 'begin': {
        if (s.theirs.size >= SYNC_MAX_OPEN_EXCHANGES || s.theirs.has(m.xid)) {
          this.send(s, { t: 'error', rid: 0, xid: m.xid, code: 'sync-busy', message: 'too many open exchanges' });
          return;
        }
        const budget = this.compareBudget();
        if (s.compareOwed(this.opts.now(), budget, this.opts.periodMs ?? SYNC_PERIOD_MS) > budget) {
          this.send(s, { t: 'error', rid: 0, xid: m.xid, code: 'sync-busy', message: 'too many comparisons' });
          return;
        }
        // The same comparison again (neither root moved since the last one with this peer
        // completed), too soon: refused cheaply. An honest peer repeats it only periodically; a
        // hostile one would make us list every head we hold again and again.
        const roots = { theirs: toHex(m.root), ours: toHex(this.tree.rootHash()) };
        const last = s.lastServed;
        if (
          last !== null &&
          last.theirs === roots.theirs &&
          last.ours === roots.ours &&
          this.opts.now() - last.at < (this.opts.periodMs ?? SYNC_PERIOD_MS) / 2
        ) {
          this.send(s, {
            t: 'error',
            rid: 0,
            xid: m.xid,
            code: 'sync-busy',
            message: 'same comparison again too soon'
          });
          return;
        }
        const { exchange, reply } = Exchange.respond(this.tree, m, s.salt, this.exchangeOpts(s));
        s.beganWith.set(exchange, roots);
        this.chargeCompare(s, this.send(s, reply));
        if (exchange.done) this.finished(s, exchange);
        else s.theirs.set(m.xid, exchange);
        return;
      }
      case 'reply':
      case 'compare':
        return this.onTurn(s, m);
      case 'get':
        return this.serve(s, m);
      case 'entries':
        return this.onEntries(s, m);
    }
  }

  /** compareAtOnce for a session that is not the initiator: once per session, so repeated hellos start no more. */
  private eagerOnce(s: PeerSession): boolean {
    if (this.eagerStarted.has(s) || this.opts.compareAtOnce?.() !== true) return false;
    this.eagerStarted.add(s);
    return true;
  }

  private onHello(s: PeerSession, m: HelloMsg): void {
    // A repeated hello (ours was thought lost) replaces the first: same checks, same effects.
    if (m.version !== SYNC_PROTOCOL_VERSION || !bytesEqual(m.network, this.opts.replica.networkId)) {
      s.rejected = true;
      this.rejectedPeers++;
      this.refuse(s, new SyncWrongNetworkError(), 0, 0);
      this.gap.removePeer(s.peer);
      this.partitionChanged(this.partition.forget(s.peer));
      return;
    }
    s.setHello(m);
    this.partitionChanged(this.partition.connected(s.peer));
    this.wakeHelloWaiters(() => true);
    if (bytesEqual(m.root, this.tree.rootHash())) {
      s.lastEqualAt = this.lastEqualRootAt = this.opts.now();
      this.opts.onCompared?.(s.peer, []);
      s.nextSyncAt = this.opts.now() + (this.opts.periodMs ?? SYNC_PERIOD_MS) * (1 + this.random());
    } else if (s.initiator || this.eagerOnce(s)) this.startExchange(s);
    else s.nextSyncAt = this.opts.now() + (this.opts.periodMs ?? SYNC_PERIOD_MS) * this.random();
  }

  private onError(s: PeerSession, m: ErrorMsg): void {
    // Our hello was lost: say it again, at most once per exchange timeout (a hello may be large: a
    // light replica's coverage), so a stream of tiny errors cannot make us upload it each time.
    if (m.code === NO_HELLO) {
      const now = this.opts.now();
      if (s.helloResentAt === null || now - s.helloResentAt >= this.exchangeTimeout()) {
        s.helloResentAt = now;
        this.sayHello(s);
      }
      return;
    }
    if (m.code === new SyncWrongNetworkError().code && !s.rejected) {
      s.rejected = true;
      this.rejectedPeers++;
      this.gap.removePeer(s.peer);
      this.partitionChanged(this.partition.forget(s.peer));
    }
    if (m.rid && this.onDemand.owns(m.rid)) {
      this.onDemand.refuse(m.rid, s.peer, m.code);
      return;
    }
    if (m.rid && this.gap.pending(m.rid, s.peer)) {
      // An error answer ("sync-busy"...) counts towards refusing the claim like a timeout: a peer
      // answering every request with an error cannot hold a claim (or a fork want) for good.
      this.gap.fail(m.rid, true, true);
      s.rangesRefused++;
      this.opts.onPeerOutcome?.(s.peer, 'empty');
    }
    if (m.xid && s.mine.delete(m.xid)) s.exchangesFailed++;
  }

  private onTurn(s: PeerSession, m: ReplyMsg | CompareMsg): void {
    // The initiator sends even steps: an even compare belongs to an exchange the peer started.
    const x = m.t === 'reply' || m.step % 2 === 1 ? s.mine.get(m.xid) : s.theirs.get(m.xid);
    if (!x) return; // finished, expired or unknown: ignore (duplicates and late steps)
    let out: CompareMsg | null;
    try {
      out = x.receive(m);
    } catch (e) {
      (x.initiator ? s.mine : s.theirs).delete(x.xid);
      s.exchangesFailed++;
      throw e;
    }
    if (out) {
      const bytes = this.send(s, out);
      if (!x.initiator) this.chargeCompare(s, bytes);
    }
    if (x.done) this.finished(s, x);
  }

  private async serve(s: PeerSession, m: GetMsg): Promise<void> {
    if (s.serving >= SYNC_MAX_SERVING) {
      this.send(s, { t: 'error', rid: m.rid, xid: 0, code: 'sync-busy', message: 'too many range requests' });
      return;
    }
    if (m.from < 1 || m.to < m.from) throw new SyncProtocolError('empty or invalid range');
    const to = Math.min(m.to, m.from + SYNC_MAX_RANGE_ENTRIES - 1);
    s.serving++;
    try {
      const entries = await this.opts.replica.getRange(m.author, m.from, to, Math.min(m.maxBytes, SERVE_MAX_BYTES));
      if (!this.sessions.has(s.peer)) return;
      s.entriesOut += entries.length;
      this.send(s, { t: 'entries', rid: m.rid, entries });
    } finally {
      s.serving--;
    }
  }

  /**
   * An `entries` message that answers no request in flight (late or unsolicited): counted and
   * scored late. Returns the timed-out catch-up range it answers, if any (ingestLate).
   */
  private answeredNoRequest(s: PeerSession, rid: number): GapRequest | undefined {
    const late = s.answerToNoRequest(rid);
    this.opts.onPeerOutcome?.(s.peer, 'late');
    return late;
  }

  /**
   * True when the local feed of `req.author` (not void) already reaches the last seq of a plain
   * answer of `n` entries to `req` (from `req.from` on): the answer can bring nothing new.
   */
  private holdsAll(req: GapRequest, n: number): boolean {
    const local = this.tree.get(req.author)?.seq ?? 0;
    return n > 0 && !isVoidSeq(local) && req.from + n - 1 <= local;
  }

  /**
   * A late answer: `req` had timed out (a starved or distant peer answers after
   * GAP_REQUEST_TIMEOUT_MS) and was queued again. A plain range of what was asked (shape and byte
   * cap checked as in time) is ingested all the same, unless the local feed has reached its end
   * meanwhile: otherwise the serving, the transfer and the entries were thrown away and asked
   * again, under load about as slowly (S10: 2–56 of ~220–260 ranges a node, every one answered
   * late). Fork evidence and appended pairs are taken only in time (the fork search settles
   * them). The peer is held to the same rules (a bad shape, an oversized answer or an invalid
   * entry of the answer counts against it); the lateness was counted when the request timed out.
   */
  private async ingestLate(s: PeerSession, m: EntriesMsg, req: GapRequest): Promise<void> {
    if (req.priority === 'fork') return;
    const checked = this.checkAnswer(s, req, m);
    if (typeof checked === 'string' || checked.shape !== 'chain') return;
    const { heads } = checked;
    if (m.entries.length === 0 || this.holdsAll(req, m.entries.length)) return; // nothing new for us
    this.checkLink(s.peer, req, heads[0]);
    const report = await this.opts.replica.ingest(m.entries);
    s.entriesIn += report.added;
    s.invalidIn += report.rejected.length;
    this.gap.lateDelivered(req, report.added);
    if (report.added > 0) this.opts.onPeerOutcome?.(s.peer, 'useful'); // it was also counted late
    this.blame(s, report.rejected, req, heads, m.entries, m.entries.length);
    this.pump();
  }

  private async onEntries(s: PeerSession, m: EntriesMsg): Promise<void> {
    if (this.onDemand.owns(m.rid)) {
      if (!this.onDemand.answer(m.rid, s.peer, m.entries)) this.answeredNoRequest(s, m.rid);
      return;
    }
    const req: GapRequest | undefined = this.gap.pending(m.rid, s.peer);
    if (!req) {
      const late = this.answeredNoRequest(s, m.rid);
      if (late !== undefined) await this.ingestLate(s, m, late);
      return;
    }
    const checked = this.checkAnswer(s, req, m);
    if (typeof checked === 'string') {
      this.gap.fail(req.rid);
      if (checked === 'mismatch') this.pump();
      return;
    }
    const { heads, shape, bytes } = checked;
    const pair = shape === 'chain-evidence';
    if (shape === 'chain' || pair) this.checkLink(s.peer, req, heads[0]);
    const filledMeanwhile = shape === 'chain' && this.holdsAll(req, m.entries.length);
    // An appended pair goes first: both variants are then seen as evidence before either could
    // chain onto the prefix (which the ledger would count as applied, and rebuild its state for).
    const batch = pair ? [...m.entries.slice(-2), ...m.entries.slice(0, -2)] : m.entries;
    // In hand: however long the ingest takes, the range is not asked again meanwhile.
    this.gap.answered(req.rid);
    let report: SyncIngestReport;
    try {
      report = batch.length > 0 ? await this.opts.replica.ingest(batch) : { added: 0, forks: 0, rejected: [] };
    } catch (e) {
      this.gap.fail(req.rid); // our storage failed: the range is asked again after a backoff
      throw e;
    }
    s.entriesIn += report.added;
    s.invalidIn += report.rejected.length;
    this.gap.settle(req.rid, {
      // With a pair appended, the prefix of the range is what was received of it.
      received: m.entries.length - (pair ? 2 : 0),
      added: report.added,
      held: report.pending ?? 0,
      dropped: report.dropped ?? 0,
      forks: report.forks,
      rejected: report.rejected.length,
      evidence: shape === 'evidence',
      pair,
      bytes,
      largest: m.entries.reduce((n, e) => Math.max(n, e.length), 0),
      filledMeanwhile
    });
    if (report.added + report.forks + (report.pending ?? 0) > 0) this.opts.onPeerOutcome?.(s.peer, 'useful');
    else if (report.rejected.length === 0 && !filledMeanwhile) this.opts.onPeerOutcome?.(s.peer, 'empty');
    const evidenceFrom = shape === 'evidence' ? 0 : pair ? m.entries.length - 2 : m.entries.length;
    this.blame(s, report.rejected, req, heads, m.entries, evidenceFrom);
    this.pump();
  }

  /**
   * The shape and byte-cap checks of an answer to `req`, in time or late: its entries' prefixes,
   * shape (answer-shape.ts) and bytes; or, having counted it against the peer, 'mismatch' (not
   * the range asked) or 'oversized' (a range over the byte cap asked).
   */
  private checkAnswer(
    s: PeerSession,
    req: GapRequest,
    m: EntriesMsg
  ): { heads: (EntryPrefix | null)[]; shape: NonNullable<AnswerShape>; bytes: number } | 'mismatch' | 'oversized' {
    const heads = m.entries.map(peek); // read once: shape, link and blame checks use it
    const shape = answerShape(heads, req.author, req.from, req.to);
    if (shape === null) {
      s.invalidIn += m.entries.length;
      this.opts.onPeerRejected?.(s.peer, new SyncRangeMismatchError());
      return 'mismatch';
    }
    // The byte cap binds a range (with a fork pair appended: the whole answer); fork evidence
    // alone is two whole entries whatever their size.
    const bytes = m.entries.reduce((n, e) => n + e.length, 0);
    if ((shape === 'chain' || shape === 'chain-evidence') && m.entries.length > 1 && bytes > req.maxBytes) {
      s.invalidIn += m.entries.length;
      this.opts.onPeerRejected?.(s.peer, new SyncOversizedError('range answer larger than asked'));
      return 'oversized';
    }
    return { heads, shape, bytes };
  }

  /** Holds against the peer the rejection of its answer that is its fault (blameable), if any. */
  private blame(
    s: PeerSession,
    rejected: readonly unknown[],
    req: GapRequest,
    heads: readonly (EntryPrefix | null)[],
    entries: readonly Uint8Array[],
    evidenceFrom: number
  ): void {
    const b = this.blameable(rejected, req, heads, entries, evidenceFrom);
    if (b === undefined) return;
    this.opts.onPeerRejected?.(
      s.peer,
      new LedgerError('InvalidEntriesError', b.code ?? 'invalid-entries', b.message ?? 'invalid entries')
    );
  }

  /**
   * A range that should continue our head (from = local + 1) but whose first entry links to
   * another entry: the peer holds another branch of the author's feed, forked at or below our
   * head, which the Merkle comparison cannot see when its branch is longer ("5 vs 10"). Its
   * entry at our head's seq is fork evidence: fetch it from that peer like a same-seq fork.
   */
  private checkLink(peer: string, req: GapRequest, first: EntryPrefix | null | undefined): void {
    const local = this.tree.get(req.author);
    if (!first || local === undefined) return;
    // A void feed here: its canonical top k (void.ts) is what the answer continues.
    const top = isVoidSeq(local.seq) ? this.opts.replica.voidTop?.(req.author) : local;
    if (top === undefined || top.seq === 0 || req.from !== top.seq + 1 || first.prev === top.hash) return;
    if (isVoidSeq(local.seq)) this.gap.forkAt(peer, req.author, top.seq);
    else this.gap.learn(peer, [{ author: req.author, mine: local.seq, theirs: local.seq, fork: true }]);
  }

  /**
   * The rejection to hold against the peer that answered `req`. A ban offence (bad signature,
   * wrong network, malformed...) always comes from the answer itself: pending entries that the
   * same ingest settles were verified when they arrived. Other refusals (a broken link, the
   * causal rules) may belong to entries other peers sent earlier that were waiting for these,
   * so they count only when they name an entry of the requested range (or no entry at all).
   */
  private blameable(
    rejected: readonly unknown[],
    req: GapRequest,
    sent: readonly (EntryPrefix | null)[],
    bytes: readonly Uint8Array[],
    evidenceFrom: number
  ): Rejected | undefined {
    const all = rejected as Rejected[];
    // A ban offence counts only for an entry of this answer, told by its hash: entries waiting
    // in the pending buffer (sent by others, e.g. by gossip) may be judged in the same ingest,
    // and may be another variant of the same seq.
    let hashes: Set<string> | undefined;
    const inAnswer = (r: Rejected): boolean => {
      if (r.hash === undefined)
        return r.author === undefined || sent.some((h) => h !== null && h.author === r.author && h.seq === r.seq);
      hashes ??= new Set(bytes.map((b) => toHex(sha256(b))));
      return hashes.has(r.hash);
    };
    // Fork evidence is served as the protocol says, whatever its entries hold: an entry signed by
    // its author that is refused for its payload proves the author's fault, not the server's.
    // (`evidenceFrom`: the index where the evidence starts, 0 for evidence alone, the length of
    // the answer for none; an appended pair sits at one seq, above the prefix.)
    const pairSeq = sent[evidenceFrom]?.seq;
    const isEvidence = (r: Rejected): boolean =>
      evidenceFrom === 0 || (pairSeq !== undefined && r.author === req.author && r.seq === pairSeq);
    const offence = (r: Rejected): boolean =>
      isBanOffence(r.code) && !(AUTHOR_FAULTS.has(r.code ?? '') && isEvidence(r));
    return (
      all.find((r) => offence(r) && inAnswer(r)) ??
      // Other refusals (scored, never banned) in the requested range.
      all.find(
        (r) =>
          !isBanOffence(r.code) &&
          (r.author === undefined ||
            r.seq === undefined ||
            (r.author === req.author && r.seq >= req.from && r.seq <= req.to))
      )
    );
  }

  private pump(): void {
    if (this.closed) return;
    for (const r of this.gap.next()) {
      const s = this.sessions.get(r.peer);
      if (!s) {
        this.gap.fail(r.rid);
        continue;
      }
      s.rangesAsked++;
      this.send(s, { t: 'get', rid: r.rid, author: r.author, from: r.from, to: r.to, maxBytes: r.maxBytes });
    }
  }
}
