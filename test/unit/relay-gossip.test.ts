// The relay's inbound caps on libp2p: gossipsub frame size, per-peer publish rate, HOP request
// frame size and WebSocket message size.
import { afterEach, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { multiaddr } from '@multiformats/multiaddr';
import type { Stream } from '@libp2p/interface';
import { publicKeyToProtobuf } from '@libp2p/crypto/keys';
import { DEFAULT_MAX_ENTRY_BYTES } from '../../src/lib/core/constants.js';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { leb128 } from '../helpers/leb128.js';
import { GRAYLIST_THRESHOLD, PeerRateLimiter, scoringOptions } from '../../relay/gossip-guard.js';
import { APP_WEIGHT, SCORE_THRESHOLDS } from '../../src/lib/platform/gossip-scoring.js';
import { HOP_PROTOCOL } from '../../relay/node.js';
import { CONNECTION_LIMITS, GOSSIP_LIMITS, RELAY_LIMITS } from '../../relay/limits.js';
import type { RunningRelay } from '../../relay/server.js';
import { createRelayClient, dialRelay, waitFor, type ClientNode } from '../helpers/relay-client.js';
import { relayAddr, startTestRelay } from '../helpers/relay-fixture.js';

const running: Array<{ stop(): void | Promise<void> }> = [];

afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function relay(overrides = {}): Promise<RunningRelay> {
  const r = await startTestRelay(overrides);
  running.push(r);
  return r;
}

async function client(r: RunningRelay): Promise<ClientNode> {
  const c = await createRelayClient({ reserve: false });
  running.push(c);
  await dialRelay(c, relayAddr(r));
  return c;
}

/** A validly signed entry of the bundled network, as close to maxEntryBytes as a record allows. */
async function largestEntry(): Promise<Uint8Array> {
  const keys = await keysFromByte(5);
  const client = clientIdOf(toHex(keys.publicKey));
  const net = networkId(defaultGenesis());
  let n = DEFAULT_MAX_ENTRY_BYTES - 200;
  for (;;) {
    const payload = yUpdateAt('big', 'x'.repeat(n), client, 0);
    const h = await createEntry(
      { keys, seq: 1, prev: new Uint8Array(32), lamport: 1, time: 1, clock: 1, payload },
      net
    );
    const bytes = encodeEntry(h.entry);
    if (bytes.length <= DEFAULT_MAX_ENTRY_BYTES) return bytes;
    n -= bytes.length - DEFAULT_MAX_ENTRY_BYTES;
  }
}

/** gossipsub's extra methods (on the class, not on its interface). */
interface GossipInternals {
  getMeshPeers(topic: string): string[];
  getScore(peer: string): number;
}

/** Two clients joined to `topic` through the relay, with both in the relay's mesh. */
async function meshedPair(r: RunningRelay, topic: string): Promise<[ClientNode, ClientNode]> {
  const a = await client(r);
  const b = await client(r);
  a.services.pubsub.subscribe(topic);
  b.services.pubsub.subscribe(topic);
  const relayPubsub = r.node.services.pubsub as unknown as GossipInternals;
  await waitFor(() => {
    const mesh = relayPubsub.getMeshPeers(topic);
    return mesh.includes(a.peerId.toString()) && mesh.includes(b.peerId.toString());
  }, 'both clients in the relay mesh');
  await waitFor(
    () => a.services.pubsub.getSubscribers(topic).some((p) => p.equals(r.node.peerId)),
    'a to see the relay subscribed'
  );
  return [a, b];
}

function received(c: ClientNode, topic: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  c.services.pubsub.addEventListener('message', (evt) => {
    if (evt.detail.topic === topic) out.push(evt.detail.data);
  });
  return out;
}

describe('relay gossip frame cap', () => {
  it('forwards an entry of the largest legitimate size', async () => {
    const r = await relay();
    const topic = r.node.services.pubsub.getTopics().find((t) => t.endsWith('/entries'))!;
    const [a, b] = await meshedPair(r, topic);
    const got = received(b, topic);
    const entry = await largestEntry();
    expect(entry.length).toBeGreaterThan(DEFAULT_MAX_ENTRY_BYTES - 64);
    await a.services.pubsub.publish(topic, entry);
    await waitFor(() => got.length === 1, 'b to receive the entry');
    expect(got[0]).toEqual(entry);
    expect(r.guards.oversizedFrames.count).toBe(0);
  });

  it('validates entries with the core: junk is rejected, not forwarded, and bans its sender', async () => {
    const r = await relay();
    const topic = r.node.services.pubsub.getTopics().find((t) => t.endsWith('/entries'))!;
    const [a, b] = await meshedPair(r, topic);
    const h = await client(r);
    h.services.pubsub.subscribe(topic);
    await waitFor(
      () => h.services.pubsub.getSubscribers(topic).some((p) => p.equals(r.node.peerId)),
      'h to see the relay subscribed'
    );
    const got = received(b, topic);
    const good = await largestEntry();
    const forged = good.slice();
    forged[forged.length - 10] ^= 1; // the signature no longer verifies
    for (const junk of [new Uint8Array(300).fill(7), forged])
      await h.services.pubsub.publish(topic, junk).catch(() => {});
    await waitFor(() => r.guards.rejectedMessages.count >= 1, 'junk refused at the relay');
    // The first invalid message bans the sender: disconnected, and the gater refuses it.
    await waitFor(() => r.guards.bans.isBanned(h.peerId.toString()), 'h banned');
    await waitFor(() => h.getConnections(r.node.peerId).length === 0, 'h disconnected', 5000);
    await h.dial(multiaddr(relayAddr(r))).catch(() => undefined);
    await waitFor(() => r.guards.bans.gate.refused > 0, 'the redial refused by the gater', 5000);
    await waitFor(() => h.getConnections(r.node.peerId).length === 0, 'h still cut off', 5000);
    // Honest traffic flows on.
    await a.services.pubsub.publish(topic, good);
    await waitFor(() => got.length === 1, 'the valid entry to pass');
    expect(got).toEqual([good]);
    const relayPubsub = r.node.services.pubsub as unknown as GossipInternals;
    await waitFor(
      () => relayPubsub.getScore(h.peerId.toString()) < GRAYLIST_THRESHOLD,
      'h below the graylist (P5 of a banned peer)',
      5000
    );
    expect(relayPubsub.getScore(a.peerId.toString())).toBeGreaterThanOrEqual(0);
    expect(relayPubsub.getScore(b.peerId.toString())).toBeGreaterThanOrEqual(0);
    expect(r.guards.bans.active().map((x) => x.peer)).toEqual([h.peerId.toString()]);
  });

  it('hangs up on a peer whose gossip frame is over the cap, before buffering it', async () => {
    const r = await relay();
    const attacker = await client(r);
    const stream: Stream = await attacker.dialProtocol(multiaddr(relayAddr(r)), '/meshsub/1.1.0');
    stream.send(leb128(GOSSIP_LIMITS.maxFrameBytes + 1));
    stream.send(new Uint8Array(1024));
    await waitFor(() => attacker.getConnections(r.node.peerId).length === 0, 'the relay to hang up', 5000);
    expect(r.guards.oversizedFrames.count).toBe(1);
  });
});

describe('relay gossip rate limit', () => {
  it('drops messages above the per-peer rate and graylists the flooder', async () => {
    const rate = 5;
    const r = await relay({ gossipRate: rate });
    // Discovery: valid announcements of a's own id, so only the rate limit decides.
    const topic = r.node.services.pubsub.getTopics().find((t) => t.endsWith('/discovery'))!;
    const [a, b] = await meshedPair(r, topic);
    const got = received(b, topic);
    const started = Date.now();
    const sent = 60;
    const key = publicKeyToProtobuf(a.peerId.publicKey!);
    const announcement = Uint8Array.from([0x0a, key.length, ...key]);
    for (let i = 0; i < sent; i++) await a.services.pubsub.publish(topic, announcement);
    await waitFor(() => r.guards.rateLimiter.refused > 0, 'refusals');
    const elapsedS = (Date.now() - started) / 1000;
    const allowed = rate * GOSSIP_LIMITS.burstSeconds + Math.ceil(rate * elapsedS) + 1;
    await waitFor(() => got.length > 0, 'some messages through');
    expect(got.length).toBeLessThanOrEqual(allowed);
    expect(r.guards.rateLimiter.refused).toBeGreaterThanOrEqual(sent - allowed);
    const relayPubsub = r.node.services.pubsub as unknown as GossipInternals;
    await waitFor(() => relayPubsub.getScore(a.peerId.toString()) < GRAYLIST_THRESHOLD, 'a graylisted', 5000);
    expect(relayPubsub.getScore(b.peerId.toString())).toBeGreaterThanOrEqual(0);
  });
});

describe('relay gossip scoring', () => {
  it('does not penalise browsers for sharing an IP (NAT, loopback): IP colocation is off', () => {
    const opts = scoringOptions(['t'], new PeerRateLimiter({ rate: 1, burst: 1, strikeHalfLifeMs: 1000 }));
    // gossipsub retains disconnected peers' scores for an hour and counts them per IP: with the
    // default weight, the 11th browser ever seen from one address lost peer discovery.
    expect(opts.scoreParams?.IPColocationFactorWeight).toBe(0);
  });
});

describe('PeerRateLimiter', () => {
  it('allows a burst, then the rate, and decays strikes', () => {
    let now = 0;
    const limiter = new PeerRateLimiter({ rate: 10, burst: 20, strikeHalfLifeMs: 1000 }, () => now);
    let ok = 0;
    for (let i = 0; i < 30; i++) if (limiter.take('p')) ok++;
    expect(ok).toBe(20);
    expect(limiter.strikes('p')).toBe(10);
    now += 1000;
    ok = 0;
    for (let i = 0; i < 30; i++) if (limiter.take('p')) ok++;
    expect(ok).toBe(10);
    expect(limiter.strikes('p')).toBeCloseTo(5 + 20, 5);
    now += 10_000;
    expect(limiter.strikes('p')).toBeLessThan(0.1);
    expect(limiter.take('q')).toBe(true);
    limiter.sweep();
    expect(limiter.size).toBe(1);
  });

  it('caps strikes: a counted flood stays under the graylist, an honest burst over the rate recovers in seconds', () => {
    let now = 0;
    const limiter = new PeerRateLimiter(
      {
        rate: GOSSIP_LIMITS.messagesPerSecond,
        burst: GOSSIP_LIMITS.messagesPerSecond * GOSSIP_LIMITS.burstSeconds,
        strikeHalfLifeMs: GOSSIP_LIMITS.strikeHalfLifeMs,
        maxStrikes: GOSSIP_LIMITS.maxStrikes
      },
      () => now
    );
    const score = (): number => -limiter.strikes('w') * APP_WEIGHT;
    // An unpaced writer's burst of 2,000 messages at one instant: 1,400 over the rate.
    for (let i = 0; i < 2_000; i++) limiter.take('w');
    expect(limiter.refused).toBe(1_400);
    expect(score()).toBeLessThan(GRAYLIST_THRESHOLD);
    now += 15_000;
    expect(score()).toBeGreaterThan(GRAYLIST_THRESHOLD);
    now += 30_000;
    expect(score()).toBeGreaterThan(SCORE_THRESHOLDS.gossipThreshold);
    // A flood at twice the rate, every message counted: once the bucket's burst is spent (2 s), it keeps
    // the peer under the graylist. (gossipsub reads no message of a graylisted peer: see the next test.)
    for (let s = 1; s <= 60; s++) {
      now += 1_000;
      for (let i = 0; i < 2 * GOSSIP_LIMITS.messagesPerSecond; i++) limiter.take('w');
      if (s > GOSSIP_LIMITS.burstSeconds) expect(score()).toBeLessThan(GRAYLIST_THRESHOLD);
    }
  });

  /**
   * A flood at `perSecond` for `seconds`, in RPCs every 10 ms, through a model of gossipsub 17's
   * gate: an RPC is read only while its sender's score is at or above the graylist, and the score
   * is recomputed at most once per heartbeat (scoreCacheValidityMs = heartbeatInterval, 1 s).
   * Returns what reached the rate limit (each one a signature check at the relay) and what it let through.
   */
  function floodThroughGraylist(maxStrikes: number | undefined, perSecond: number, seconds: number) {
    let now = 0;
    const limiter = new PeerRateLimiter(
      {
        rate: GOSSIP_LIMITS.messagesPerSecond,
        burst: GOSSIP_LIMITS.messagesPerSecond * GOSSIP_LIMITS.burstSeconds,
        strikeHalfLifeMs: GOSSIP_LIMITS.strikeHalfLifeMs,
        maxStrikes
      },
      () => now
    );
    let score = 0;
    let scoredUntil = -1;
    let read = 0;
    let accepted = 0;
    for (; now < seconds * 1000; now += 10) {
      if (scoredUntil <= now) [score, scoredUntil] = [-limiter.strikes('f') * APP_WEIGHT, now + 1000];
      if (score < GRAYLIST_THRESHOLD) continue;
      for (let i = 0; i < perSecond / 100; i++, read++) if (limiter.take('f')) accepted++;
    }
    return { read, accepted };
  }

  it('a flood is let in again every ~14 s with strikes capped, for a fifth of what 300/s allows', () => {
    const capped = floodThroughGraylist(GOSSIP_LIMITS.maxStrikes, 5_000, 60);
    const uncapped = floodThroughGraylist(undefined, 5_000, 60);
    const allowed = GOSSIP_LIMITS.messagesPerSecond * 60;
    // Graylisted messages add no strikes, so the cap (not the flood) decides when the peer is back.
    expect(capped.accepted).toBeLessThanOrEqual(allowed / 4);
    expect(capped.read).toBe(4 * 5_000); // four one-second windows a minute
    expect(uncapped.read).toBe(5_000); // one: 1,400+ strikes take ~90 s to decay below the graylist
    expect(uncapped.accepted).toBeLessThan(capped.accepted);
  });
});

describe('relay HOP and WebSocket caps', () => {
  it('resets a HOP stream whose request frame is over the cap', async () => {
    const r = await relay();
    const c = await client(r);
    const stream = await c.dialProtocol(multiaddr(relayAddr(r)), HOP_PROTOCOL);
    const closed = new Promise<void>((resolve) => stream.addEventListener('close', () => resolve(), { once: true }));
    stream.send(leb128(RELAY_LIMITS.maxHopFrameBytes + 1));
    stream.send(new Uint8Array(512));
    // At once, not when the relay's HOP timeout would end a request that never completes.
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(RELAY_LIMITS.hopTimeoutMs / 2);
    expect(stream.status).toBe('reset');
  });

  async function openWs(r: RunningRelay): Promise<WebSocket> {
    const { WebSocket } = createRequire(import.meta.url)('ws') as { WebSocket: typeof globalThis.WebSocket };
    const ws = new WebSocket(`ws://127.0.0.1:${relayAddr(r).split('/')[4]}`);
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve);
      ws.addEventListener('error', reject);
    });
    return ws;
  }

  it('closes a WebSocket whose message is over the cap (1009) and keeps running', async () => {
    const r = await relay();
    const ws = await openWs(r);
    const code = new Promise<number>((resolve) => ws.addEventListener('close', (e) => resolve(e.code)));
    ws.send(new Uint8Array(CONNECTION_LIMITS.maxWebSocketMessageBytes + 1));
    expect(await code).toBe(1009);
    // The relay survived the client's protocol error and still serves libp2p clients.
    const c = await client(r);
    expect(c.getConnections(r.node.peerId).length).toBe(1);
  });

  it('survives a malformed WebSocket frame', async () => {
    const r = await relay();
    const port = Number(relayAddr(r).split('/')[4]);
    const { connect } = await import('node:net');
    const sock = connect(port, '127.0.0.1');
    const key = Buffer.from('0123456789abcdef').toString('base64');
    sock.write(
      `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
    );
    await new Promise((resolve) => sock.once('data', resolve));
    // Opcode 0x3 is reserved: the server must fail the connection, not the process.
    sock.write(Buffer.from([0x83, 0x80, 1, 2, 3, 4]));
    await new Promise((resolve) => sock.once('close', resolve));
    const c = await client(r);
    expect(c.getConnections(r.node.peerId).length).toBe(1);
  });
});
