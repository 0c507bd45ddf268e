// Dashboard text for clock offsets, lag and sync latency.
import { describe, expect, it } from 'vitest';
import { clockSummary, formatLag, formatOffset } from '../../src/lib/components/clock-format.js';

describe('clock and lag text', () => {
  it('formats offsets with sign and uncertainty', () => {
    expect(formatOffset(null, null)).toBe('—');
    expect(formatOffset(1.234, 3.21)).toBe('+1.2 ms ± 3.2 ms');
    expect(formatOffset(-250.4, 12)).toBe('−250 ms ± 12 ms');
    expect(formatOffset(0, null)).toBe('±0.0 ms');
  });

  it('formats lag in entries and time', () => {
    expect(formatLag(null)).toBe('—');
    expect(formatLag({ entries: 0, ms: 0 })).toBe('in sync');
    expect(formatLag({ entries: 1, ms: 420 })).toBe('1 entry, 420 ms');
    expect(formatLag({ entries: 12, ms: 3400 })).toBe('12 entries, 3.4 s');
  });

  it('summarises the node: offset, lag, latency', () => {
    expect(clockSummary(undefined)).toBe('Clock: not measured yet.');
    const s = clockSummary({
      offsetMs: -0.4,
      uncertaintyMs: 1.5,
      peers: 2,
      lag: { entries: 0, ms: 0 },
      syncLatency: { p50: 12.4, p99: 80.6, count: 40 }
    });
    expect(s).toBe(
      'Clock offset: −0.4 ms ± 1.5 ms (median over 2 peers). Behind the best known heads: in sync. Sync latency: p50 12 ms, p99 81 ms (40 entries).'
    );
    expect(
      clockSummary({
        offsetMs: null,
        uncertaintyMs: null,
        peers: 0,
        lag: { entries: 3, ms: 2000 },
        syncLatency: { p50: null, p99: null, count: 0 }
      })
    ).toContain('not measured yet');
  });
});
