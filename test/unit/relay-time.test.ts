// The time protocol over real libp2p: the relay answers it (so a node with only the relay still
// gets an offset), bursts give consistent samples, ClockSync probes a connected peer on its own,
// and a malformed or oversized request ends the stream.
import '../../src/lib/platform/polyfills.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { byteStream } from '@libp2p/utils';
import type { Connection } from '@libp2p/interface';
import { createRelayClient, type ClientNode } from '../helpers/relay-client.js';
import { startTestRelay, relayAddr } from '../helpers/relay-fixture.js';
import type { RunningRelay } from '../../relay/server.js';
import { shortNetworkId } from '../../src/lib/core/topics.js';
import {
  CLOCK_STARTUP_INTERVAL_MS,
  TIME_PROTOCOL_ID,
  TIME_MAX_REQUESTS_PER_STREAM
} from '../../src/lib/core/clock/constants.js';
import { encodeTimeRequest } from '../../src/lib/core/clock/codec.js';
import { clockNow, probeClock } from '../../src/lib/platform/time-protocol.js';
import { ClockSync } from '../../src/lib/worker/clock-sync.js';

describe('time protocol against the relay', () => {
  let relay: RunningRelay;
  let client: ClientNode;
  let conn: Connection;
  let protocol: string;

  beforeAll(async () => {
    relay = await startTestRelay();
    protocol = TIME_PROTOCOL_ID(shortNetworkId(relay.networkId));
    client = await createRelayClient({ reserve: false });
    conn = await client.dial(multiaddr(relayAddr(relay)));
  }, 30_000);

  afterAll(async () => {
    await client?.stop();
    await relay?.stop();
  });

  it('answers a burst: offsets near 0 on one machine, delays ≥ 0', async () => {
    const samples = await probeClock(conn, protocol, 4);
    expect(samples).toHaveLength(4);
    for (const s of samples) {
      expect(s.delayMs).toBeGreaterThanOrEqual(0);
      // Same machine, same clock: only scheduling asymmetry, within half the round trip.
      expect(Math.abs(s.offsetMs)).toBeLessThanOrEqual(s.delayMs / 2 + 2);
      expect(Math.abs(s.at - clockNow())).toBeLessThan(5000);
    }
  });

  it('ClockSync probes the connected relay on its own and reports an offset', async () => {
    const sync = new ClockSync({ node: client, protocol });
    await sync.start();
    try {
      await expect.poll(() => sync.node(), { timeout: 10_000, interval: 100 }).not.toBeNull();
      const node = sync.node()!;
      expect(node.peers).toBe(1);
      expect(Math.abs(node.offsetMs)).toBeLessThanOrEqual(node.uncertaintyMs);
      expect(node.uncertaintyMs).toBeLessThan(50);
      expect(sync.peer(relay.node.peerId.toString())?.samples).toBeGreaterThanOrEqual(1);
      // The second burst follows the first within CLOCK_STARTUP_INTERVAL_MS (plus a tick), not 15 s later.
      await expect
        .poll(() => sync.stats.probes, { timeout: CLOCK_STARTUP_INTERVAL_MS + 3000 })
        .toBeGreaterThanOrEqual(2);
      expect(sync.peer(relay.node.peerId.toString())?.samples).toBe(8);
      expect(sync.stats.probeFailures).toBe(0);
    } finally {
      await sync.stop();
    }
  });

  it('ends the stream on a malformed request', async () => {
    const stream = await conn.newStream(protocol);
    const bytes = byteStream(stream);
    const bad = encodeTimeRequest(1);
    bad[0] = 9;
    await bytes.write(bad);
    await expect(bytes.read({ bytes: 25, signal: AbortSignal.timeout(5000) })).rejects.toThrow();
  });

  it(`answers at most ${TIME_MAX_REQUESTS_PER_STREAM} requests per stream`, async () => {
    const stream = await conn.newStream(protocol);
    const bytes = byteStream(stream);
    let answered = 0;
    try {
      for (let i = 0; i < TIME_MAX_REQUESTS_PER_STREAM + 2; i++) {
        await bytes.write(encodeTimeRequest(clockNow()));
        await bytes.read({ bytes: 25, signal: AbortSignal.timeout(5000) });
        answered++;
      }
    } catch {
      // the server closed the stream
    }
    expect(answered).toBe(TIME_MAX_REQUESTS_PER_STREAM);
  });
});
