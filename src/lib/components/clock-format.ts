// Text for clock offsets, lag and sync latency on the dashboard (pure, unit-tested).
import type { ClockStatus, PeerStatus } from '$lib/client/index.js';

const fixed = (v: number): string => (Math.abs(v) < 10 ? v.toFixed(1) : Math.round(v).toString());

/** "+1.2 ms ± 3.4 ms", or "—" when unmeasured. Offsets are the peer's (or network's) clock − ours. */
export function formatOffset(offsetMs: number | null | undefined, uncertaintyMs: number | null | undefined): string {
  if (offsetMs == null) return '—';
  const sign = offsetMs > 0 ? '+' : offsetMs < 0 ? '−' : '±';
  const u = uncertaintyMs == null ? '' : ` ± ${fixed(uncertaintyMs)} ms`;
  return `${sign}${fixed(Math.abs(offsetMs))} ms${u}`;
}

/** "in sync", or "12 entries, 3.4 s" (ms under a second as ms). */
export function formatLag(lag: { entries: number; ms: number } | null | undefined): string {
  if (lag == null) return '—';
  if (lag.entries === 0) return 'in sync';
  const time = lag.ms < 1000 ? `${Math.round(lag.ms)} ms` : `${(lag.ms / 1000).toFixed(1)} s`;
  return `${lag.entries} ${lag.entries === 1 ? 'entry' : 'entries'}, ${time}`;
}

/** A peer's offset cell. */
export function peerOffset(p: PeerStatus): string {
  return formatOffset(p.clockOffsetMs, p.clockUncertaintyMs);
}

/** One sentence about this node's clock, lag and sync latency. */
export function clockSummary(c: ClockStatus | undefined): string {
  if (c === undefined) return 'Clock: not measured yet.';
  const offset =
    c.offsetMs === null
      ? 'Clock offset: not measured yet (no peer answered the time protocol).'
      : `Clock offset: ${formatOffset(c.offsetMs, c.uncertaintyMs)} (median over ${c.peers} ${c.peers === 1 ? 'peer' : 'peers'}).`;
  const lag = `Behind the best known heads: ${formatLag(c.lag)}.`;
  const l = c.syncLatency;
  const latency =
    l.count === 0 || l.p50 === null || l.p99 === null
      ? 'Sync latency: no entries from other nodes yet.'
      : `Sync latency: p50 ${Math.round(l.p50)} ms, p99 ${Math.round(l.p99)} ms (${l.count} ${l.count === 1 ? 'entry' : 'entries'}).`;
  return `${offset} ${lag} ${latency}`;
}
