// Clock offsets in the worker: serves the time protocol, and probes every directly connected
// peer (browsers over WebRTC, relays over WebSockets) with a short burst of round trips: at once
// when it connects, again CLOCK_STARTUP_INTERVAL_MS after its first answered burst, then every
// CLOCK_PROBE_INTERVAL_MS ± jitter (also after a failure), at most CLOCK_MAX_PARALLEL_PROBES peers
// at a time. Relayed (limited) connections are never probed. When our own clock is stepped
// (core/clock/wall-clock.ts), every sample is dropped and every peer probed again at once.
import type { Connection, Libp2p } from '@libp2p/interface';
import { PeerClocks } from '../core/clock/peer-clocks.js';
import type { NodeClockEstimate, PeerClockEstimate } from '../core/clock/offset.js';
import {
  CLOCK_BURST,
  CLOCK_MAX_PARALLEL_PROBES,
  CLOCK_PROBE_INTERVAL_MS,
  CLOCK_PROBE_JITTER,
  CLOCK_STARTUP_INTERVAL_MS
} from '../core/clock/constants.js';
import type { StepClock } from '../core/clock/wall-clock.js';
import { handleTime, probeClock, processClock } from '../platform/time-protocol.js';

/** How often due probes are looked for, ms. */
const CLOCK_TICK_MS = 1000;

export interface ClockSyncInit {
  node: Pick<Libp2p, 'handle' | 'unhandle' | 'getConnections' | 'addEventListener' | 'removeEventListener'>;
  protocol: string;
  intervalMs?: number;
  random?: () => number;
  /** Our clock; default this process's wall clock (platform/time-protocol.ts). */
  clock?: StepClock;
  /** Called after each probe that added samples (e.g. to push a status). */
  onUpdate?: () => void;
}

/** Probe outcomes since start (for status and tests). */
export interface ClockSyncStats {
  probes: number;
  probeFailures: number;
  /** Steps of our own clock followed (samples dropped, peers probed again). */
  clockSteps: number;
}

export class ClockSync {
  readonly clocks = new PeerClocks();
  readonly stats: ClockSyncStats = { probes: 0, probeFailures: 0, clockSteps: 0 };
  private readonly nextAt = new Map<string, number>();
  private readonly busy = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private readonly clock: StepClock;
  /** Steps of our clock already seen. */
  private steps: number;
  /** Steps followed (samples dropped) so far; a burst that spans one is dropped too. */
  private epoch = 0;
  private lastFollowAt: number | undefined;

  constructor(private readonly init: ClockSyncInit) {
    this.clock = init.clock ?? processClock;
    this.steps = this.clock.steps;
  }

  private now(): number {
    return this.clock.now();
  }

  async start(): Promise<void> {
    await handleTime(this.init.node, this.init.protocol, () => this.now());
    this.init.node.addEventListener('connection:open', this.onOpen);
    this.init.node.addEventListener('connection:close', this.onClose);
    for (const c of this.init.node.getConnections()) if (c.limits == null) this.nextAt.set(c.remotePeer.toString(), 0);
    this.timer = setInterval(() => this.tick(), CLOCK_TICK_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.init.node.removeEventListener('connection:open', this.onOpen);
    this.init.node.removeEventListener('connection:close', this.onClose);
    await this.init.node.unhandle(this.init.protocol).catch(() => undefined);
  }

  /** Peer clock − ours, ms, with its uncertainty; null until measured. */
  peer(peer: string): PeerClockEstimate | null {
    return this.clocks.peer(peer, this.now());
  }

  /** The node's offset (median over peers); null until a peer is measured. */
  node(): NodeClockEstimate | null {
    return this.clocks.node(this.now());
  }

  private readonly onOpen = (ev: CustomEvent<Connection>): void => {
    if (ev.detail.limits == null) this.nextAt.set(ev.detail.remotePeer.toString(), 0);
    this.tick();
  };

  private readonly onClose = (ev: CustomEvent<Connection>): void => {
    const peer = ev.detail.remotePeer.toString();
    if (this.directConnection(peer) !== undefined) return;
    this.nextAt.delete(peer);
    this.clocks.forget(peer);
  };

  private directConnection(peer: string): Connection | undefined {
    return this.init.node
      .getConnections()
      .find((c) => c.status === 'open' && c.limits == null && c.remotePeer.toString() === peer);
  }

  /**
   * Our clock was stepped (set, synced, or the machine slept): every sample measured the clock
   * it left, so all are dropped and every peer is probed again at once. At most once per
   * CLOCK_PROBE_INTERVAL_MS: a wall clock too coarse to follow (e.g. rounded for privacy) steps
   * all the time, and must not make the node probe every peer every tick.
   */
  private followStep(now: number): void {
    if (this.clock.steps === this.steps) return;
    this.steps = this.clock.steps;
    if (this.lastFollowAt !== undefined && Math.abs(now - this.lastFollowAt) < CLOCK_PROBE_INTERVAL_MS) return;
    this.lastFollowAt = now;
    this.epoch++;
    this.stats.clockSteps++;
    this.clocks.clear();
    for (const peer of this.nextAt.keys()) this.nextAt.set(peer, 0);
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.now();
    this.followStep(now);
    for (const [peer, at] of this.nextAt) {
      if (this.busy.size >= CLOCK_MAX_PARALLEL_PROBES) return;
      if (at > now || this.busy.has(peer)) continue;
      const conn = this.directConnection(peer);
      if (conn === undefined) {
        this.nextAt.delete(peer);
        continue;
      }
      void this.probe(peer, conn);
    }
  }

  private async probe(peer: string, conn: Connection): Promise<void> {
    this.busy.add(peer);
    const interval = this.init.intervalMs ?? CLOCK_PROBE_INTERVAL_MS;
    const random = this.init.random ?? Math.random;
    let answered = false;
    try {
      const epoch = this.epoch;
      const samples = await probeClock(conn, this.init.protocol, undefined, () => this.now());
      this.stats.probes++;
      answered = samples.length > 0;
      // A burst our clock was stepped during mixes both clocks; its samples are dropped with
      // the others when the step is followed.
      this.followStep(this.now());
      if (this.epoch !== epoch) samples.length = 0;
      if (!this.stopped) for (const s of samples) this.clocks.add(peer, s);
      if (!this.stopped && samples.length > 0) this.init.onUpdate?.();
    } catch {
      this.stats.probeFailures++;
    } finally {
      this.busy.delete(peer);
      if (this.nextAt.has(peer)) {
        const wait =
          answered && this.clocks.samples(peer) <= CLOCK_BURST
            ? CLOCK_STARTUP_INTERVAL_MS
            : interval * (1 - CLOCK_PROBE_JITTER + 2 * CLOCK_PROBE_JITTER * random());
        this.nextAt.set(peer, this.now() + wait);
      }
    }
  }
}
