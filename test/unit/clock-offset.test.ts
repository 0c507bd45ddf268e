// The NTP-style estimator (core/clock): one sample's offset and delay, the minimum-delay filter
// with its uncertainty, the median over peers, and the time protocol's frames.
import { describe, expect, it } from 'vitest';
import { ClockFilter, clockSample, combineOffsets, median } from '../../src/lib/core/clock/offset.js';
import { PeerClocks } from '../../src/lib/core/clock/peer-clocks.js';
import {
  decodeTimeRequest,
  decodeTimeResponse,
  encodeTimeRequest,
  encodeTimeResponse
} from '../../src/lib/core/clock/codec.js';
import { CLOCK_PHI, TIME_REQUEST_BYTES, TIME_RESPONSE_BYTES } from '../../src/lib/core/clock/constants.js';

const T = 1_700_000_000_000;

describe('clockSample', () => {
  it('computes offset ((t1-t0)+(t2-t3))/2 and delay (t3-t0)-(t2-t1)', () => {
    // Peer 100 ms ahead, 10 ms out, 2 ms processing, 30 ms back.
    const s = clockSample(T, T + 100 + 10, T + 100 + 12, T + 42);
    expect(s.delayMs).toBe(40);
    // Asymmetry (10 vs 30) biases the estimate by (10 - 30) / 2 = -10 ms.
    expect(s.offsetMs).toBe(90);
    expect(s.at).toBe(T + 42);
  });

  it('is exact on a symmetric path', () => {
    const s = clockSample(T, T - 250 + 20, T - 250 + 25, T + 45);
    expect(s.offsetMs).toBe(-250);
    expect(s.delayMs).toBe(40);
  });

  it('clamps a slightly negative delay to 0 and refuses impossible timestamps', () => {
    expect(clockSample(T, T + 5, T + 6, T + 0.5).delayMs).toBe(0);
    expect(() => clockSample(T, T, T, T - 1)).toThrow(expect.objectContaining({ name: 'ClockSampleError' }));
    expect(() => clockSample(T, T + 2, T + 1, T + 3)).toThrow(expect.objectContaining({ name: 'ClockSampleError' }));
    expect(() => clockSample(T, Number.NaN, T, T)).toThrow(expect.objectContaining({ code: 'clock-sample' }));
    expect(() => clockSample(T, 1e20, 1e20, T)).toThrow(expect.objectContaining({ name: 'ClockSampleError' }));
    expect(() => clockSample(T, T, T, T + 20_000)).toThrow(expect.objectContaining({ name: 'ClockSampleError' }));
  });
});

describe('ClockFilter', () => {
  it('trusts the sample of least delay in its window, with uncertainty delay/2 + dispersion', () => {
    const f = new ClockFilter({ samples: 4, precisionMs: 1, phi: 0 });
    f.add({ offsetMs: 30, delayMs: 80, at: T });
    f.add({ offsetMs: 12, delayMs: 10, at: T + 1 });
    f.add({ offsetMs: -20, delayMs: 60, at: T + 2 });
    const e = f.estimate(T + 3);
    expect(e).toMatchObject({ offsetMs: 12, delayMs: 10, uncertaintyMs: 6, samples: 3, at: T + 1 });
    expect(e!.jitterMs).toBeCloseTo(Math.sqrt((18 ** 2 + 32 ** 2) / 2));
  });

  it('slides: the best sample leaves the window after `samples` newer ones', () => {
    const f = new ClockFilter({ samples: 2, precisionMs: 0, phi: 0 });
    f.add({ offsetMs: 1, delayMs: 1, at: T });
    f.add({ offsetMs: 50, delayMs: 70, at: T + 1 });
    expect(f.estimate(T + 2)?.offsetMs).toBe(1);
    f.add({ offsetMs: 40, delayMs: 90, at: T + 2 });
    expect(f.estimate(T + 3)).toMatchObject({ offsetMs: 50, samples: 2 });
  });

  it('dispersion grows with age at PHI, and old samples expire', () => {
    const f = new ClockFilter({ precisionMs: 2, maxAgeMs: 60_000 });
    f.add({ offsetMs: 5, delayMs: 8, at: T });
    expect(f.estimate(T + 10_000)!.uncertaintyMs).toBeCloseTo(4 + 2 + CLOCK_PHI * 10_000);
    expect(f.estimate(T + 60_001)).toBeNull();
    expect(f.count).toBe(0);
  });
});

describe('median and the node offset', () => {
  it('median of odd and even lists; empty refused', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it('the node offset is the median over peers; its interval is the medians of the bounds', () => {
    expect(combineOffsets([])).toBeNull();
    const n = combineOffsets([
      { offsetMs: 10, uncertaintyMs: 2 },
      { offsetMs: 500, uncertaintyMs: 50 }, // an outlier does not move the median far
      { offsetMs: 12, uncertaintyMs: 4 }
    ]);
    expect(n).toEqual({ offsetMs: 12, uncertaintyMs: 4, peers: 3 });
  });

  it('PeerClocks keeps one filter per peer and forgets disconnected ones', () => {
    const c = new PeerClocks({ precisionMs: 0, phi: 0 }, 2);
    c.add('a', { offsetMs: 10, delayMs: 4, at: T });
    c.add('b', { offsetMs: 20, delayMs: 4, at: T });
    expect(c.node(T)).toEqual({ offsetMs: 15, uncertaintyMs: 2, peers: 2 });
    c.add('c', { offsetMs: 30, delayMs: 4, at: T }); // over the cap: the oldest peer (a) goes
    expect(c.peer('a', T)).toBeNull();
    c.forget('b');
    expect(c.node(T)).toEqual({ offsetMs: 30, uncertaintyMs: 2, peers: 1 });
    expect(c.size).toBe(1);
  });
});

describe('time protocol frames', () => {
  it('round-trips requests and responses at their fixed sizes', () => {
    const req = encodeTimeRequest(T + 0.125);
    expect(req.byteLength).toBe(TIME_REQUEST_BYTES);
    expect(req[0]).toBe(1);
    expect(decodeTimeRequest(req)).toBe(T + 0.125);
    const res = encodeTimeResponse({ t0: T, t1: T + 1.5, t2: T + 2.25 });
    expect(res.byteLength).toBe(TIME_RESPONSE_BYTES);
    expect(decodeTimeResponse(res)).toEqual({ t0: T, t1: T + 1.5, t2: T + 2.25 });
  });

  it('refuses other sizes, versions and non-finite timestamps', () => {
    const bad = (f: () => unknown) => expect(f).toThrow(expect.objectContaining({ name: 'TimeFrameError' }));
    const req = encodeTimeRequest(T);
    bad(() => decodeTimeRequest(req.subarray(0, 8)));
    bad(() => decodeTimeRequest(new Uint8Array([...req, 0])));
    bad(() => decodeTimeRequest(Uint8Array.from([2, ...req.subarray(1)])));
    const nan = new Uint8Array(TIME_REQUEST_BYTES);
    nan[0] = 1;
    new DataView(nan.buffer).setFloat64(1, Number.NaN);
    bad(() => decodeTimeRequest(nan));
    bad(() => decodeTimeResponse(new Uint8Array(TIME_RESPONSE_BYTES + 1)));
    bad(() => decodeTimeResponse(req));
    bad(() => encodeTimeRequest(Number.POSITIVE_INFINITY));
  });
});
