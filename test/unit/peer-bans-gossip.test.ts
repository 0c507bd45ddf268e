// Peer scoring and bans over real libp2p (in-memory transport, noise, yamux, gossipsub 17 with
// the browsers' score parameters): the hostile originator of junk is banned at once while honest
// traffic flows on; junk carried by an honest relay that does not validate never lowers that
// relay's score; a discovery announcement for another peer id is dropped and bans its sender.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { identify, type Identify } from '@libp2p/identify';
import { memory } from '@libp2p/memory';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { publicKeyToProtobuf } from '@libp2p/crypto/keys';
import { createLibp2p, type Libp2p } from 'libp2p';
import { encodeEntry } from '../../src/lib/core/entry.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { startEntryGossip, type EntryGossip } from '../../src/lib/worker/entry-gossip.js';
import { PeerGuard } from '../../src/lib/worker/peer-guard.js';
import { SCORE_THRESHOLDS } from '../../src/lib/platform/gossip-scoring.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';

type Node = Libp2p<{ identify: Identify; pubsub: GossipSub }>;
const ENTRIES = 'tabula/test/entries';
const DISCOVERY = 'tabula/test/discovery';
const WAIT = { timeout: 10_000, interval: 20 };

let nodes: Node[] = [];
let gossips: EntryGossip[] = [];
let count = 0;

afterEach(async () => {
  for (const g of gossips) g.stop();
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
  gossips = [];
});

/** A node; with a guard it runs the browsers' gater and gossipsub score parameters. */
async function node(guard?: PeerGuard): Promise<Node> {
  const n = await createLibp2p({
    addresses: { listen: [`/memory/bans-${process.pid}-${++count}`] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(guard ? { connectionGater: guard.gater() } : {}),
    services: {
      identify: identify(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        heartbeatInterval: 100,
        ...guard?.gossipOptions([ENTRIES, DISCOVERY])
      })
    }
  });
  guard?.bind(n);
  nodes.push(n);
  return n;
}

const score = (at: Node, peer: Node): number =>
  (at.services.pubsub as unknown as { getScore(p: string): number }).getScore(peer.peerId.toString());

async function authored(keyByte: number, n: number): Promise<HashedEntry[]> {
  const other = await openLedger(memoryLocation(), keyByte);
  for (let i = 0; i < n; i++) await other.ledger.put(`k${keyByte}-${i}`, i);
  return other.log;
}

/** `from` sees `to` subscribed to `topic` (so a publish reaches it). */
async function sees(from: Node, to: Node, topic: string): Promise<void> {
  await vi.waitFor(
    () => expect(from.services.pubsub.getSubscribers(topic).map(String)).toContain(to.peerId.toString()),
    WAIT
  );
}

/** Junk of every ban-worthy kind: malformed bytes and an entry whose signature no longer verifies. */
async function junk(): Promise<Uint8Array[]> {
  const [good] = await authored(9, 1);
  const forged = encodeEntry(good.entry);
  forged[forged.length - 10] ^= 1;
  return [new Uint8Array(300).fill(7), forged];
}

interface Honest {
  n: Node;
  guard: PeerGuard;
  me: TestLedger;
  g: EntryGossip;
}

/** An honest browser-like node: entry gossip with origin blame, guard, `relay` protected. */
async function honest(relay: () => string | undefined): Promise<Honest> {
  const guard = new PeerGuard((p) => p === relay());
  const n = await node(guard);
  const me = await openLedger(memoryLocation(), 1);
  const g = startEntryGossip(n, me.ledger, ENTRIES, undefined, {}, guard.gossipBlame());
  gossips.push(g);
  guard.guardDiscovery(n.services.pubsub, DISCOVERY);
  n.services.pubsub.subscribe(DISCOVERY);
  return { n, guard, me, g };
}

describe('bans over real gossipsub', () => {
  it('junk carried by an honest relay that does not validate: the originator is banned, the relay keeps its score', async () => {
    // H (hostile) - R (forwards without validating) - B (honest), and A (honest author) - R.
    const r = await node();
    const relayId = r.peerId.toString();
    const b = await honest(() => relayId);
    const h = await node();
    const a = await node();
    for (const x of [h, a, b.n]) await x.dial(r.getMultiaddrs());
    r.services.pubsub.subscribe(ENTRIES);
    for (const x of [h, a]) await sees(x, r, ENTRIES);
    await sees(r, b.n, ENTRIES);

    const bad = await junk();
    await h.services.pubsub.publish(ENTRIES, bad[0]);
    await vi.waitFor(() => expect(b.guard.book.isBanned(h.peerId.toString())).toBe(true), WAIT);
    // Banned at its first invalid message; the rest is refused too, honest entries flow on.
    for (let i = 1; i < 10; i++) await h.services.pubsub.publish(ENTRIES, bad[i % bad.length].slice());
    const good = await authored(2, 3);
    for (const e of good) await a.services.pubsub.publish(ENTRIES, encodeEntry(e.entry));
    await vi.waitFor(() => expect(b.me.ledger.stats().entries).toBe(3), WAIT);
    await vi.waitFor(() => expect(b.g.stats.rejected).toBeGreaterThanOrEqual(2), WAIT);
    expect(b.g.stats.accepted).toBe(3);
    expect(b.g.stats.rejectedByPeer.has(relayId)).toBe(false);
    expect(b.g.stats.rejectedByPeer.get(h.peerId.toString())).toBeGreaterThanOrEqual(1);

    // The relay: never banned, its gossipsub score and our score of it not lowered.
    expect(b.guard.book.isBanned(relayId)).toBe(false);
    expect(b.guard.book.info(relayId)?.counts.invalid ?? 0).toBe(0);
    expect(score(b.n, r)).toBeGreaterThanOrEqual(0);
    expect(b.n.getConnections(r.peerId)).not.toHaveLength(0);
    expect(b.guard.bans().map((x) => x.peer)).toEqual([h.peerId.toString()]);
    expect(b.guard.bans()[0]).toMatchObject({ reason: 'malformed-entry', offences: 1 });
  });

  it('a hostile peer connected directly: Rejected (gossipsub P4 on it), banned within 10 messages, disconnected, redials refused', async () => {
    const b = await honest(() => undefined);
    const h = await node();
    const a = await node();
    for (const x of [h, a]) await x.dial(b.n.getMultiaddrs());
    for (const x of [h, a]) await sees(x, b.n, ENTRIES);
    const bad = await junk();
    let sent = 0;
    while (!b.guard.book.isBanned(h.peerId.toString()) && sent < 10) {
      await h.services.pubsub.publish(ENTRIES, bad[sent % bad.length].slice()).catch(() => undefined);
      sent++;
      await new Promise((res) => setTimeout(res, 50));
    }
    console.log(`hostile peer banned after ${sent} invalid message(s)`);
    expect(b.guard.book.isBanned(h.peerId.toString())).toBe(true);
    expect(sent).toBeLessThanOrEqual(10);
    await vi.waitFor(() => expect(b.n.getConnections(h.peerId)).toHaveLength(0), WAIT);
    // Graylisted in gossipsub too (P4 for the Reject plus P5 for the ban).
    await vi.waitFor(() => expect(score(b.n, h)).toBeLessThan(SCORE_THRESHOLDS.graylistThreshold), WAIT);
    // Redials are refused while the ban lasts, in both directions.
    await h.dial(b.n.getMultiaddrs()).catch(() => undefined);
    await vi.waitFor(() => expect(b.guard.stats().refusedConnections).toBeGreaterThan(0), WAIT);
    await expect(b.n.dial(h.getMultiaddrs())).rejects.toThrow();
    await vi.waitFor(() => expect(b.n.getConnections(h.peerId)).toHaveLength(0), WAIT);
    // Honest traffic flows on.
    const good = await authored(2, 2);
    for (const e of good) await a.services.pubsub.publish(ENTRIES, encodeEntry(e.entry));
    await vi.waitFor(() => expect(b.me.ledger.stats().entries).toBe(2), WAIT);
    expect(b.guard.book.isBanned(a.peerId.toString())).toBe(false);
    expect(b.guard.book.score(a.peerId.toString())).toBeGreaterThan(0);
  });

  it('a discovery announcement for another peer id is dropped and bans its sender; its own is delivered', async () => {
    const b = await honest(() => undefined);
    const h = await node();
    const a = await node();
    for (const x of [h, a]) {
      await x.dial(b.n.getMultiaddrs());
      x.services.pubsub.subscribe(DISCOVERY);
      await sees(x, b.n, DISCOVERY);
    }
    const heard: string[] = [];
    b.n.services.pubsub.addEventListener('message', (ev) => {
      if (ev.detail.topic === DISCOVERY && ev.detail.type === 'signed') heard.push(ev.detail.from.toString());
    });
    const announce = (who: Node): Uint8Array => {
      const key = publicKeyToProtobuf(who.peerId.publicKey!);
      return Uint8Array.from([0x0a, key.length, ...key]);
    };
    // H announces A's key (addresses for another peer id): dropped, H banned.
    await h.services.pubsub.publish(DISCOVERY, announce(a));
    await vi.waitFor(() => expect(b.guard.book.isBanned(h.peerId.toString())).toBe(true), WAIT);
    expect(b.guard.bans()[0].reason).toBe('forged-announcement');
    expect(b.guard.stats().forgedAnnouncements).toBe(1);
    // A announces itself: delivered (what pubsub-peer-discovery listens to).
    await a.services.pubsub.publish(DISCOVERY, announce(a));
    await vi.waitFor(() => expect(heard).toEqual([a.peerId.toString()]), WAIT);
  });
});
