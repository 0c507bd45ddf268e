// Inbound size caps that libp2p does not expose as options: the WebSocket message size and the
// first (request) frame of a circuit relay HOP stream. Gossipsub and identify have their own.
import { webSockets, type WebSocketsInit } from '@libp2p/websockets';
import { lpStream } from '@libp2p/utils';
import type { StreamHandler, Transport } from '@libp2p/interface';
import { UnsupportedLibraryError } from './errors.js';
import type { Uint8ArrayList } from 'uint8arraylist';

type TransportFactory = ReturnType<typeof webSockets>;

/** A server-side `ws` socket, as far as we use it. */
interface WsSocket {
  on(event: 'error', listener: (err: Error) => void): void;
}

/** The shape of @libp2p/websockets 10's listener that we reach into (its `ws` server). */
interface WsListenerInternals {
  wsServer?: {
    options?: { maxPayload?: number };
    handleUpgrade?: (req: unknown, socket: unknown, head: unknown, done: (ws: WsSocket, req: unknown) => void) => void;
  };
}

/**
 * WebSockets transport whose listener refuses messages over `maxMessageBytes` (the `ws` server
 * closes the socket with 1009). @libp2p/websockets creates its `ws` server with the library default
 * of 100 MiB and has no option for it. It also attaches no 'error' listener to accepted sockets, so
 * a client's protocol error (oversized message, bad opcode, bad masking) was an uncaught exception
 * that ended the relay; here each accepted socket gets one (`ws` has already closed the socket
 * when it emits the error). Throws UnsupportedLibraryError at listen time if the listener's
 * internals changed, so an upgrade cannot silently drop either fix.
 */
export function cappedWebSockets(maxMessageBytes: number, init?: WebSocketsInit): TransportFactory {
  const factory = webSockets(init);
  return (components) => {
    const transport: Transport = factory(components);
    const createListener = transport.createListener.bind(transport);
    transport.createListener = (options) => {
      const listener = createListener(options);
      const ws = (listener as unknown as WsListenerInternals).wsServer;
      const handleUpgrade = ws?.handleUpgrade;
      if (ws?.options === undefined || typeof handleUpgrade !== 'function') {
        throw new UnsupportedLibraryError('cannot harden the WebSocket listener of this @libp2p/websockets');
      }
      ws.options.maxPayload = maxMessageBytes;
      // The listener accepts sockets through handleUpgrade's callback (no 'connection' event).
      ws.handleUpgrade = (req, socket, head, done) =>
        handleUpgrade.call(ws, req, socket, head, (client, request) => {
          client.on('error', () => {});
          done(client, request);
        });
      return listener;
    };
    return transport;
  };
}

function encodeVarint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

/**
 * Wraps the handler of a protocol whose first message is one length-prefixed frame (circuit relay
 * HOP): reads that frame with a cap of `maxFrameBytes` within `timeoutMs`, puts it back and calls
 * `handler`. A bigger length prefix, read-ahead beyond `maxBufferBytes`, or a timeout resets the
 * stream before the frame is buffered. Later bytes (relayed traffic) are not inspected.
 * (libp2p 3.3's stream middleware is not used: it appends the handler to the registered middleware
 * array on every stream.)
 */
export function firstFrameCap(
  handler: StreamHandler,
  maxFrameBytes: number,
  timeoutMs: number,
  maxBufferBytes: number
): StreamHandler {
  return async (stream, connection) => {
    const lp = lpStream(stream, { maxDataLength: maxFrameBytes, maxBufferSize: maxBufferBytes });
    let frame: Uint8ArrayList;
    try {
      frame = await lp.read({ signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      stream.abort(err as Error);
      return;
    }
    const unwrapped = lp.unwrap();
    const prefix = encodeVarint(frame.byteLength);
    const bytes = new Uint8Array(prefix.byteLength + frame.byteLength);
    bytes.set(prefix);
    bytes.set(frame.subarray(), prefix.byteLength);
    unwrapped.unshift(bytes);
    await handler(unwrapped, connection);
  };
}
