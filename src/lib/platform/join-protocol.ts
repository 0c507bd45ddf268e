// The join protocol over libp2p (PROTOCOL.md §13): length-prefixed frames (checked against
// JOIN_MAX_MESSAGE_BYTES before buffering) on one stream per joiner-peer pair, opened by the
// joiner over an unlimited (not relayed) connection. JoinStreamServer answers with a JoinServer;
// JoinStreamClient is a Joiner's transport (its `send`, and received frames to `receive`).
// Neither decides when to join: that is the caller's (see the report of the join branch).
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils';
import { JoinServer, type JoinServerOptions } from '../core/join/server.js';
import { JOIN_MAX_MESSAGE_BYTES } from '../core/join/constants.js';

/** Inbound join streams per connection at most (a joiner needs one). */
export const JOIN_MAX_STREAMS = 2;
/** Opening a stream, a write, or the silence between a joiner's requests: give up after this, ms. */
export const JOIN_STREAM_TIMEOUT_MS = 10_000;
/** Received bytes buffered per stream at most before framing. */
export const JOIN_READ_BUFFER_BYTES = 2 * JOIN_MAX_MESSAGE_BYTES;

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

type Lp = LengthPrefixedStream<Stream>;

/** One framed stream with serialized writes (a failed write aborts it). */
class Pipe {
  private writing: Promise<void> = Promise.resolve();
  closed = false;
  readonly lp: Lp;
  constructor(readonly stream: Stream) {
    this.lp = lpStream(stream, { maxDataLength: JOIN_MAX_MESSAGE_BYTES, maxBufferSize: JOIN_READ_BUFFER_BYTES });
  }

  write(bytes: Uint8Array): void {
    this.writing = this.writing
      .then(() =>
        this.closed ? undefined : this.lp.write(bytes, { signal: AbortSignal.timeout(JOIN_STREAM_TIMEOUT_MS) })
      )
      .catch((err) => this.abort(asError(err)));
  }

  async read(idleMs?: number): Promise<Uint8Array> {
    const signal = idleMs === undefined ? undefined : AbortSignal.timeout(idleMs);
    return (await this.lp.read({ signal })).subarray();
  }

  abort(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.abort(err);
  }
}

/** Serves join snapshots from `source` (a JoinServer) on every inbound join stream. */
export class JoinStreamServer {
  readonly server: JoinServer;
  private readonly pipes = new Map<string, Pipe>();

  constructor(opts: Omit<JoinServerOptions, 'send'>) {
    this.server = new JoinServer({ ...opts, send: (peer, bytes) => this.pipes.get(peer)?.write(bytes) });
  }

  /** Registers the handler (direct connections only: relayed, limited ones are refused). */
  register(node: Pick<Libp2p, 'handle'>, protocol: string): Promise<void> {
    return node.handle(protocol, (stream, conn) => this.serve(stream, conn), {
      maxInboundStreams: JOIN_MAX_STREAMS,
      maxOutboundStreams: JOIN_MAX_STREAMS
    });
  }

  private async serve(stream: Stream, conn: Connection): Promise<void> {
    if (conn.limits != null) return void stream.abort(new Error('join runs over direct connections only'));
    const peer = conn.remotePeer.toString();
    const pipe = new Pipe(stream);
    this.pipes.get(peer)?.abort(new Error('join stream replaced'));
    this.pipes.set(peer, pipe);
    try {
      for (;;) {
        const msg = await pipe.read(JOIN_STREAM_TIMEOUT_MS);
        await this.server.receive(peer, msg);
      }
    } catch (err) {
      pipe.abort(asError(err)); // the joiner closed its side, went idle, or framed badly
    } finally {
      if (this.pipes.get(peer) === pipe) this.pipes.delete(peer);
    }
  }
}

/** A Joiner's transport: `send` opens the pair's stream on first use; frames go to `onMessage`. */
export class JoinStreamClient {
  private readonly pipes = new Map<string, Promise<Pipe | null>>();

  constructor(
    private readonly node: Pick<Libp2p, 'getConnections'>,
    private readonly protocol: string,
    private readonly onMessage: (peer: string, bytes: Uint8Array) => Promise<void>
  ) {}

  send(peer: string, bytes: Uint8Array): void {
    let p = this.pipes.get(peer);
    if (p === undefined) this.pipes.set(peer, (p = this.open(peer)));
    void p.then((pipe) => pipe?.write(bytes));
  }

  /** Ends the pair's stream (e.g. when the peer disconnects or the join is over). */
  close(peer: string): void {
    const p = this.pipes.get(peer);
    this.pipes.delete(peer);
    void p?.then((pipe) => pipe?.abort(new Error('join stream closed')));
  }

  closeAll(): void {
    for (const peer of [...this.pipes.keys()]) this.close(peer);
  }

  private async open(peer: string): Promise<Pipe | null> {
    const conn = this.node.getConnections(peerIdFromString(peer)).find((c) => c.status === 'open' && c.limits == null);
    if (conn === undefined) return this.forget(peer);
    let pipe: Pipe;
    try {
      pipe = new Pipe(await conn.newStream(this.protocol, { signal: AbortSignal.timeout(JOIN_STREAM_TIMEOUT_MS) }));
    } catch {
      return this.forget(peer); // the joiner's timeouts count the peer as silent
    }
    void this.readLoop(peer, pipe);
    return pipe;
  }

  private async readLoop(peer: string, pipe: Pipe): Promise<void> {
    try {
      for (;;) await this.onMessage(peer, await pipe.read());
    } catch (err) {
      pipe.abort(asError(err));
      this.forget(peer);
    }
  }

  private forget(peer: string): null {
    this.pipes.delete(peer);
    return null;
  }
}
