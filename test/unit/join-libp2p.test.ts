// The join protocol over real libp2p streams (in-memory transport, noise, yamux): three peers
// serve their ledgers with JoinStreamServer, a fresh node joins through JoinStreamClient and is
// verified by quorum; votes are bound to the peers' PeerId keys (the ledger identity keys).
import '../../src/lib/platform/polyfills.js';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLibp2p, type Libp2p } from 'libp2p';
import { memory } from '@libp2p/memory';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromString } from '@libp2p/peer-id';
import { concatBytes, toHex } from '../../src/lib/core/bytes.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { shortNetworkId } from '../../src/lib/core/topics.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { Joiner, JOIN_PROTOCOL_ID, installJoinSnapshot, ledgerJoinSource } from '../../src/lib/core/join/index.js';
import { JoinStreamClient, JoinStreamServer } from '../../src/lib/platform/join-protocol.js';
import { genesis, memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';

let seq = 0;
const started: Libp2p[] = [];

async function nodeFor(tl: TestLedger): Promise<Libp2p> {
  const n = await createLibp2p({
    privateKey: privateKeyFromRaw(concatBytes(tl.keys.seed, tl.keys.publicKey)),
    addresses: { listen: [`/memory/join-test-${process.pid}-${++seq}`] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  });
  started.push(n);
  return n;
}

afterAll(async () => {
  await Promise.all(started.map((n) => n.stop()));
});

describe('join over libp2p', () => {
  it('a fresh node joins 3 serving peers over streams and is verified', async () => {
    const writer = await openLedger(memoryLocation(), 50);
    for (let i = 0; i < 40; i++) await writer.ledger.put(`k${i}`, { i, pad: 'x'.repeat(200) });
    const protocol = JOIN_PROTOCOL_ID(shortNetworkId(writer.ledger.networkIdHex));
    const servers: Libp2p[] = [];
    for (const key of [1, 2, 3]) {
      const tl = await openLedger(memoryLocation(), key);
      await tl.ledger.ingest(writer.log.map((h) => encodeEntry(h.entry)));
      const node = await nodeFor(tl);
      const s = new JoinStreamServer({
        networkId: tl.ledger.networkId,
        seed: tl.keys.seed,
        voter: toHex(tl.keys.publicKey),
        source: ledgerJoinSource(tl.ledger)
      });
      await s.register(node, protocol);
      servers.push(node);
    }
    const joined = await openLedger(memoryLocation(), 99);
    const node = await nodeFor(joined);
    const ref: { joiner?: Joiner } = {};
    const client = new JoinStreamClient(node, protocol, (peer, bytes) => ref.joiner!.receive(peer, bytes));
    const joiner = (ref.joiner = new Joiner({
      networkId: joined.ledger.networkId,
      genesis,
      operators: [],
      send: (peer, bytes) => client.send(peer, bytes),
      now: Date.now,
      randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
      install: (snap, verdict) => installJoinSnapshot(joined.ledger, snap, verdict),
      voterOf: (peer) => {
        const key = peerIdFromString(peer).publicKey;
        return key ? toHex(key.raw) : undefined;
      },
      chunkBytes: 4096
    }));
    for (const s of servers) {
      await node.dial(s.getMultiaddrs());
      joiner.addPeer(s.peerId.toString());
    }
    const timer = setInterval(() => joiner.tick(), 100);
    try {
      joiner.start();
      await vi.waitFor(() => expect(joiner.status().state).toBe('verified'), { timeout: 20_000, interval: 50 });
    } finally {
      clearInterval(timer);
      client.closeAll();
    }
    const s = joiner.status();
    console.log(`join over libp2p: ${JSON.stringify(s)}`);
    expect(s).toMatchObject({ verified: true, peersAsked: 3, agreeing: 3, entries: 40 });
    expect(s.totalBytes).toBeGreaterThan(4096); // several chunks
    expect(joined.ledger.records()).toEqual(writer.ledger.records());
    expect(headsRoot(joined.ledger.heads())).toBe(headsRoot(writer.ledger.heads()));
    expect(joined.ledger.stats().unverified).toBe(false);
  }, 60_000);
});
