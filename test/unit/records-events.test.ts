// The node's `records` events, coalesced (src/lib/worker/records-events.ts): the first change goes
// at once, a run of writes sends one event per window instead of one per write, and every change
// arrives, in order. Virtual time; counts events (each one a postMessage to the page).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RecordChange } from '../../src/lib/core/state/records.js';
import { RecordsEvents } from '../../src/lib/worker/records-events.js';

const WINDOW_MS = 50;
const change = (i: number): RecordChange => ({ key: `k${i}`, action: 'add', value: i });

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('records events', () => {
  it('a lone write is sent at once', () => {
    const sent: RecordChange[][] = [];
    const events = new RecordsEvents(WINDOW_MS, (c) => sent.push(c));
    events.changed([change(0)]);
    expect(sent).toEqual([[change(0)]]);
  });

  it('500 writes 2 ms apart send one event per window, with every change in order', () => {
    const sent: RecordChange[][] = [];
    const events = new RecordsEvents(WINDOW_MS, (c) => sent.push(c));
    for (let i = 0; i < 500; i++) {
      events.changed([change(i)]);
      vi.advanceTimersByTime(2);
    }
    vi.advanceTimersByTime(WINDOW_MS);
    // 1 s of writes: about one event per 50 ms (before: 500, one per write).
    expect(sent.length).toBeLessThanOrEqual(21);
    expect(sent.flat()).toEqual(Array.from({ length: 500 }, (_, i) => change(i)));
  });

  it('sends what it holds at stop, then nothing', () => {
    const sent: RecordChange[][] = [];
    const events = new RecordsEvents(WINDOW_MS, (c) => sent.push(c));
    events.changed([change(0)]);
    events.changed([change(1)]);
    events.stop();
    expect(sent).toEqual([[change(0)], [change(1)]]);
    vi.advanceTimersByTime(WINDOW_MS * 2);
    expect(sent).toEqual([[change(0)], [change(1)]]);
  });
});
