// The app's relay list (src/lib/worker/relay-list.ts) and the shared backoff, with fake timers and
// a fake host: which relays are dialled, how a dead relay is replaced, backoff with jitter, rejoin.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from '../../src/lib/core/backoff.js';
import {
  groupRelays,
  maxRelaysFromQuery,
  preferenceOrder,
  RelayPool,
  type RelayEntry,
  type RelayPoolOptions
} from '../../src/lib/worker/relay-list.js';

const OPTS: RelayPoolOptions = { maxActive: 2, baseMs: 500, maxMs: 8000, dialTimeoutMs: 10_000 };

/** A network of relays that are up or down; dials resolve or reject after `dialMs`. */
class FakeHost {
  readonly up = new Set<string>();
  readonly conns = new Set<string>();
  readonly dials: Array<{ id: string; at: number }> = [];
  constructor(private readonly dialMs = 10) {}
  dial = (relay: RelayEntry): Promise<void> => {
    this.dials.push({ id: relay.id, at: Date.now() });
    return new Promise((resolve, reject) =>
      setTimeout(() => {
        if (!this.up.has(relay.id)) return reject(new Error('refused'));
        this.conns.add(relay.id);
        resolve();
      }, this.dialMs)
    );
  };
  connected = (id: string): boolean => this.conns.has(id);
  dialsOf(id: string): number[] {
    return this.dials.filter((d) => d.id === id).map((d) => d.at);
  }
}

const entries = (...ids: string[]): RelayEntry[] =>
  ids.map((id) => ({ id, addrs: [`/dns4/${id}/tcp/443/wss/p2p/${id}`] }));
/** Keeps the given order: random() = 0.999… makes Fisher–Yates swap each element with itself. */
const keepOrder = (): number => 0.999999;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
});
afterEach(() => vi.useRealTimers());

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, with jitter in [wait/2, wait)', () => {
    const o = { baseMs: 500, maxMs: 8000 };
    expect(backoffDelay(0, o, () => 0.5)).toBe(0);
    expect([1, 2, 3, 4, 5, 6, 9].map((n) => backoffDelay(n, o, () => 0))).toEqual([
      250, 500, 1000, 2000, 4000, 4000, 4000
    ]);
    expect(backoffDelay(3, o, () => 0.999)).toBe(1999);
    expect(backoffDelay(1000, o, () => 0.5)).toBe(6000);
  });
});

describe('relay list parsing', () => {
  it('groups addresses by relay, keeps the site order, drops circuit and id-less addresses', () => {
    expect(
      groupRelays([
        '/ip4/1.2.3.4/tcp/443/wss/p2p/A',
        '/dns4/b.example/tcp/443/wss/p2p/B',
        '/dns4/a.example/tcp/443/wss/p2p/A',
        '/ip4/1.2.3.4/tcp/443/wss',
        '/ip4/1.2.3.4/tcp/443/wss/p2p/A/p2p-circuit/p2p/C'
      ])
    ).toEqual([
      { id: 'A', addrs: ['/ip4/1.2.3.4/tcp/443/wss/p2p/A', '/dns4/a.example/tcp/443/wss/p2p/A'] },
      { id: 'B', addrs: ['/dns4/b.example/tcp/443/wss/p2p/B'] }
    ]);
  });

  it('keeps the site relay first and shuffles the rest', () => {
    const seq = [0, 0, 0];
    let i = 0;
    expect(preferenceOrder(['own', 'x', 'y', 'z'], () => seq[i++])).toEqual(['own', 'y', 'z', 'x']);
    expect(preferenceOrder([], Math.random)).toEqual([]);
  });

  it('reads ?relays=N within bounds', () => {
    expect(maxRelaysFromQuery('?relays=1')).toBe(1);
    expect(maxRelaysFromQuery('?a=b&relays=3')).toBe(3);
    for (const bad of ['', '?relays=0', '?relays=-1', '?relays=1.5', '?relays=99', '?relays=x']) {
      expect(maxRelaysFromQuery(bad)).toBeUndefined();
    }
  });
});

describe('RelayPool', () => {
  it('connects to maxActive relays, the site relay first', async () => {
    const host = new FakeHost();
    ['A', 'B', 'C'].forEach((id) => host.up.add(id));
    const pool = new RelayPool(entries('A', 'B', 'C'), host, OPTS, keepOrder);
    pool.start();
    await vi.advanceTimersByTimeAsync(100);
    expect([...host.conns]).toEqual(['A', 'B']);
    expect(host.dials.map((d) => d.id)).toEqual(['A', 'B']);
    pool.stop();
  });

  it('moves to the next relay at once when the one in use dies', async () => {
    const host = new FakeHost();
    ['A', 'B', 'C'].forEach((id) => host.up.add(id));
    const pool = new RelayPool(entries('A', 'B', 'C'), host, { ...OPTS, maxActive: 1 }, keepOrder);
    pool.start();
    await vi.advanceTimersByTimeAsync(100);
    expect([...host.conns]).toEqual(['A']);

    // A dies; B (next in order) is dialled at once.
    host.up.delete('A');
    host.conns.delete('A');
    const died = Date.now();
    pool.onDisconnect('A');
    await vi.advanceTimersByTimeAsync(50);
    expect(host.conns.has('B')).toBe(true);
    expect(host.dialsOf('B')[0] - died).toBeLessThan(5);
    pool.stop();
  });

  it('while every relay is down, retries each with exponential backoff and jitter, capped', async () => {
    const host = new FakeHost();
    const random = vi.fn(() => 0.5);
    const pool = new RelayPool(entries('A', 'B'), host, OPTS, random);
    pool.start();
    await vi.advanceTimersByTimeAsync(60_000);
    const gaps = (id: string): number[] => {
      const at = host.dialsOf(id);
      return at.slice(1).map((t, i) => t - at[i]);
    };
    // Each gap is the dial time (10 ms) plus 0.75 × min(8000, 500 × 2^(n-1)).
    expect(gaps('A').slice(0, 6)).toEqual([385, 760, 1510, 3010, 6010, 6010]);
    expect(gaps('B').slice(0, 6)).toEqual(gaps('A').slice(0, 6));
    expect(Math.max(...gaps('A'))).toBe(6010);
    expect(pool.list().map((r) => r.failures)[0]).toBeGreaterThan(6);
    pool.stop();
  });

  it('jitter spreads the retries of pools that lost the same relay at once', async () => {
    const hosts = [new FakeHost(), new FakeHost()];
    const pools = [
      new RelayPool(entries('A'), hosts[0], OPTS, () => 0.1),
      new RelayPool(entries('A'), hosts[1], OPTS, () => 0.9)
    ];
    pools.forEach((p) => p.start());
    await vi.advanceTimersByTimeAsync(20_000);
    expect(hosts[0].dialsOf('A')[4]).not.toBe(hosts[1].dialsOf('A')[4]);
    pools.forEach((p) => p.stop());
  });

  it('rejoins a relay within maxMs of its return, however long it was down', async () => {
    const host = new FakeHost();
    host.up.add('A');
    const pool = new RelayPool(entries('A'), host, OPTS, Math.random);
    pool.start();
    await vi.advanceTimersByTimeAsync(100);
    host.up.delete('A');
    host.conns.delete('A');
    pool.onDisconnect('A');
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(host.conns.size).toBe(0);
    const back = Date.now();
    host.up.add('A');
    await vi.waitFor(
      async () => {
        await vi.advanceTimersByTimeAsync(100);
        if (!host.conns.has('A')) throw new Error('not yet');
      },
      { timeout: 60_000, interval: 1 }
    );
    expect(Date.now() - back).toBeLessThanOrEqual(OPTS.maxMs + 200);
    expect(pool.list()[0]).toMatchObject({ connected: true, failures: 0 });
    pool.stop();
  });

  it('returns to the site relay when it comes back, hanging up the relay that stood in for it', async () => {
    const host = new FakeHost();
    ['A', 'B'].forEach((id) => host.up.add(id));
    const hungUp: string[] = [];
    const hangUp = (id: string): void => {
      hungUp.push(id);
      host.conns.delete(id);
      pool.onDisconnect(id);
    };
    const pool = new RelayPool(
      entries('A', 'B'),
      { ...host, dial: host.dial, connected: host.connected, hangUp },
      { ...OPTS, maxActive: 1 },
      keepOrder
    );
    pool.start();
    await vi.advanceTimersByTimeAsync(100);
    expect([...host.conns]).toEqual(['A']);
    host.up.delete('A');
    host.conns.delete('A');
    pool.onDisconnect('A');
    await vi.advanceTimersByTimeAsync(60_000);
    expect([...host.conns]).toEqual(['B']);
    expect(host.dialsOf('A').length).toBeGreaterThan(5); // retried although B fills the only slot
    const back = Date.now();
    host.up.add('A');
    await vi.advanceTimersByTimeAsync(OPTS.maxMs + 100);
    expect([...host.conns]).toEqual(['A']);
    expect(hungUp).toEqual(['B']);
    expect(host.dialsOf('A').at(-1)! - back).toBeLessThanOrEqual(OPTS.maxMs);
    // B stays a stand-in: it is not dialled again while A holds the slot.
    const bDials = host.dialsOf('B').length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(host.dialsOf('B').length).toBe(bDials);
    pool.stop();
  });

  it('a connection opened elsewhere resets the backoff, and a stopped pool dials no more', async () => {
    const host = new FakeHost();
    const pool = new RelayPool(entries('A'), host, OPTS, () => 0.5);
    pool.start();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(pool.list()[0].failures).toBeGreaterThan(3);
    host.conns.add('A');
    pool.onConnect('A');
    expect(pool.list()[0]).toMatchObject({ connected: true, failures: 0 });
    host.conns.delete('A');
    pool.stop();
    const n = host.dials.length;
    pool.onDisconnect('A');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(host.dials.length).toBe(n);
  });
});
