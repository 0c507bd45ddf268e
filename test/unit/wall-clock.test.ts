// The time protocol's clock follows the wall clock (core/clock/wall-clock.ts). Before, it read
// performance.timeOrigin + performance.now(): the wall clock at process start carried forward by
// the monotonic clock, so after the wall clock was stepped (NTP, a VM's clock sync, a clock set by
// hand, a machine that slept) a process started before the step and one started after it read
// clocks that differed by the step, and the offset between them was measured as that step: a
// relay started before the step reported every later browser off by it, for its whole life.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WallClock } from '../../src/lib/core/clock/wall-clock.js';
import { clockSample } from '../../src/lib/core/clock/offset.js';
import { clockNow } from '../../src/lib/platform/time-protocol.js';

/** A machine's clocks: the true wall time, its floored Date.now() and a monotonic clock. */
function machine(start = 1_700_000_000_000.25) {
  const m = { wallMs: start, monoMs: 1234.5 };
  return {
    m,
    wall: () => Math.floor(m.wallMs),
    mono: () => m.monoMs,
    /** Time passes: both clocks advance. */
    pass(ms: number) {
      m.wallMs += ms;
      m.monoMs += ms;
    },
    /** The wall clock is stepped (or the machine slept: only the wall clock moved). */
    step(ms: number) {
      m.wallMs += ms;
    },
    /** performance.timeOrigin of a process started now. */
    origin: () => m.wallMs - m.monoMs
  };
}

describe('WallClock', () => {
  it('reads the monotonic clock from the origin while the wall clock is not stepped', () => {
    const mc = machine();
    const origin = mc.origin();
    const c = new WallClock(mc.wall, mc.mono, origin);
    for (let i = 0; i < 1000; i++) {
      mc.pass(0.137);
      expect(c.now()).toBe(origin + mc.mono());
    }
    expect(c.steps).toBe(0);
  });

  it('follows a step of the wall clock, forward and back', () => {
    const mc = machine();
    const c = new WallClock(mc.wall, mc.mono, mc.origin());
    mc.pass(60_000);
    mc.step(50);
    expect(Math.abs(c.now() - mc.m.wallMs)).toBeLessThanOrEqual(1);
    expect(c.steps).toBe(1);
    mc.pass(10);
    mc.step(-20);
    expect(Math.abs(c.now() - mc.m.wallMs)).toBeLessThanOrEqual(1);
    expect(c.steps).toBe(2);
    // Steps within the wall clock's own ms (plus the slack) are not followed.
    mc.step(0.4);
    c.now();
    expect(c.steps).toBe(2);
    // A slewed wall clock (3 ms over a few seconds) is followed without counting a step.
    mc.pass(2000);
    mc.step(3);
    expect(Math.abs(c.now() - mc.m.wallMs)).toBeLessThanOrEqual(1);
    expect(c.steps).toBe(2);
  });

  it('follows the wall clock after the machine slept (the monotonic clock stopped)', () => {
    const mc = machine();
    const c = new WallClock(mc.wall, mc.mono);
    c.now();
    mc.step(3_600_000);
    expect(Math.abs(c.now() - mc.m.wallMs)).toBeLessThanOrEqual(1);
  });

  it('a process started before a step and one started after it measure an offset near 0', () => {
    const mc = machine();
    const relayOrigin = mc.origin();
    const relay = new WallClock(mc.wall, mc.mono, relayOrigin);
    mc.pass(120_000);
    mc.step(30);
    const pageOrigin = mc.origin();
    const page = new WallClock(mc.wall, mc.mono, pageOrigin);
    /** One round trip, 1 ms each way, the relay answering at once. */
    const roundTrip = (pageNow: () => number, relayNow: () => number) => {
      const t0 = pageNow();
      mc.pass(1);
      const t1 = relayNow();
      const t2 = relayNow();
      mc.pass(1);
      return clockSample(t0, t1, t2, pageNow());
    };
    expect(
      Math.abs(
        roundTrip(
          () => page.now(),
          () => relay.now()
        ).offsetMs
      )
    ).toBeLessThanOrEqual(1);
    // The process-start clocks (timeOrigin + performance.now()) measure the step instead.
    const stale = roundTrip(
      () => pageOrigin + mc.mono(),
      () => relayOrigin + mc.mono()
    );
    expect(stale.offsetMs).toBeCloseTo(-30, 2);
  });
});

describe('clockNow', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('follows Date.now() when the system clock is set', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 50_000);
    expect(Math.abs(clockNow() - Date.now())).toBeLessThanOrEqual(2);
    vi.setSystemTime(Date.now() - 120_000);
    expect(Math.abs(clockNow() - Date.now())).toBeLessThanOrEqual(2);
  });
});
