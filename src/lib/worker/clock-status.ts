// The clock and lag parts of NodeStatus, and the sync-latency origin time, from the worker's
// ClockSync (offsets) and LagMonitor (lag).
import { toHex } from '../core/bytes.js';
import { originOnLocalClock } from '../core/clock/latency.js';
import { peerIdOfAuthor } from '../core/peer-id.js';
import type { Entry } from '../core/types.js';
import type { ClockSync } from './clock-sync.js';
import type { LagMonitor } from './lag-monitor.js';
import type { ClockStatus, LatencySummary, PeerStatus } from './messages.js';

const round = (ms: number): number => Math.round(ms * 10) / 10;
const noLatency: LatencySummary = { p50: null, p99: null, count: 0 };

/** Peers with their clock offset, its uncertainty and their lag. */
export function withClockAndLag(peers: PeerStatus[], clock: ClockSync | undefined, lag: LagMonitor): PeerStatus[] {
  return peers.map((p) => {
    const c = clock?.peer(p.id) ?? null;
    return {
      ...p,
      clockOffsetMs: c === null ? null : round(c.offsetMs),
      clockUncertaintyMs: c === null ? null : round(c.uncertaintyMs),
      lag: lag.peer(p.id)
    };
  });
}

export function clockStatus(
  clock: ClockSync | undefined,
  lag: LagMonitor,
  latency: LatencySummary | undefined
): ClockStatus {
  const node = clock?.node() ?? null;
  return {
    offsetMs: node === null ? null : round(node.offsetMs),
    uncertaintyMs: node === null ? null : round(node.uncertaintyMs),
    peers: node?.peers ?? 0,
    ...(clock === undefined
      ? {}
      : {
          probes: {
            completed: clock.stats.probes,
            failed: clock.stats.probeFailures,
            clockSteps: clock.stats.clockSteps
          }
        }),
    lag: lag.self(),
    syncLatency:
      latency === undefined
        ? noLatency
        : {
            ...latency,
            p50: latency.p50 === null ? null : round(latency.p50),
            p99: latency.p99 === null ? null : round(latency.p99)
          }
  };
}

/**
 * An entry's origin time on our clock (ms): its author's offset when the author is a measured
 * peer, else the node's (median) offset, else its raw time (core/clock/latency.ts).
 */
export function originTimeOf(entry: Pick<Entry, 'author' | 'time'>, clock: ClockSync | undefined): number {
  if (clock === undefined) return entry.time;
  const author = clock.peer(peerIdOfAuthor(toHex(entry.author)));
  return originOnLocalClock(entry.time, author?.offsetMs ?? null, clock.node()?.offsetMs ?? null);
}
