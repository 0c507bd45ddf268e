import { SYNC_PROTOCOL_VERSION } from '../../src/lib/core/sync/constants.js';
import { describe, expect, it } from 'vitest';
import { PartitionMonitor } from '../../src/lib/core/sync/partition.js';
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import { HeadsTree } from '../../src/lib/core/sync/merkle.js';
import { mulberry32, randomBytes } from '../helpers/fake-feed.js';

function monitor(o: { windowMs?: number; minKnown?: number } = {}) {
  let t = 1000;
  const m = new PartitionMonitor({ now: () => t, ...o });
  return { m, advance: (ms: number) => (t += ms), now: () => t };
}

describe('PartitionMonitor (fewer than half of the recently known peers reachable)', () => {
  it('counts one event on the transition into a partition and reports when it started', () => {
    const { m, advance, now } = monitor();
    for (const p of ['a', 'b', 'c', 'd']) expect(m.connected(p)).toBe(null);
    expect(m.status()).toMatchObject({ partitioned: false, knownPeers: 4, reachablePeers: 4, partitionEvents: 0 });
    advance(10);
    expect(m.disconnected('a')).toBe(null);
    expect(m.disconnected('b')).toBe(null); // 2 of 4: exactly half is not a partition
    advance(10);
    const at = now();
    expect(m.disconnected('c')).toBe('entered'); // 1 of 4
    expect(m.disconnected('d')).toBe(null); // still the same partition: not counted again
    expect(m.status()).toEqual({
      partitionEvents: 1,
      partitioned: true,
      partitionedSince: at,
      reachablePeers: 0,
      knownPeers: 4
    });
    advance(10);
    expect(m.connected('a')).toBe(null); // 1 of 4
    expect(m.connected('c')).toBe('healed'); // 2 of 4
    expect(m.status()).toMatchObject({ partitioned: false, partitionedSince: null, partitionEvents: 1 });
    expect(m.disconnected('a')).toBe('entered'); // 1 of 4 again: a second event
    expect(m.status().partitionEvents).toBe(2);
  });

  it('forgets peers unseen for the window (a partition then ends without them), keeps connected ones', () => {
    const { m, advance } = monitor({ windowMs: 60_000 });
    for (const p of ['a', 'b', 'c']) m.connected(p);
    m.disconnected('a');
    expect(m.disconnected('b')).toBe('entered'); // 1 of 3
    advance(59_000);
    expect(m.evaluate()).toBe(null);
    advance(2_000);
    expect(m.evaluate()).toBe('healed'); // a and b aged out: 1 of 1 (c stays known while connected)
    expect(m.status()).toMatchObject({ knownPeers: 1, reachablePeers: 1, partitionEvents: 1 });
    advance(600_000);
    expect(m.evaluate()).toBe(null);
    expect(m.status().knownPeers).toBe(1);
  });

  it('a lone known peer leaving is not a partition (minKnown), nor is a refused peer', () => {
    const { m } = monitor();
    m.connected('a');
    expect(m.disconnected('a')).toBe(null);
    expect(m.status().partitioned).toBe(false);
    m.connected('b');
    m.connected('x');
    expect(m.forget('x')).toBe(null);
    expect(m.status().knownPeers).toBe(2);
    expect(m.disconnected('b')).toBe('entered'); // a and b known, none reachable
    expect(m.disconnected('b')).toBe(null); // unknown disconnect: no change
  });
});

const NET = new Uint8Array(32).fill(7);
const replica: SyncReplica = {
  networkId: NET,
  role: 'full',
  heads: () => [],
  entryCount: () => 0,
  coverage: () => [],
  getRange: async () => [],
  ingest: async (b) => ({ added: b.length, forks: 0, rejected: [] }),
  onHeadsChanged: () => () => undefined
};
const hello = (network = NET) =>
  encodeSyncMessage({
    t: 'hello',
    version: SYNC_PROTOCOL_VERSION,
    network,
    role: 'full',
    root: new HeadsTree().rootHash(),
    feeds: 0,
    entries: 0,
    coverage: [],
    salt: new Uint8Array(16)
  });

describe('SyncEngine partition reporting', () => {
  it('reports a partition in status() and starts an exchange with every peer when it heals', async () => {
    const rand = mulberry32(9);
    let t = 0;
    const begins: string[] = [];
    const engine = new SyncEngine({
      replica,
      now: () => t,
      randomBytes: (n) => randomBytes(n, rand),
      send: (peer, bytes) => {
        if (decodeSyncMessage(bytes).t === 'begin') begins.push(peer);
      }
    });
    for (const p of ['p1', 'p2', 'p3', 'p4']) {
      engine.addPeer(p, { initiator: false });
      await engine.receive(p, hello());
    }
    // A peer of another network is refused and never counts as known.
    engine.addPeer('alien', { initiator: false });
    await engine.receive('alien', hello(new Uint8Array(32).fill(1)));
    expect(engine.status()).toMatchObject({ knownPeers: 4, reachablePeers: 4, partitioned: false });
    t = 500;
    for (const p of ['p2', 'p3', 'p4']) engine.removePeer(p);
    expect(engine.status()).toMatchObject({ partitioned: true, partitionedSince: 500, partitionEvents: 1 });
    begins.length = 0;
    t = 900;
    engine.addPeer('p2', { initiator: false });
    await engine.receive('p2', hello());
    // Healed (2 of 4): an exchange starts with every ready peer, p1 included.
    expect(engine.status()).toMatchObject({ partitioned: false, partitionedSince: null, partitionEvents: 1 });
    expect(begins.sort()).toEqual(['p1', 'p2']);
  });
});
