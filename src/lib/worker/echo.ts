// Byte echo over a libp2p stream: the simplest proof that a direct stream carries data both ways.
import type { Libp2p, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { concatBytes } from '../core/bytes.js';

export const MAX_ECHO_BYTES = 64 * 1024;

export class EchoTooLargeError extends Error {
  override name = 'EchoTooLargeError';
}

async function readAll(stream: Stream, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
    total += bytes.byteLength;
    if (total > max) throw new EchoTooLargeError(`echo exceeds ${max} bytes`);
    parts.push(bytes);
  }
  return concatBytes(...parts);
}

async function sendAll(stream: Stream, data: Uint8Array): Promise<void> {
  if (data.byteLength > 0 && !stream.send(data)) await stream.onDrain();
  await stream.close();
}

/** Serve the echo protocol: read until the remote closes its write side, send it all back. */
export function handleEcho(node: Libp2p, protocol: string): Promise<void> {
  return node.handle(protocol, async (stream) => {
    try {
      await sendAll(stream, await readAll(stream, MAX_ECHO_BYTES));
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/** Echo `data` off `peer`, refusing relayed (limited) connections: the point is the direct path. */
export async function echo(node: Libp2p, protocol: string, peer: string, data: Uint8Array): Promise<Uint8Array> {
  if (data.byteLength > MAX_ECHO_BYTES) throw new EchoTooLargeError(`echo exceeds ${MAX_ECHO_BYTES} bytes`);
  const stream = await node.dialProtocol(peerIdFromString(peer), protocol, { signal: AbortSignal.timeout(10_000) });
  try {
    await sendAll(stream, data);
    return await readAll(stream, MAX_ECHO_BYTES);
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
