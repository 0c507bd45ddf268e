// The plain relay's side of the sync protocol (`/tabula/<net16>/sync/1.2.0`, PROTOCOL.md §11.1),
// reduced to what relay/link-fetch.ts needs: ask a connected peer that serves sync (the mesh's
// archive relay, or a browser) for one entry. One stream per peer at a time (a serving peer keeps
// one sync stream per peer and a new one replaces the old), opened on demand over an existing
// direct connection (never a dial), with requests multiplexed by request id; it says an empty
// hello (a light replica holding nothing), answers any exchange the peer begins with `sync-busy`
// (it has no heads to compare) and any range request with no entries, and closes after `idleMs`
// without a request.
import type { Libp2p, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils';
import { decodeSyncMessage, encodeSyncMessage } from '../src/lib/core/sync/codec.js';
import { SYNC_PROTOCOL_VERSION, SYNC_SALT_BYTES } from '../src/lib/core/sync/constants.js';
import { HeadsTree } from '../src/lib/core/sync/merkle.js';
import type { SyncMsg } from '../src/lib/core/sync/messages.js';
import { bytesEqual } from '../src/lib/core/bytes.js';

/** A sync message from a peer is this big at most (an answer of a few entries, a light hello), bytes. */
export const SYNC_FETCH_MAX_MESSAGE_BYTES = 512 * 1024;
/** A stream with no request in flight is closed after this long, ms. */
export const SYNC_FETCH_IDLE_MS = 5_000;

export class SyncFetchError extends Error {
  override name = 'SyncFetchError';
}

export interface SyncFetchInit {
  node: Pick<Libp2p, 'getConnections' | 'peerStore'>;
  /** `/tabula/<net16>/sync/1.2.0`. */
  protocol: string;
  networkId: Uint8Array;
  /** Bytes asked per answer (one entry of the network at most). */
  maxEntryBytes: number;
  idleMs?: number;
}

interface Waiter {
  resolve: (entries: Uint8Array[]) => void;
  reject: (e: Error) => void;
}

interface Link {
  stream: Stream;
  lp: LengthPrefixedStream<Stream>;
  waiters: Map<number, Waiter>;
  idle?: ReturnType<typeof setTimeout>;
  closed: boolean;
}

/** Sync answers, one entry at a time, from peers the relay is connected to. */
export class SyncFetchClient {
  private readonly links = new Map<string, Promise<Link>>();
  private nextRid = 1;
  private readonly emptyRoot = HeadsTree.from([]).rootHash();

  constructor(private readonly init: SyncFetchInit) {}

  /** Whether `peer` announced the sync protocol (identify) and has an open direct connection. */
  async serves(peer: string): Promise<boolean> {
    let id: PeerId;
    try {
      id = peerIdFromString(peer);
    } catch {
      return false;
    }
    if (!this.init.node.getConnections(id).some((c) => c.status === 'open' && c.limits == null)) return false;
    const stored = await this.init.node.peerStore.get(id).catch(() => undefined);
    return stored?.protocols.includes(this.init.protocol) === true;
  }

  /**
   * `author`'s entries at `seq` as `peer` serves them (raw, unverified; usually one, none when it
   * lacks it, two when its feed is void there). Throws SyncFetchError (refused, closed, no direct
   * connection) or the abort reason of `signal`.
   */
  async get(peer: string, author: string, seq: number, signal: AbortSignal): Promise<Uint8Array[]> {
    const link = await this.link(peer, signal);
    signal.throwIfAborted(); // an abort from here on rejects the answer (onAbort)
    const rid = this.nextRid++;
    clearTimeout(link.idle);
    const answer = new Promise<Uint8Array[]>((resolve, reject) => link.waiters.set(rid, { resolve, reject }));
    const onAbort = (): void => link.waiters.get(rid)?.reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.send(peer, link, {
        t: 'get',
        rid,
        author,
        from: seq,
        to: seq,
        maxBytes: this.init.maxEntryBytes
      });
      return await answer;
    } finally {
      signal.removeEventListener('abort', onAbort);
      link.waiters.delete(rid);
      this.idleLater(peer, link);
    }
  }

  /** Closes every stream. */
  close(): void {
    for (const [peer, p] of this.links)
      void p.then(
        (l) => this.drop(peer, l, new SyncFetchError('closed')),
        () => {}
      );
    this.links.clear();
  }

  private async link(peer: string, signal: AbortSignal): Promise<Link> {
    const known = this.links.get(peer);
    const l = known && (await known.catch(() => undefined));
    if (l !== undefined && !l.closed) return l;
    if (this.links.get(peer) !== known) return this.link(peer, signal); // another caller reopened it
    const p = this.open(peer, signal);
    this.links.set(peer, p);
    p.catch(() => this.links.get(peer) === p && this.links.delete(peer));
    return p;
  }

  private async open(peer: string, signal: AbortSignal): Promise<Link> {
    const conn = this.init.node
      .getConnections(peerIdFromString(peer))
      .find((c) => c.status === 'open' && c.limits == null);
    if (conn === undefined) throw new SyncFetchError('no direct connection');
    const stream = await conn.newStream(this.init.protocol, { signal });
    const lp = lpStream(stream, { maxDataLength: SYNC_FETCH_MAX_MESSAGE_BYTES });
    const link: Link = { stream, lp, waiters: new Map(), closed: false };
    stream.addEventListener('close', () => this.drop(peer, link, new SyncFetchError('stream closed')), {
      once: true
    });
    this.send(peer, link, {
      t: 'hello',
      version: SYNC_PROTOCOL_VERSION,
      network: this.init.networkId,
      role: 'light',
      root: this.emptyRoot,
      feeds: 0,
      entries: 0,
      coverage: [],
      salt: crypto.getRandomValues(new Uint8Array(SYNC_SALT_BYTES))
    });
    void this.readLoop(peer, link);
    return link;
  }

  /** Sends `m`; throws SyncFetchError when the link is already closed (a request fails at once). */
  private send(peer: string, link: Link, m: SyncMsg): void {
    if (link.closed) throw new SyncFetchError('stream closed');
    link.lp.write(encodeSyncMessage(m)).catch((e: unknown) => this.drop(peer, link, e));
  }

  /** Answers the peer; nothing when the link closed meanwhile (no request waits for it). */
  private reply(peer: string, link: Link, m: SyncMsg): void {
    if (!link.closed) this.send(peer, link, m);
  }

  /**
   * Reads until the link closes. Never rejects: it runs detached, so a throw here would end the
   * relay (an unhandled rejection). A frame whose read was pending when the stream's close event
   * fired is discarded (the link's requests have already failed).
   */
  private async readLoop(peer: string, link: Link): Promise<void> {
    while (!link.closed) {
      let m: SyncMsg;
      try {
        m = decodeSyncMessage((await link.lp.read()).subarray(), SYNC_FETCH_MAX_MESSAGE_BYTES);
        if (link.closed) return;
        this.onMessage(peer, link, m);
      } catch (e) {
        this.drop(peer, link, e);
        return;
      }
    }
  }

  private onMessage(peer: string, link: Link, m: SyncMsg): void {
    switch (m.t) {
      case 'entries':
        link.waiters.get(m.rid)?.resolve(m.entries);
        return;
      case 'error':
        if (m.rid !== 0) link.waiters.get(m.rid)?.reject(new SyncFetchError(`refused: ${m.code}`));
        else if (m.xid === 0) this.drop(peer, link, new SyncFetchError(`refused: ${m.code}`));
        return;
      case 'hello':
        if (m.version !== SYNC_PROTOCOL_VERSION || !bytesEqual(m.network, this.init.networkId))
          this.drop(peer, link, new SyncFetchError('another network or protocol version'));
        return;
      case 'begin':
        // Nothing to compare: this side holds no heads.
        this.reply(peer, link, { t: 'error', rid: 0, xid: m.xid, code: 'sync-busy', message: 'no heads held' });
        return;
      case 'get':
        // Holds no entry (a light hello cannot say so): "nothing" at once, so the asker moves on.
        this.reply(peer, link, { t: 'entries', rid: m.rid, entries: [] });
        return;
      default:
        return; // steps of exchanges never started: ignored
    }
  }

  private idleLater(peer: string, link: Link): void {
    if (link.closed || link.waiters.size > 0) return;
    clearTimeout(link.idle);
    link.idle = setTimeout(() => {
      if (link.waiters.size > 0) return;
      this.drop(peer, link, null);
    }, this.init.idleMs ?? SYNC_FETCH_IDLE_MS);
  }

  /** Ends a link (idempotent): its requests fail; `err` null closes the stream gracefully. */
  private drop(peer: string, link: Link, err: unknown): void {
    if (link.closed) return;
    link.closed = true;
    clearTimeout(link.idle);
    const p = this.links.get(peer);
    if (p !== undefined)
      void p.then(
        (l) => l === link && this.links.get(peer) === p && this.links.delete(peer),
        () => {} // a newer open that failed: link() removes it
      );
    const why = err instanceof Error ? err : new SyncFetchError('stream closed');
    for (const w of link.waiters.values()) w.reject(why);
    link.waiters.clear();
    if (err === null) void link.stream.close().catch(() => link.stream.abort(why));
    else link.stream.abort(why);
  }
}
