// discovery-feed: every accepted announcement on the discovery topic reaches the dialer, each time.
import { describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import type { PeerInfo } from '@libp2p/interface';
import { onAnnouncements, type AnnouncementSource } from '../../src/lib/worker/discovery-feed.js';

const TOPIC = 'tabula/discovery';
const ADDR = multiaddr('/ip4/127.0.0.1/tcp/1/ws/p2p-circuit/webrtc');

/** pubsub-peer-discovery's Peer protobuf: field 1 publicKey, field 2 addrs (each length-delimited, short). */
function announcement(addrs: Uint8Array[]): Uint8Array {
  const key = Uint8Array.from([0x08, 0x01, 0x12, 0x20, ...new Uint8Array(32).fill(7)]);
  const field = (tag: number, v: Uint8Array) => [tag, v.length, ...v];
  return Uint8Array.from([...field(0x0a, key), ...addrs.flatMap((a) => field(0x12, a))]);
}

function fakePubsub() {
  let fn: ((ev: CustomEvent<unknown>) => void) | undefined;
  const source = {
    addEventListener: (_t: string, f: (ev: CustomEvent<unknown>) => void) => (fn = f),
    removeEventListener: (_t: string, f: unknown) => {
      if (fn === f) fn = undefined;
    }
  } as unknown as AnnouncementSource;
  const publish = (msg: Record<string, unknown>) => fn?.(new CustomEvent('message', { detail: msg }));
  return { source, publish, listening: () => fn !== undefined };
}

describe('onAnnouncements', () => {
  it('hands on every signed announcement on the topic (repeats included), with its addresses', () => {
    const ps = fakePubsub();
    const seen: PeerInfo[] = [];
    const off = onAnnouncements(ps.source, TOPIC, (i) => seen.push(i));
    const from = { toString: () => 'peer-a' };
    const msg = { type: 'signed', topic: TOPIC, from, data: announcement([ADDR.bytes]) };
    ps.publish(msg);
    ps.publish(msg);
    expect(seen).toHaveLength(2);
    expect(seen[0]!.id).toBe(from);
    expect(seen[0]!.multiaddrs.map((m) => m.toString())).toEqual([ADDR.toString()]);
    off();
    expect(ps.listening()).toBe(false);
  });

  it('ignores other topics, unsigned messages and malformed announcements; skips bad addresses', () => {
    const ps = fakePubsub();
    const seen: PeerInfo[] = [];
    onAnnouncements(ps.source, TOPIC, (i) => seen.push(i));
    const from = { toString: () => 'peer-a' };
    ps.publish({ type: 'signed', topic: 'other', from, data: announcement([ADDR.bytes]) });
    ps.publish({ type: 'unsigned', topic: TOPIC, data: announcement([ADDR.bytes]) });
    ps.publish({ type: 'signed', topic: TOPIC, from, data: Uint8Array.from([0x0a, 0x50, 1]) });
    expect(seen).toHaveLength(0);
    ps.publish({ type: 'signed', topic: TOPIC, from, data: announcement([Uint8Array.from([0xff, 0xff]), ADDR.bytes]) });
    expect(seen.map((i) => i.multiaddrs.length)).toEqual([1]);
  });
});
