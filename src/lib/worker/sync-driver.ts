// Runs the sync engine (src/lib/core/sync) over libp2p streams. One stream per direct WebRTC
// connection pair: the peer with the smaller id opens it (and is the engine's initiator), the
// other accepts it; both sides addPeer. Messages are varint length-prefixed frames whose length
// is checked against SYNC_MAX_MESSAGE_BYTES before anything is buffered for decoding. Each peer
// has a bounded send queue; a write that does not drain in time, or a queue over its cap, drops
// the stream (a slow peer costs a timeout, never a stall), and the opener opens a new one while
// the connection lasts.
//
// Besides direct WebRTC links, sync also runs over any other unlimited (not relayed) connection
// whose peer announced the protocol in identify: an archive relay (relay --archive) serves and
// asks for gap fills over the browser's WebSocket connection to it. Peers that do not speak the
// protocol (a plain relay) are never asked.
import type { Connection, IdentifyResult, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils';
import type { SyncEngine } from '../core/sync/engine.js';
import type { LedgerError } from '../core/errors.js';
import { SYNC_MAX_MESSAGE_BYTES } from '../core/sync/constants.js';
import { SyncWrongNetworkError } from '../core/sync/errors.js';
import { classify } from './peer-status.js';
import type { SyncDriverStats } from './messages.js';
import type { PeerGuard } from './peer-guard.js';

/** Engine tick period, ms (timeouts, periodic anti-entropy, gap-fill scheduling). */
export const SYNC_TICK_MS = 250;
/** Bytes queued for one peer at most; more drops the stream (the peer does not read). */
export const SYNC_QUEUE_MAX_BYTES = 4 * 1024 * 1024;
/** Received bytes buffered per stream at most before framing (the stream is aborted beyond). */
export const SYNC_READ_BUFFER_BYTES = 4 * 1024 * 1024;
/** A write that has not drained after this long drops the stream, ms. */
export const SYNC_WRITE_TIMEOUT_MS = 10_000;
/** Opening a sync stream (protocol negotiation included) gives up after this long, ms. */
export const SYNC_OPEN_TIMEOUT_MS = 10_000;
/** The opener opens a new stream this long after the previous one failed or closed, ms. */
export const SYNC_REOPEN_DELAY_MS = 1_000;
/** A refused peer gets this long to receive our error before the connection is closed, ms. */
export const SYNC_CLOSE_TIMEOUT_MS = 1_000;
/**
 * After a stream's close event, its reader gets this long to hand the frames already received to
 * the engine (e.g. the hello a refusing peer sent before hanging up) before the link is dropped, ms.
 */
export const SYNC_DRAIN_TIMEOUT_MS = 1_000;
/** Ingests reporting pending entries start exchanges at most this often, ms. */
export const SYNC_PENDING_THROTTLE_MS = 1_000;

interface Link {
  peer: string;
  stream: Stream;
  lp: LengthPrefixedStream<Stream>;
  queue: Uint8Array[];
  queuedBytes: number;
  writing: boolean;
  /** Dropped: nothing more is sent or handed to the engine. */
  closed: boolean;
  /** The stream closed: nothing more is sent, but frames already received are still read. */
  ended: boolean;
  /** Drops the link once the drain has had SYNC_DRAIN_TIMEOUT_MS (set while `ended`). */
  drainTimer?: ReturnType<typeof setTimeout>;
}

export interface SyncDriverInit {
  node: Libp2p;
  engine: SyncEngine;
  /** `/tabula/<net16>/sync/1.2.0`. */
  protocol: string;
  /** Last measured RTT to a peer, ms. */
  rttOf?: (peer: string) => number | undefined;
  /**
   * A hub (the archive relay) that many peers connect to: a new non-WebRTC connection is not
   * "the relay is back", so it does not start an exchange with every peer. Default false.
   */
  hub?: boolean;
  /** Peer scores and bans: invalid data is an offence (a ban for ban offences), RTTs feed the score. */
  guard?: Pick<PeerGuard, 'offence' | 'setRtt'>;
}

/** The engine's transport in the worker. Create it before node.start(), call start() once. */
export class SyncDriver {
  readonly stats: SyncDriverStats = {
    openStreams: 0,
    streamsOpened: 0,
    streamFailures: 0,
    slowPeerDrops: 0,
    wrongNetworkDisconnects: 0
  };
  private readonly links = new Map<string, Link>();
  private readonly opening = new Set<string>();
  /** Per peer: its entriesIn count when we last compared again after a fill. */
  private readonly confirmedIn = new Map<string, number>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  /** Peers on non-WebRTC direct connections that announced the sync protocol (identify). */
  private readonly speakers = new Set<string>();
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private lastPendingSyncAt = 0;
  private stopped = false;
  private readonly myId: string;

  constructor(private readonly init: SyncDriverInit) {
    this.myId = init.node.peerId.toString();
  }

  /** Registers the protocol and the connection listeners, starts ticking. */
  async start(): Promise<void> {
    const { node, protocol } = this.init;
    await node.handle(protocol, (stream, conn) => this.onIncoming(stream, conn), {
      maxInboundStreams: 2,
      maxOutboundStreams: 2
    });
    node.addEventListener('connection:open', this.onConnectionOpen);
    node.addEventListener('peer:identify', this.onIdentify);
    node.addEventListener('peer:disconnect', this.onDisconnect);
    globalThis.addEventListener?.('online', this.onOnline);
    this.tickTimer = setInterval(() => this.tick(), SYNC_TICK_MS);
    for (const conn of node.getConnections()) this.onConnection(conn);
    // Identify may have run before start() (sync is held back while a join runs): learn those speakers now.
    for (const conn of node.getConnections()) void this.learnSpeaker(conn);
  }

  /**
   * A direct non-WebRTC peer (an archive relay) identified before start(): its protocols are in
   * the peer store. It identified us before our handler existed, so it will not open: we do,
   * whichever id is smaller (a stream it opens later replaces ours, onIncoming).
   */
  private async learnSpeaker(conn: Connection): Promise<void> {
    if (classify(conn) === 'webrtc' || !directOther(conn)) return;
    const peer = conn.remotePeer.toString();
    const stored = await this.init.node.peerStore.get(conn.remotePeer).catch(() => undefined);
    if (this.stopped || this.speakers.has(peer) || stored?.protocols.includes(this.init.protocol) !== true) return;
    this.speakers.add(peer);
    if (conn.status === 'open') void this.open(conn);
  }

  /** The engine's `send`: queues one message for `peer` (dropped if no stream is open). */
  send(peer: string, bytes: Uint8Array): void {
    const link = this.links.get(peer);
    if (!link || link.closed || link.ended) return;
    if (link.queuedBytes + bytes.length > SYNC_QUEUE_MAX_BYTES) {
      this.stats.slowPeerDrops++;
      this.drop(link, new Error('sync send queue full'));
      return;
    }
    link.queue.push(bytes);
    link.queuedBytes += bytes.length;
    void this.flush(link);
  }

  /**
   * The engine's `onPeerRejected`: the offence is scored (and bans the peer for invalid data,
   * which also disconnects it: its link is dropped at once); another network's peer is
   * disconnected in any case.
   */
  onPeerRejected(peer: string, err: LedgerError): void {
    const ban = this.init.guard?.offence(peer, err.code) ?? null;
    if (err.code !== new SyncWrongNetworkError().code) {
      // Banned (the guard hangs up): nothing more it sent reaches the engine, drained or not.
      const link = this.links.get(peer);
      if (ban !== null && link) this.drop(link, null, false);
      return; // a wrong network is counted by the engine per peer
    }
    this.stats.wrongNetworkDisconnects++;
    const link = this.links.get(peer);
    if (link) this.drop(link, null, false);
    void (async () => {
      // The engine's error answer is already handed to the stream: close gracefully so it is sent.
      await link?.stream
        .close({ signal: AbortSignal.timeout(SYNC_CLOSE_TIMEOUT_MS) })
        .catch(() => link.stream.abort(err));
      await this.init.node.hangUp(peerIdFromString(peer)).catch(() => undefined);
    })();
  }

  /** A gossip ingest held entries whose predecessors are missing: ask connected peers (throttled). */
  pendingSeen(): void {
    const now = Date.now();
    if (now - this.lastPendingSyncAt < SYNC_PENDING_THROTTLE_MS) return;
    this.lastPendingSyncAt = now;
    this.init.engine.syncAll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.tickTimer);
    for (const t of this.timers) clearTimeout(t);
    this.init.node.removeEventListener('connection:open', this.onConnectionOpen);
    this.init.node.removeEventListener('peer:identify', this.onIdentify);
    this.init.node.removeEventListener('peer:disconnect', this.onDisconnect);
    globalThis.removeEventListener?.('online', this.onOnline);
    for (const link of [...this.links.values()]) this.drop(link, new Error('sync stopped'), false);
    await this.init.node.unhandle(this.init.protocol).catch(() => undefined);
  }

  private tick(): void {
    for (const peer of this.links.keys()) {
      const rtt = this.init.rttOf?.(peer);
      if (rtt === undefined) continue;
      this.init.engine.setRtt(peer, rtt);
      this.init.guard?.setRtt(peer, rtt);
    }
    this.init.engine.tick();
    this.confirmAfterFill();
  }

  /**
   * Once everything known missing has arrived, compares again with each peer that sent entries
   * since our last comparison: one round trip when the roots are now equal (lastEqualRootAt
   * then says so), and it finds whatever was written meanwhile.
   */
  private confirmAfterFill(): void {
    const st = this.init.engine.status();
    if (st.missing > 0) return;
    for (const p of st.peers) {
      if (p.rejected || p.rangesInFlight > 0 || p.entriesIn <= (this.confirmedIn.get(p.peer) ?? 0)) continue;
      this.confirmedIn.set(p.peer, p.entriesIn);
      this.init.engine.syncWith(p.peer);
    }
  }

  /** The browser says the network is back: compare with every peer still connected. */
  private readonly onOnline = (): void => this.init.engine.syncAll();

  private readonly onConnectionOpen = (ev: CustomEvent<Connection>): void => this.onConnection(ev.detail);

  /** A peer on a direct non-WebRTC connection (e.g. an archive relay) that speaks sync gets a stream. */
  private readonly onIdentify = (ev: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols, connection } = ev.detail;
    if (this.stopped || !protocols.includes(this.init.protocol) || !directOther(connection)) return;
    const peer = peerId.toString();
    this.speakers.add(peer);
    if (connection.status === 'open' && this.opener(peer)) void this.open(connection);
  };

  private readonly onDisconnect = (ev: CustomEvent<PeerId>): void => void this.speakers.delete(ev.detail.toString());

  /** A connection sync may run over: direct WebRTC, or direct to a peer that announced the protocol. */
  private syncable(conn: Connection): boolean {
    if (conn.status !== 'open') return false;
    return classify(conn) === 'webrtc' || (directOther(conn) && this.speakers.has(conn.remotePeer.toString()));
  }

  private onConnection(conn: Connection): void {
    if (this.stopped || conn.status !== 'open') return;
    if (classify(conn) !== 'webrtc') {
      // A relay (re)connected: the network is back, compare with everyone we still reach.
      if (this.init.hub !== true) this.init.engine.syncAll();
      return;
    }
    if (this.opener(conn.remotePeer.toString())) void this.open(conn);
  }

  /** The smaller peer id opens the pair's one stream. */
  private opener(peer: string): boolean {
    return this.myId < peer;
  }

  private async open(conn: Connection): Promise<void> {
    const peer = conn.remotePeer.toString();
    if (this.stopped || this.links.has(peer) || this.opening.has(peer)) return;
    this.opening.add(peer);
    try {
      const stream = await conn.newStream(this.init.protocol, { signal: AbortSignal.timeout(SYNC_OPEN_TIMEOUT_MS) });
      if (this.stopped || this.links.has(peer)) {
        stream.abort(new Error('sync stream not needed'));
        return;
      }
      this.attach(peer, stream, true);
    } catch {
      this.stats.streamFailures++;
      this.scheduleReopen(peer);
    } finally {
      this.opening.delete(peer);
    }
  }

  private onIncoming(stream: Stream, conn: Connection): void {
    const peer = conn.remotePeer.toString();
    if (this.stopped || classify(conn) === 'relayed') {
      stream.abort(new Error('sync runs over direct connections only'));
      return;
    }
    // A new stream from the peer replaces an old one (its side saw the old one end first; one
    // that ended here too, still draining, is no failure).
    const old = this.links.get(peer);
    if (old) this.drop(old, old.ended ? null : new Error('sync stream replaced'), false);
    this.attach(peer, stream, false);
  }

  private attach(peer: string, stream: Stream, initiator: boolean): void {
    const lp = lpStream(stream, { maxDataLength: SYNC_MAX_MESSAGE_BYTES, maxBufferSize: SYNC_READ_BUFFER_BYTES });
    const link: Link = { peer, stream, lp, queue: [], queuedBytes: 0, writing: false, closed: false, ended: false };
    this.links.set(peer, link);
    this.stats.streamsOpened++;
    this.stats.openStreams = this.links.size;
    stream.addEventListener('close', () => this.onStreamClose(link), { once: true });
    // Says hello through send(), so the link must be registered first.
    this.init.engine.addPeer(peer, { initiator, rttMs: this.init.rttOf?.(peer) });
    void this.readLoop(link);
  }

  private async readLoop(link: Link): Promise<void> {
    for (;;) {
      let msg: Uint8Array;
      try {
        msg = (await link.lp.read()).subarray();
      } catch (err) {
        this.drop(link, link.ended ? null : err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (link.closed) return;
      try {
        await this.init.engine.receive(link.peer, msg);
      } catch {
        // Our own storage failed (not the peer's fault): the request times out and is retried.
      }
    }
  }

  private async flush(link: Link): Promise<void> {
    if (link.writing) return;
    link.writing = true;
    try {
      while (link.queue.length > 0 && !link.closed && !link.ended) {
        const batch = link.queue.splice(0, link.queue.length);
        link.queuedBytes -= batch.reduce((n, b) => n + b.length, 0);
        await link.lp.writeV(batch, { signal: AbortSignal.timeout(SYNC_WRITE_TIMEOUT_MS) });
      }
    } catch (err) {
      // A write cut short by the stream's end (its close event, or our own drop) is no slow peer:
      // the reader drains what was received and drops the link (onStreamClose).
      if (link.closed || link.ended) return;
      this.stats.slowPeerDrops++;
      this.drop(link, err instanceof Error ? err : new Error(String(err)));
    } finally {
      link.writing = false;
    }
  }

  /**
   * The stream closed (either side). Sending stops now; the reader drains the frames already
   * received (a close event can overtake them) and drops the link at end of stream, or after
   * SYNC_DRAIN_TIMEOUT_MS at the latest.
   */
  private onStreamClose(link: Link): void {
    if (link.closed || link.ended) return;
    link.ended = true;
    link.queue.length = 0;
    link.queuedBytes = 0;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.drop(link, null);
    }, SYNC_DRAIN_TIMEOUT_MS);
    this.timers.add(t);
    link.drainTimer = t;
  }

  /** Ends a link (idempotent); `err` null means the stream closed by itself. */
  private drop(link: Link, err: Error | null, reopen = true): void {
    if (link.closed) return;
    link.closed = true;
    if (link.drainTimer !== undefined) {
      clearTimeout(link.drainTimer);
      this.timers.delete(link.drainTimer);
    }
    link.queue.length = 0;
    link.queuedBytes = 0;
    if (this.links.get(link.peer) === link) {
      this.links.delete(link.peer);
      this.confirmedIn.delete(link.peer);
      this.init.engine.removePeer(link.peer);
    }
    this.stats.openStreams = this.links.size;
    if (err !== null) {
      this.stats.streamFailures++;
      link.stream.abort(err);
    }
    if (reopen) this.scheduleReopen(link.peer);
  }

  /** The opener tries again while a direct connection to the peer is still open. */
  private scheduleReopen(peer: string): void {
    if (this.stopped || !this.opener(peer)) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      const conn = this.init.node.getConnections(peerIdFromString(peer)).find((c) => this.syncable(c));
      if (conn) void this.open(conn);
    }, SYNC_REOPEN_DELAY_MS);
    this.timers.add(t);
  }
}

/** An unlimited connection that is not WebRTC (e.g. WebSockets to a relay). */
function directOther(conn: Connection): boolean {
  return classify(conn) === 'websocket';
}
