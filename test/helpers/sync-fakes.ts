// Fakes for the sync driver's unit tests: a libp2p node that only keeps a protocol handler and
// its connections, and the driver's frame length prefix.
import type { PeerId, StreamHandler } from '@libp2p/interface';
import { encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import { SYNC_PROTOCOL_VERSION } from '../../src/lib/core/sync/constants.js';

/** Unsigned LEB128, the frame length prefix. */
export function varint(n: number): Uint8Array {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return Uint8Array.from(out);
}

/** A frame as the driver writes it: varint length, then the message. */
export const frame = (m: Uint8Array): Uint8Array => Uint8Array.from([...varint(m.length), ...m]);

/** A connection as far as FakeNode needs one. */
export interface FakeNodeConn {
  status: string;
  readonly remotePeer: PeerId;
}

/** Keeps the sync handler and the connections; hangUp marks them closed and is recorded. */
export class FakeNode<C extends FakeNodeConn = FakeNodeConn> extends EventTarget {
  handler: StreamHandler | undefined;
  conns: C[] = [];
  hungUp: string[] = [];
  constructor(readonly peerId: PeerId) {
    super();
  }
  async handle(_p: string, h: StreamHandler): Promise<void> {
    this.handler = h;
  }
  async unhandle(): Promise<void> {
    this.handler = undefined;
  }
  getConnections(peer?: PeerId): C[] {
    return this.conns.filter((c) => peer === undefined || c.remotePeer.equals(peer));
  }
  async hangUp(peer: PeerId): Promise<void> {
    this.hungUp.push(peer.toString());
    for (const c of this.getConnections(peer)) c.status = 'closed';
  }
}

/** A valid hello of another network (network id all 9s): the receiver must refuse the peer. */
export function otherNetworkHello(): Uint8Array {
  return encodeSyncMessage({
    t: 'hello',
    version: SYNC_PROTOCOL_VERSION,
    network: new Uint8Array(32).fill(9),
    role: 'full',
    root: new Uint8Array(32),
    feeds: 0,
    entries: 0,
    coverage: [],
    salt: new Uint8Array(16)
  });
}
