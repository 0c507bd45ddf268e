// PeerDialer without a browser: a fake libp2p node whose dials resolve or fail when the test says.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import type { PeerInfo } from '@libp2p/interface';
import { DIALER_DEFAULTS, PeerDialer, type DialerNode, type DialerOptions } from '../../src/lib/worker/peer-dialer.js';

const SELF = 'm-self';
const WS = multiaddr('/ip4/127.0.0.1/tcp/1/ws');

interface FakeConn {
  remotePeer: { toString(): string };
  status: 'open' | 'closed';
  limits: object | undefined;
  multiplexer: string | undefined;
  close: ReturnType<typeof vi.fn>;
  abort: ReturnType<typeof vi.fn>;
  timeline: { open: number };
}

function conn(peer: string, kind: 'webrtc' | 'relayed' | 'websocket'): FakeConn {
  return {
    remotePeer: { toString: () => peer },
    status: 'open',
    limits: kind === 'relayed' ? { bytes: 1n } : undefined,
    multiplexer: kind === 'webrtc' ? '/webrtc' : '/yamux/1.0.0',
    close: vi.fn(async () => undefined),
    abort: vi.fn(),
    timeline: { open: Date.now() }
  };
}

interface PendingDial {
  peer: string;
  resolve(kind?: 'webrtc' | 'websocket'): Promise<void>;
  reject(): Promise<void>;
}

function fakeNode() {
  // Each discovery gets its own /webrtc Multiaddr object; the dialer passes those objects to dial().
  const peerOfAddr = new Map<unknown, string>();
  const connections: FakeConn[] = [];
  const dials: PendingDial[] = [];
  let listener: ((ev: CustomEvent<PeerInfo>) => void) | undefined;
  let closeListener: ((ev: CustomEvent<FakeConn>) => void) | undefined;
  const node = {
    peerId: { toString: () => SELF },
    getConnections: () => connections,
    dial: vi.fn((addrs: unknown[]) => {
      const peer = peerOfAddr.get(addrs[0])!;
      return new Promise((resolve, reject) => {
        dials.push({
          peer,
          resolve: async (kind = 'webrtc') => {
            const c = conn(peer, kind);
            connections.push(c);
            resolve(c);
            await flush();
          },
          reject: async () => {
            reject(new Error('dial failed'));
            await flush();
          }
        });
      });
    }),
    addEventListener: (type: string, fn: never) => {
      if (type === 'peer:discovery') listener = fn;
      if (type === 'connection:close') closeListener = fn;
    },
    removeEventListener: (type: string, fn: unknown) => {
      if (type === 'peer:discovery' && listener === fn) listener = undefined;
      if (type === 'connection:close' && closeListener === fn) closeListener = undefined;
    }
  };
  /** The link closes (libp2p: status closed, removed from the connections, then the event). */
  const drop = (c: FakeConn): void => {
    c.status = 'closed';
    connections.splice(connections.indexOf(c), 1);
    closeListener?.(new CustomEvent('connection:close', { detail: c }));
  };
  const discover = (peer: string, addrs = [multiaddr('/webrtc')]): void => {
    for (const a of addrs) peerOfAddr.set(a, peer);
    listener?.(
      new CustomEvent('peer:discovery', { detail: { id: { toString: () => peer }, multiaddrs: addrs } }) as never
    );
  };
  return {
    node: node as unknown as DialerNode,
    dial: node.dial,
    connections,
    dials,
    discover,
    drop,
    listening: () => listener !== undefined && closeListener !== undefined
  };
}

/** Lets the dialer's awaits after a settled dial run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

let fake: ReturnType<typeof fakeNode>;
const relays = new Set(['relay-1']);

function dialer(opts: Partial<DialerOptions> = {}): PeerDialer {
  const d = new PeerDialer(fake.node, relays, opts);
  d.start();
  return d;
}

const dialed = (): string[] => fake.dials.map((d) => d.peer);

beforeEach(() => {
  vi.useFakeTimers();
  fake = fakeNode();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PeerDialer', () => {
  it('the smaller id dials at once; the larger waits yieldMs and then only if still not direct', async () => {
    const d = dialer();
    fake.discover('z-larger'); // SELF < z: we dial first
    fake.discover('a-smaller'); // a < SELF: a should dial us
    fake.discover('b-smaller');
    await vi.advanceTimersByTimeAsync(0);
    expect(dialed()).toEqual(['z-larger']);
    fake.connections.push(conn('b-smaller', 'webrtc')); // b dialled us meanwhile
    await vi.advanceTimersByTimeAsync(DIALER_DEFAULTS.yieldMs - 1);
    expect(dialed()).toEqual(['z-larger']);
    await vi.advanceTimersByTimeAsync(1);
    expect(dialed()).toEqual(['z-larger', 'a-smaller']);
    d.stop();
  });

  it('ignores relays, itself, peers without WebRTC addresses, and discoveries after stop', async () => {
    const d = dialer();
    fake.discover('relay-1');
    fake.discover(SELF);
    fake.discover('z-ws-only', [WS]);
    await vi.advanceTimersByTimeAsync(DIALER_DEFAULTS.yieldMs);
    expect(fake.dial).not.toHaveBeenCalled();
    fake.discover('z-late');
    d.stop();
    expect(fake.listening()).toBe(false);
    await vi.advanceTimersByTimeAsync(DIALER_DEFAULTS.yieldMs);
    expect(fake.dial).not.toHaveBeenCalled();
  });

  it('never has more than maxConcurrentDials in flight; skipped peers dial on a later discovery', async () => {
    const d = dialer({ maxConcurrentDials: 4 });
    const peers = Array.from({ length: 10 }, (_, i) => `z-${i}`);
    for (const p of peers) fake.discover(p);
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.dial).toHaveBeenCalledTimes(4);
    expect(d.inflight).toBe(4);
    await fake.dials[0].resolve();
    expect(d.inflight).toBe(3);
    for (const p of peers) fake.discover(p); // the next discovery broadcast
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.dial).toHaveBeenCalledTimes(5);
    expect(d.inflight).toBe(4);
    expect(new Set(dialed()).size).toBe(5); // no peer dialled twice
    d.stop();
  });

  it('counts dials in flight against maxDirectPeers', async () => {
    const d = dialer({ maxDirectPeers: 3, maxConcurrentDials: 10 });
    fake.connections.push(conn('z-existing', 'webrtc'));
    for (let i = 0; i < 10; i++) fake.discover(`z-${i}`);
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.dial).toHaveBeenCalledTimes(2); // 1 direct + 2 dialling = 3
    await fake.dials[0].reject();
    for (let i = 0; i < 10; i++) fake.discover(`z-${i}`);
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.dial).toHaveBeenCalledTimes(3);
    d.stop();
  });

  it('backs off after a failure, doubling the wait per failure', async () => {
    const d = dialer({ backoffMs: 1000, maxBackoffMs: 60_000 });
    const again = async (ms: number): Promise<void> => {
      await vi.advanceTimersByTimeAsync(ms);
      fake.discover('z-flaky');
      await vi.advanceTimersByTimeAsync(0);
    };
    await again(0);
    expect(fake.dial).toHaveBeenCalledTimes(1);
    await fake.dials[0].reject();
    await again(999);
    expect(fake.dial).toHaveBeenCalledTimes(1);
    await again(1);
    expect(fake.dial).toHaveBeenCalledTimes(2);
    await fake.dials[1].reject();
    await again(1999);
    expect(fake.dial).toHaveBeenCalledTimes(2);
    await again(1);
    expect(fake.dial).toHaveBeenCalledTimes(3);
    await fake.dials[2].resolve(); // success forgets the failures
    expect(d.trackedFailures).toBe(0);
    d.stop();
  });

  it('closes the relayed connection after its own direct dial succeeds, not after a non-direct one', async () => {
    const d = dialer();
    const relayedZ = conn('z-peer', 'relayed');
    const relayedY = conn('y-peer', 'relayed');
    const relayedOther = conn('z-other', 'relayed');
    fake.connections.push(relayedZ, relayedY, relayedOther);
    fake.discover('z-peer');
    fake.discover('y-peer');
    await vi.advanceTimersByTimeAsync(0);
    await fake.dials[0].resolve('webrtc');
    await fake.dials[1].resolve('websocket');
    expect(relayedZ.close).toHaveBeenCalledTimes(1);
    expect(relayedY.close).not.toHaveBeenCalled();
    expect(relayedOther.close).not.toHaveBeenCalled();
    expect(d.lastDialMs).not.toBeNull();
    d.stop();
  });

  it('aborts the relayed connection when closing it fails', async () => {
    const d = dialer();
    const relayed = conn('z-peer', 'relayed');
    relayed.close.mockRejectedValueOnce(new Error('close failed'));
    fake.connections.push(relayed);
    fake.discover('z-peer');
    await vi.advanceTimersByTimeAsync(0);
    await fake.dials[0].resolve('webrtc');
    expect(relayed.abort).toHaveBeenCalledTimes(1);
    d.stop();
  });

  it('bounds the failure memory and forgets failures long past their backoff', async () => {
    const d = dialer({ maxTrackedFailures: 3, maxConcurrentDials: 1, backoffMs: 1000, maxBackoffMs: 4000 });
    for (let i = 0; i < 6; i++) {
      fake.discover(`z-${i}`);
      await vi.advanceTimersByTimeAsync(0);
      await fake.dials[i].reject();
      expect(d.trackedFailures).toBe(Math.min(i + 1, 3));
    }
    // z-0 was forgotten (oldest), so it may dial again at once; z-5 is still backing off.
    fake.discover('z-5');
    fake.discover('z-0');
    await vi.advanceTimersByTimeAsync(0);
    expect(dialed().slice(6)).toEqual(['z-0']);
    await fake.dials[6].resolve();
    // Past backoff + maxBackoffMs, old failures are dropped when the next one is recorded.
    await vi.advanceTimersByTimeAsync(1000 + 4000);
    fake.discover('z-new');
    await vi.advanceTimersByTimeAsync(0);
    await fake.dials[7].reject();
    expect(d.trackedFailures).toBe(1);
    d.stop();
  });

  it('re-dials a dropped direct link at once when it had lasted, with backoff when it dropped soon after opening', async () => {
    const d = dialer({ backoffMs: 1000, stableLinkMs: 30_000 });
    fake.discover('z-peer');
    await vi.advanceTimersByTimeAsync(0);
    await fake.dials[0].resolve();
    await vi.advanceTimersByTimeAsync(60_000);
    fake.drop(fake.connections[0]); // lasted 60 s: re-dialed at once, no backoff
    await vi.advanceTimersByTimeAsync(0);
    expect(dialed()).toEqual(['z-peer', 'z-peer']);
    await fake.dials[1].resolve();
    await vi.advanceTimersByTimeAsync(5_000);
    fake.drop(fake.connections[0]); // dropped 5 s after opening: a failure, 1 s backoff
    await vi.advanceTimersByTimeAsync(999);
    expect(fake.dial).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.dial).toHaveBeenCalledTimes(3);
    await fake.dials[2].resolve();
    fake.drop(fake.connections[0]); // success forgot the failure: 1 s again
    await vi.advanceTimersByTimeAsync(999);
    expect(fake.dial).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.dial).toHaveBeenCalledTimes(4);
    d.stop();
  });

  it('does not re-dial a dropped link while another direct link to the peer is open, nor after stop', async () => {
    const d = dialer();
    fake.discover('z-peer');
    await vi.advanceTimersByTimeAsync(0);
    await fake.dials[0].resolve();
    fake.connections.push(conn('z-peer', 'webrtc')); // a second link (both sides dialled)
    fake.drop(fake.connections[0]);
    await vi.advanceTimersByTimeAsync(DIALER_DEFAULTS.maxBackoffMs);
    expect(fake.dial).toHaveBeenCalledTimes(1);
    fake.drop(fake.connections[0]);
    d.stop();
    await vi.advanceTimersByTimeAsync(DIALER_DEFAULTS.maxBackoffMs);
    expect(fake.dial).toHaveBeenCalledTimes(1);
  });

  it('the larger id re-dials a dropped link only after yieldMs, if the other side has not', async () => {
    const d = dialer();
    fake.discover('a-smaller');
    await vi.advanceTimersByTimeAsync(DIALER_DEFAULTS.yieldMs);
    await fake.dials[0].resolve();
    await vi.advanceTimersByTimeAsync(60_000);
    fake.drop(fake.connections[0]);
    await vi.advanceTimersByTimeAsync(DIALER_DEFAULTS.yieldMs - 1);
    expect(fake.dial).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.dial).toHaveBeenCalledTimes(2);
    d.stop();
  });

  it('offer() (a repeated announcement) retries a failed dial once its backoff is over', async () => {
    const d = dialer({ backoffMs: 1000 });
    const peer = { id: { toString: () => 'z-peer' }, multiaddrs: [multiaddr('/webrtc')] } as never;
    fake.discover('z-peer');
    await vi.advanceTimersByTimeAsync(0);
    await fake.dials[0].reject();
    d.offer(peer);
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.dial).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000);
    d.offer(peer);
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.dial).toHaveBeenCalledTimes(2);
    d.stop();
  });
});
