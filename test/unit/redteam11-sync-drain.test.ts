// Red team 11 (2026-12-02), sync driver after 1f2f6b3 (a stream's close event lets the reader
// drain the frames already received before the link is dropped).
//
// - A write waiting for 'drain' when the close event fires rejects (p-event's rejection event):
//   flush() counted it as a slow peer and dropped the link with an error at once, so the frames
//   the drain was for were lost again (the refusing peer's hello) and a stream failure was
//   counted for a normal close. Fixed: a write failing on a link already ended or dropped is
//   neither a slow peer nor a failure; the reader (or the drain timeout) drops the link.
// - Same cause, older: a send queue over its cap counted slowPeerDrops once in send() and once
//   more when the write in flight failed on the abort. Fixed by the same check.
// - A peer banned for its data (PeerGuard.offence returns the ban) kept its link until the
//   connection closed, and since 1f2f6b3 for up to SYNC_DRAIN_TIMEOUT_MS after: the frames it had
//   already sent were still handed to the engine (each one more offence). Fixed: the driver
//   drops the link of a peer it sees banned.
// - A stream the peer opens while the old one drains (it saw the old one end) replaced it as a
//   failure ('sync stream replaced', streamFailures + 1) although the old one ended normally.
//   Fixed: an ended link is replaced without an error.
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { streamPair } from '@libp2p/utils';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import { encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import { SYNC_QUEUE_MAX_BYTES, SyncDriver } from '../../src/lib/worker/sync-driver.js';
import type { BanInfo } from '../../src/lib/core/peers/score.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { pollUntil } from '../helpers/poll.js';
import { FakeNode, frame, otherNetworkHello } from '../helpers/sync-fakes.js';

const PROTOCOL = '/tabula/test/sync/1.0.0';

/** A direct WebRTC connection to `remote` that opens no streams (the peer opens its own by hand). */
class FakeConn {
  status = 'open';
  readonly limits = undefined;
  readonly multiplexer = '/webrtc';
  readonly remoteAddr = { toString: () => '/webrtc' };
  constructor(readonly remote: PeerId) {}
  get remotePeer(): PeerId {
    return this.remote;
  }
  async newStream(): Promise<Stream> {
    throw new Error('not in this test');
  }
}

interface Side {
  node: FakeNode;
  tl: TestLedger;
  engine: SyncEngine;
  driver: SyncDriver;
  offences: string[];
}

async function side(bans: (code: string | undefined) => boolean = () => false): Promise<Side> {
  const node = new FakeNode(peerIdFromPrivateKey(await generateKeyPair('Ed25519')));
  const tl = await openLedger(memoryLocation(), 1);
  for (let i = 0; i < 5; i++) await tl.ledger.put(`k${i}`, i);
  const offences: string[] = [];
  const box: { driver?: SyncDriver } = {};
  const engine = new SyncEngine({
    replica: ledgerReplica(tl.ledger),
    send: (peer, bytes) => box.driver?.send(peer, bytes),
    now: () => Date.now(),
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    onPeerRejected: (peer, err) => box.driver?.onPeerRejected(peer, err)
  });
  const guard = {
    offence: (peer: string, code: string | undefined): BanInfo | null => {
      offences.push(code ?? '');
      if (!bans(code)) return null;
      void node.hangUp(peerIdFromString(peer)); // as PeerGuard does (platform/ban-gater.ts)
      return { peer, reason: code ?? '', since: 0, until: Date.now() + 60_000, offences: 1 };
    },
    setRtt: () => undefined
  };
  const driver = new SyncDriver({ node: node as unknown as Libp2p, engine, protocol: PROTOCOL, guard });
  box.driver = driver;
  await driver.start();
  return { node, tl, engine, driver, offences };
}

async function stop(s: Side): Promise<void> {
  await s.driver.stop();
  s.engine.close();
  await s.tl.ledger.close();
}

/** A stream from a new peer to `s`, accepted by its driver; `s`'s writes on it never drain. */
async function stuckStream(s: Side): Promise<{ peer: string; out: Stream; inb: Stream }> {
  const remote = peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
  const conn = new FakeConn(remote);
  s.node.conns.push(conn);
  const [out, inb] = await streamPair();
  // The peer reads nothing: every write of `s` waits for a 'drain' event.
  inb.send = () => false;
  void s.node.handler!(inb, conn as unknown as Connection);
  return { peer: remote.toString(), out, inb };
}

const until = (cond: () => boolean, what: string) => pollUntil(cond, what, 5_000, 10);
const settle = (n = 20) => new Promise((r) => setTimeout(r, n));

describe('red team 11: sync driver drain after a close event', () => {
  it('a write waiting when the close event fires does not drop the link before the drain', async () => {
    const a = await side();
    const { out, inb } = await stuckStream(a);
    await until(() => a.engine.status().peers.length === 1, 'the session');
    // As in sync-driver.test.ts: the close event overtakes the frame just queued for the reader.
    inb.addEventListener('message', () => inb.dispatchEvent(new Event('close')), { once: true });
    // A range request first (served from the store: the reader is busy with it), then the hello.
    const get = encodeSyncMessage({ t: 'get', rid: 1, author: a.tl.ledger.author, from: 1, to: 5, maxBytes: 1 << 20 });
    out.send(Uint8Array.from([...frame(get), ...frame(otherNetworkHello())]));
    await until(() => a.driver.stats.openStreams === 0, 'the link dropped');
    await settle();
    expect(a.engine.status().rejectedPeers).toBe(1); // the hello was read
    expect(a.driver.stats.streamFailures).toBe(0);
    expect(a.driver.stats.slowPeerDrops).toBe(0);
    await stop(a);
  });

  it('a send queue over its cap counts one slow-peer drop, not two', async () => {
    const a = await side();
    const { peer } = await stuckStream(a);
    await until(() => a.engine.status().peers.length === 1, 'the session'); // its hello is in flight
    a.driver.send(peer, new Uint8Array(SYNC_QUEUE_MAX_BYTES + 1));
    expect(a.driver.stats.openStreams).toBe(0);
    await settle();
    expect(a.driver.stats.slowPeerDrops).toBe(1);
    expect(a.driver.stats.streamFailures).toBe(1);
    await stop(a);
  });

  it('a stream replacing one that already closed (draining) counts no failure', async () => {
    const a = await side();
    const remote = peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
    const conn = new FakeConn(remote);
    a.node.conns.push(conn);
    const [, inb] = await streamPair();
    void a.node.handler!(inb, conn as unknown as Connection);
    await until(() => a.engine.status().peers.length === 1, 'the session');
    inb.dispatchEvent(new Event('close')); // ended: the reader drains (nothing comes)
    const [, inb2] = await streamPair();
    void a.node.handler!(inb2, conn as unknown as Connection); // the peer's new stream
    expect(a.driver.stats.openStreams).toBe(1);
    expect(a.driver.stats.streamFailures).toBe(0);
    await stop(a);
  });

  it('hands no more frames of a peer to the engine once it is banned', async () => {
    const a = await side((code) => code === 'sync-malformed');
    const { out, inb } = await stuckStream(a);
    await until(() => a.engine.status().peers.length === 1, 'the session');
    // Three malformed messages in one go; the ban's hang-up closes the stream after the first.
    a.node.hangUp = async () => void inb.dispatchEvent(new Event('close'));
    const junk = frame(Uint8Array.of(0xff, 0xff, 0xff));
    out.send(Uint8Array.from([...junk, ...junk, ...junk]));
    await until(() => a.offences.length >= 1, 'the first offence');
    await until(() => a.driver.stats.openStreams === 0, 'the link dropped');
    await settle();
    expect(a.offences).toEqual(['sync-malformed']);
    await stop(a);
  });
});
