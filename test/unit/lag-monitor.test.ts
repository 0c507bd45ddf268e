// The worker's LagMonitor fed by real SyncEngines talking in memory: a comparison tells A how far
// B is behind, B knows what it misses, and equal roots at hello count as "in sync".
import { describe, expect, it } from 'vitest';
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import { LagMonitor } from '../../src/lib/worker/lag-monitor.js';
import { mulberry32, randomBytes } from '../helpers/fake-feed.js';

const NET = new Uint8Array(32).fill(7);
const head = (authorByte: number, seq: number): FeedHead => ({
  author: authorByte.toString(16).padStart(2, '0').repeat(32),
  seq,
  hash: 'ab'.repeat(32)
});

function replica(heads: FeedHead[]): SyncReplica {
  return {
    networkId: NET,
    role: 'full',
    heads: () => heads,
    entryCount: () => heads.reduce((n, h) => n + h.seq, 0),
    coverage: () => [],
    getRange: async () => [], // never reaches B: range answers are dropped below
    ingest: async () => ({ added: 0, forks: 0, rejected: [] }),
    onHeadsChanged: () => () => undefined
  };
}

function pair(aHeads: FeedHead[], bHeads: FeedHead[]) {
  const rand = mulberry32(3);
  const t = { now: 1_000_000 };
  const queue: { to: 'a' | 'b'; bytes: Uint8Array }[] = [];
  const make = (heads: FeedHead[], peerName: 'a' | 'b', lag: () => LagMonitor) =>
    new SyncEngine({
      replica: replica(heads),
      now: () => t.now,
      randomBytes: (n) => randomBytes(n, rand),
      // Range answers (`entries`, type byte 6) are lost: B stays behind, its claims unrefused.
      send: (_peer, bytes) => void (bytes[0] === 6 || queue.push({ to: peerName, bytes })),
      onCompared: (peer, diffs) => lag().compared(peer, diffs)
    });
  const engines: { a?: SyncEngine; b?: SyncEngine } = {};
  const lags: { a?: LagMonitor; b?: LagMonitor } = {};
  engines.a = make(aHeads, 'b', () => lags.a!);
  engines.b = make(bHeads, 'a', () => lags.b!);
  lags.a = new LagMonitor(engines.a, () => t.now);
  lags.b = new LagMonitor(engines.b, () => t.now);
  const run = async () => {
    for (let i = 0; queue.length > 0 && i < 1000; i++) {
      const m = queue.shift()!;
      await (m.to === 'a' ? engines.a! : engines.b!).receive(m.to === 'a' ? 'b' : 'a', m.bytes);
    }
  };
  return { engines: engines as Required<typeof engines>, lags: lags as Required<typeof lags>, run, t };
}

describe('LagMonitor with the sync engine', () => {
  it('after a comparison, A sees B behind by what B lacks; B knows its own gap and since when', async () => {
    const p = pair([head(1, 10), head(2, 5)], [head(1, 4)]);
    p.engines.a.addPeer('b', { initiator: true });
    p.engines.b.addPeer('a', { initiator: false });
    await p.run();
    p.t.now += 2500;
    // B lacks 6 of author 1 and 5 of author 2 relative to the best heads A knows.
    expect(p.lags.a.peer('b')).toEqual({ entries: 11, ms: 2500, at: 1_000_000 });
    expect(p.lags.b.peer('a')).toEqual({ entries: 0, ms: 0, at: 1_000_000 });
    expect(p.lags.a.self()).toEqual({ entries: 0, ms: 0 });
    // B's gap opened when it first sampled it.
    const first = p.lags.b.self();
    expect(first.entries).toBe(11);
    p.t.now += 1000;
    expect(p.lags.b.self()).toEqual({ entries: 11, ms: 1000 });
  });

  it('equal roots at hello: both peers in sync without an exchange', async () => {
    const p = pair([head(1, 3)], [head(1, 3)]);
    p.engines.a.addPeer('b', { initiator: true });
    p.engines.b.addPeer('a', { initiator: false });
    await p.run();
    expect(p.lags.a.peer('b')).toEqual({ entries: 0, ms: 0, at: 1_000_000 });
    expect(p.lags.b.peer('a')).toEqual({ entries: 0, ms: 0, at: 1_000_000 });
  });
});
