// The relay's sync fetch client (relay/sync-fetch.ts) over an in-memory libp2p stream pair: a
// frame whose read was pending when the stream's close event fired must not throw out of the
// detached read loop. Found in the full soak of 2026-12-02: a peer's `get` arrived with its
// hang-up, the loop answered on the closed link, `send` threw, and the unhandled rejection ended
// the relay process (every later browser scenario then failed with ERR_CONNECTION_REFUSED).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { lpStream, streamPair } from '@libp2p/utils';
import type { Stream } from '@libp2p/interface';
import { SyncFetchClient, SyncFetchError } from '../../relay/sync-fetch.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { SyncMsg } from '../../src/lib/core/sync/messages.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';

const net = networkId(defaultGenesis());
const AUTHOR = 'ab'.repeat(32);

let unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => void process.off('unhandledRejection', onUnhandled));

/** A client whose one direct connection hands out `out`; the test plays the peer on `inb`. */
async function setup() {
  const [out, inb] = await streamPair();
  const remote = peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
  const conn = { status: 'open', limits: undefined, remotePeer: remote, newStream: async (): Promise<Stream> => out };
  const node = { getConnections: () => [conn], peerStore: { get: async () => ({ protocols: [] }) } };
  const client = new SyncFetchClient({
    node: node as unknown as ConstructorParameters<typeof SyncFetchClient>[0]['node'],
    protocol: '/tabula/test/sync/1.2.0',
    networkId: net,
    maxEntryBytes: 4096
  });
  const peer = lpStream(inb);
  const read = async (): Promise<SyncMsg> => decodeSyncMessage((await peer.read()).subarray(), 1 << 20);
  return { out, client, remote: remote.toString(), peer, read };
}

const ticks = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('relay SyncFetchClient: frames and a close event that overtook them', () => {
  it('a get read after the close event fails the request cleanly and is not answered', async () => {
    const { out, client, remote, peer, read } = await setup();
    const answer = client.get(remote, AUTHOR, 1, new AbortController().signal);
    expect((await read()).t).toBe('hello');
    expect((await read()).t).toBe('get');
    // Registered after the client's reader: the close event fires right after the frame is queued
    // for the pending read, as yamux does under load when a frame and the hang-up arrive together.
    out.addEventListener('message', () => out.dispatchEvent(new Event('close')), { once: true });
    await peer.write(encodeSyncMessage({ t: 'get', rid: 9, author: AUTHOR, from: 1, to: 1, maxBytes: 1024 }));
    await expect(answer).rejects.toBeInstanceOf(SyncFetchError);
    await ticks(20);
    expect(unhandled).toEqual([]);
  });

  it('a begin read after the close event is not answered either', async () => {
    const { out, client, remote, peer, read } = await setup();
    const answer = client.get(remote, AUTHOR, 1, new AbortController().signal);
    await read();
    await read();
    out.addEventListener('message', () => out.dispatchEvent(new Event('close')), { once: true });
    await peer.write(
      encodeSyncMessage({ t: 'begin', xid: 3, salt: new Uint8Array(16), root: new Uint8Array(32), nodes: [] })
    );
    await expect(answer).rejects.toBeInstanceOf(SyncFetchError);
    await ticks(20);
    expect(unhandled).toEqual([]);
  });
});
