// Which relays the node keeps a connection to, and when it redials them. The site's /api/relays
// names every relay of the network, the site's own first. The node keeps connections to up to
// `maxActive` of them (the site's own relay, then others in a random order, so browsers spread
// over the network); circuit reservations follow those connections. When a relay drops, the next
// relay of the list takes its place at once, and the dropped one is retried with exponential
// backoff and jitter, so a relay that comes back is rejoined within `maxMs` (plus one dial).
// The site's own relay is retried even while the others fill every slot: once it is back, the
// least preferred relay is hung up, so a page pinned with `?relays=1` returns to its own relay.
// No libp2p here: the host dials and reports connections (relay-keeper.ts binds it to libp2p).
import { backoffDelay, type BackoffOptions } from '../core/backoff.js';

export interface RelayPoolOptions extends BackoffOptions {
  /** Relays kept connected at once (reservations are spread over them). */
  maxActive: number;
  /** One dial attempt, ms. */
  dialTimeoutMs: number;
}

export const RELAY_POOL_DEFAULTS: RelayPoolOptions = {
  maxActive: 2,
  baseMs: 500,
  // A relay that is back is redialled within 8 s (jittered 4–8 s at the cap), well inside the 30 s rejoin goal.
  maxMs: 8000,
  dialTimeoutMs: 10_000
};

/** Largest maxActive accepted from a page's `?relays=` parameter. */
export const MAX_ACTIVE_RELAYS = 8;

/** One relay: its peer id and every address the site gave for it (each ending in /p2p/<id>). */
export interface RelayEntry {
  id: string;
  addrs: string[];
}

/** The peer id a multiaddr string ends with (`…/p2p/<id>`), or undefined. */
export function lastPeerId(addr: string): string | undefined {
  const parts = addr.split('/');
  for (let i = parts.length - 2; i >= 0; i--) if (parts[i] === 'p2p') return parts[i + 1] || undefined;
  return undefined;
}

/** Groups relay addresses by peer id, in order of first appearance; addresses without one are dropped. */
export function groupRelays(addrs: string[]): RelayEntry[] {
  const byId = new Map<string, RelayEntry>();
  for (const a of addrs) {
    const id = lastPeerId(a);
    if (id === undefined || a.includes('/p2p-circuit')) continue;
    const e = byId.get(id) ?? { id, addrs: [] };
    if (!e.addrs.includes(a)) e.addrs.push(a);
    byId.set(id, e);
  }
  return [...byId.values()];
}

/** The site's own relay (the first) stays first; the others are shuffled (Fisher–Yates). */
export function preferenceOrder<T>(entries: T[], random: () => number = Math.random): T[] {
  const rest = entries.slice(1);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  return entries.length === 0 ? [] : [entries[0], ...rest];
}

/**
 * `?relays=N` in a page address: how many relays to use at once (1 pins the page to the relay
 * that served it). undefined when absent or not an integer 1..MAX_ACTIVE_RELAYS.
 */
export function maxRelaysFromQuery(search: string): number | undefined {
  const raw = new URLSearchParams(search).get('relays');
  if (raw === null || !/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= MAX_ACTIVE_RELAYS ? n : undefined;
}

/** What the pool needs from the node. */
export interface RelayPoolHost {
  /** Opens a connection to the relay; rejects on failure or when `signal` aborts. */
  dial(relay: RelayEntry, signal: AbortSignal): Promise<void>;
  connected(id: string): boolean;
  /** Closes the connection to a relay (the site's own relay came back and took its slot). */
  hangUp?(id: string): void;
}

export interface RelayPoolEntryStatus {
  id: string;
  addr: string;
  connected: boolean;
  /** Failed dials since the last connection. */
  failures: number;
}

export class RelayPool {
  readonly #order: RelayEntry[];
  readonly #failures = new Map<string, number>();
  /** No dial to the relay before this time, ms since the epoch. */
  readonly #nextAt = new Map<string, number>();
  readonly #dialing = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    entries: RelayEntry[],
    private readonly host: RelayPoolHost,
    private readonly opts: RelayPoolOptions = RELAY_POOL_DEFAULTS,
    private readonly random: () => number = Math.random
  ) {
    this.#order = preferenceOrder(entries, random);
  }

  /** Relays in preference order. */
  get order(): readonly RelayEntry[] {
    return this.#order;
  }

  start(): void {
    this.#fill();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** A connection to relay `id` opened (by the pool or otherwise): its backoff starts afresh. */
  onConnect(id: string): void {
    this.#failures.delete(id);
    this.#nextAt.delete(id);
  }

  /** The last connection to relay `id` closed: another relay takes its place; it is retried later. */
  onDisconnect(id: string): void {
    if (!this.#order.some((e) => e.id === id)) return;
    const failures = this.#failures.get(id) ?? 0;
    this.#nextAt.set(id, Date.now() + backoffDelay(failures + 1, this.opts, this.random));
    this.#fill();
  }

  list(): RelayPoolEntryStatus[] {
    return this.#order.map((e) => ({
      id: e.id,
      addr: e.addrs[0],
      connected: this.host.connected(e.id),
      failures: this.#failures.get(e.id) ?? 0
    }));
  }

  /** Dials due relays, in preference order, until maxActive are connected or being dialled. */
  #fill(): void {
    if (this.#stopped) return;
    const now = Date.now();
    let active = this.#order.filter((e) => this.host.connected(e.id) || this.#dialing.has(e.id)).length;
    for (const e of this.#order) {
      if (active >= this.opts.maxActive) break;
      if (this.host.connected(e.id) || this.#dialing.has(e.id) || (this.#nextAt.get(e.id) ?? 0) > now) continue;
      active++;
      void this.#dial(e);
    }
    const home = this.#order[0];
    if (home !== undefined && this.#homeDue(home, now)) void this.#dial(home);
    this.#arm(active, now);
  }

  /** The site's own relay is down, not being dialled and due for a retry. */
  #homeDue(home: RelayEntry, now: number): boolean {
    return !this.host.connected(home.id) && !this.#dialing.has(home.id) && (this.#nextAt.get(home.id) ?? 0) <= now;
  }

  /** Hangs up the least preferred relays while more than maxActive are connected. */
  #trim(): void {
    const connected = this.#order.filter((e) => this.host.connected(e.id));
    for (const e of connected.slice(this.opts.maxActive).reverse()) this.host.hangUp?.(e.id);
  }

  /** Wakes up when the next relay that backs off becomes due, if a slot is free. */
  #arm(active: number, now: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // When every slot is taken, only the site's own relay (if down) is waited for.
    const waitFor = active >= this.opts.maxActive ? this.#order.slice(0, 1) : this.#order;
    let next = Infinity;
    for (const e of waitFor) {
      if (this.host.connected(e.id) || this.#dialing.has(e.id)) continue;
      next = Math.min(next, this.#nextAt.get(e.id) ?? now);
    }
    if (next === Infinity) return;
    this.#timer = setTimeout(() => this.#fill(), Math.max(0, next - now));
  }

  async #dial(e: RelayEntry): Promise<void> {
    this.#dialing.add(e.id);
    try {
      await this.host.dial(e, AbortSignal.timeout(this.opts.dialTimeoutMs));
      this.onConnect(e.id);
      if (e === this.#order[0]) this.#trim();
    } catch {
      const failures = (this.#failures.get(e.id) ?? 0) + 1;
      this.#failures.set(e.id, failures);
      this.#nextAt.set(e.id, Date.now() + backoffDelay(failures, this.opts, this.random));
    } finally {
      this.#dialing.delete(e.id);
    }
    this.#fill();
  }
}
