// The time protocol over real libp2p: the relay answers it (so a node with only the relay still
// gets an offset), bursts give consistent samples, ClockSync probes a connected peer on its own
// and starts over when our wall clock is stepped, and a malformed or oversized request ends the stream.
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
import { WallClock } from '../../src/lib/core/clock/wall-clock.js';

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

  it('ClockSync drops its samples and probes again at once when our wall clock is stepped', async () => {
    let shift = 0;
    const clock = new WallClock(
      () => Date.now() + shift,
      () => performance.now(),
      performance.timeOrigin
    );
    const sync = new ClockSync({ node: client, protocol, clock });
    await sync.start();
    const relayId = relay.node.peerId.toString();
    try {
      // Two bursts measured before the step: near 0.
      await expect.poll(() => sync.peer(relayId)?.samples ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(8);
      expect(Math.abs(sync.peer(relayId)!.offsetMs)).toBeLessThan(50);
      // Our wall clock is set 5 s ahead; the relay's is not: the relay is now 5 s behind us.
      shift = 5000;
      await expect.poll(() => sync.stats.clockSteps, { timeout: 5000 }).toBe(1);
      await expect.poll(() => sync.peer(relayId)?.samples ?? 0, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
      // Only samples taken after the step remain: none from the clock we left.
      const e = sync.peer(relayId)!;
      expect(Math.abs(e.offsetMs + 5000)).toBeLessThan(50);
      expect(e.jitterMs).toBeLessThan(50);
    } finally {
      await sync.stop();
    }
  });

  it('a clock that steps all the time (too coarse to follow) resets the samples at most once per probe interval', async () => {
    let reads = 0;
    const clock = {
      now: clockNow,
      get steps() {
        return reads++;
      }
    };
    const sync = new ClockSync({ node: client, protocol, clock });
    await sync.start();
    try {
      await new Promise((r) => setTimeout(r, 4500));
      // One reset at the first tick, none for CLOCK_PROBE_INTERVAL_MS after it: the probes keep
      // their startup schedule (at once, then 2 s later), not one burst per tick.
      expect(sync.stats.clockSteps).toBe(1);
      expect(sync.stats.probes).toBeLessThanOrEqual(3);
      expect(sync.peer(relay.node.peerId.toString())).not.toBeNull();
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
