// The sync driver over in-memory libp2p streams (@libp2p/utils streamPair) between fake nodes:
// one stream per connection pair, framing with a size cap, wrong-network hang-up, catch-up.
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { streamPair } from '@libp2p/utils';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import { SYNC_MAX_MESSAGE_BYTES } from '../../src/lib/core/sync/constants.js';
import { SyncDriver } from '../../src/lib/worker/sync-driver.js';
import { genesis, memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { pollUntil } from '../helpers/poll.js';
import { startLedgerSync } from '../helpers/sync-wiring.js';
import { FakeNode, frame, otherNetworkHello, varint } from '../helpers/sync-fakes.js';

const PROTOCOL = '/tabula/test/sync/1.0.0';

class FakeConn {
  status = 'open';
  readonly limits = undefined;
  multiplexer = '/webrtc';
  readonly remoteAddr = { toString: () => '/webrtc' };
  mirror!: FakeConn;
  streams = 0;
  constructor(
    readonly local: FakeNode,
    readonly remote: FakeNode
  ) {}
  get remotePeer(): PeerId {
    return this.remote.peerId;
  }
  async newStream(): Promise<Stream> {
    this.streams++;
    const [out, inb] = await streamPair();
    void this.remote.handler!(inb, this.mirror as unknown as Connection);
    return out;
  }
}

/** Opens a direct connection both ways and fires connection:open on both nodes. */
function connect(a: FakeNode, b: FakeNode, fire = true, multiplexer = '/webrtc'): [FakeConn, FakeConn] {
  const ab = new FakeConn(a, b);
  const ba = new FakeConn(b, a);
  ab.multiplexer = ba.multiplexer = multiplexer;
  ab.mirror = ba;
  ba.mirror = ab;
  a.conns.push(ab);
  b.conns.push(ba);
  if (fire) {
    a.dispatchEvent(new CustomEvent('connection:open', { detail: ab }));
    b.dispatchEvent(new CustomEvent('connection:open', { detail: ba }));
  }
  return [ab, ba];
}

interface Side {
  node: FakeNode;
  tl: TestLedger;
  engine: SyncEngine;
  driver: SyncDriver;
}

async function side(keyByte: number, g = genesis): Promise<Side> {
  const node = new FakeNode(peerIdFromPrivateKey(await generateKeyPair('Ed25519')));
  const tl = await openLedger(memoryLocation(), keyByte, { genesis: g });
  const { engine, driver } = await startLedgerSync(tl.ledger, node as unknown as Libp2p, PROTOCOL);
  return { node, tl, engine, driver };
}

const until = (cond: () => boolean, what: string, ms = 15_000) => pollUntil(cond, what, ms, 20);

async function stop(...sides: Side[]): Promise<void> {
  for (const s of sides) {
    await s.driver.stop();
    s.engine.close();
    await s.tl.ledger.close();
  }
}

const headsOf = (s: Side): string => JSON.stringify(s.tl.ledger.heads());

describe('SyncDriver', () => {
  it('opens exactly one stream per connection pair and both sides catch up', async () => {
    const a = await side(1);
    const b = await side(2);
    for (let i = 0; i < 150; i++) await a.tl.ledger.put(`a${i}`, i);
    await b.tl.ledger.put('b', 'only on b');
    const [ab, ba] = connect(a.node, b.node);
    await until(() => headsOf(a) === headsOf(b), 'equal heads');
    expect(a.tl.ledger.get('b')).toBe('only on b');
    expect(b.tl.ledger.get('a149')).toBe(149);
    expect(ab.streams + ba.streams).toBe(1);
    expect(a.driver.stats.openStreams).toBe(1);
    expect(b.driver.stats.openStreams).toBe(1);
    const sb = b.engine.status().peers.find((p) => p.peer === a.node.peerId.toString());
    expect(sb?.entriesIn).toBe(150);
    expect(sb?.entriesOut).toBe(1);
    // After the fill the driver compares again, so both know their roots are now equal.
    await until(() => a.engine.status().lastEqualRootAt !== null, 'a confirming exchange on a');
    await until(() => b.engine.status().lastEqualRootAt !== null, 'a confirming exchange on b');
    await stop(a, b);
  });

  it('hangs up on a peer whose hello names another network and counts it', async () => {
    const a = await side(1);
    const other = await side(3, { ...genesis, name: 'elsewhere' });
    await other.tl.ledger.put('x', 1);
    connect(a.node, other.node);
    await until(() => a.driver.stats.wrongNetworkDisconnects > 0, 'the wrong-network hang-up');
    expect(a.node.hungUp).toContain(other.node.peerId.toString());
    expect(a.engine.status().rejectedPeers).toBeGreaterThanOrEqual(1);
    expect(a.tl.ledger.get('x')).toBeUndefined();
    await stop(a, other);
  });

  it('still reads the frames received before a close event that overtook them', async () => {
    // Seen over yamux under load: the refusing peer's hello and its hang-up arrive in one task,
    // and the stream's close event fires before the pending read resolves. The hello must still
    // reach the engine (here it names another network, so the peer is counted as refused).
    const a = await side(1);
    const mallory = new FakeNode(peerIdFromPrivateKey(await generateKeyPair('Ed25519')));
    mallory.handler = (st: Stream) => st.abort(new Error('no'));
    const [, toA] = connect(mallory, a.node, false);
    const [out, inb] = await streamPair();
    void a.node.handler!(inb, toA as unknown as Connection);
    // Registered after the driver's reader, so it runs right after the frame is queued for it.
    inb.addEventListener('message', () => inb.dispatchEvent(new Event('close')), { once: true });
    out.send(frame(otherNetworkHello()));
    await until(() => a.engine.status().rejectedPeers === 1, 'the hello read after the close event');
    await until(() => a.engine.status().peers.length === 0, 'the session removed');
    expect(a.driver.stats.streamFailures).toBe(0);
    await stop(a);
  });

  it('refuses a frame longer than the cap before buffering it and drops the peer', async () => {
    const a = await side(1);
    const mallory = new FakeNode(peerIdFromPrivateKey(await generateKeyPair('Ed25519')));
    // Mallory refuses streams from a (its reopen attempts), and opens its own by hand.
    mallory.handler = (s: Stream) => s.abort(new Error('no'));
    const [, toA] = connect(mallory, a.node, false);
    const [out, inb] = await streamPair();
    void a.node.handler!(inb, toA as unknown as Connection);
    await until(() => a.engine.status().peers.length === 1, 'the session');
    const closed = new Promise<void>((r) => out.addEventListener('close', () => r(), { once: true }));
    out.send(varint(SYNC_MAX_MESSAGE_BYTES + 1));
    out.send(new Uint8Array(1024));
    await closed;
    await until(() => a.engine.status().peers.every((p) => p.peer !== mallory.peerId.toString()), 'peer removed');
    expect(a.driver.stats.streamFailures).toBeGreaterThanOrEqual(1);
    await stop(a);
  });

  it('over a WebSocket connection, syncs only once the peer announced the protocol (archive relay)', async () => {
    const a = await side(1);
    const b = await side(2);
    for (let i = 0; i < 20; i++) await a.tl.ledger.put(`a${i}`, i);
    const [ab, ba] = connect(a.node, b.node, true, '/yamux/1.0.0');
    await new Promise((r) => setTimeout(r, 300));
    // A plain relay does not speak sync: nothing is opened.
    expect(ab.streams + ba.streams).toBe(0);
    const identify = (on: FakeNode, conn: FakeConn, protocols: string[]) =>
      on.dispatchEvent(
        new CustomEvent('peer:identify', { detail: { peerId: conn.remotePeer, protocols, connection: conn } })
      );
    identify(a.node, ab, ['/ipfs/id/1.0.0']);
    identify(b.node, ba, ['/ipfs/id/1.0.0']);
    await new Promise((r) => setTimeout(r, 300));
    expect(ab.streams + ba.streams).toBe(0);
    identify(a.node, ab, [PROTOCOL]);
    identify(b.node, ba, [PROTOCOL]);
    await until(() => headsOf(a) === headsOf(b), 'equal heads over WebSocket');
    expect(b.tl.ledger.get('a19')).toBe(19);
    expect(ab.streams + ba.streams).toBe(1);
    await stop(a, b);
  });

  it('refuses a sync stream on a relayed (limited) connection', async () => {
    const a = await side(1);
    const b = new FakeNode(peerIdFromPrivateKey(await generateKeyPair('Ed25519')));
    const [, toA] = connect(b, a.node, false);
    (toA as unknown as { limits: unknown }).limits = { bytes: 1n };
    const [out, inb] = await streamPair();
    const closed = new Promise<void>((r) => out.addEventListener('close', () => r(), { once: true }));
    void a.node.handler!(inb, toA as unknown as Connection);
    await closed;
    expect(a.engine.status().peers).toEqual([]);
    await stop(a);
  });
});
