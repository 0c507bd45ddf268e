// The time bound of store operations (platform/storage-deadline.ts).
import { describe, expect, it, vi } from 'vitest';
import { bounded, Deadline } from '../../src/lib/platform/storage-deadline.js';

const T = { baseMs: 50, perEntryMs: 10, perMiBMs: 100 };
const never = () => new Promise<never>(() => undefined);

describe('storage deadline', () => {
  it('rejects with the expiry error once the base passes, and not before', async () => {
    const t0 = Date.now();
    const err = await bounded(T, never, () => new Error('late')).catch((e: Error) => e);
    expect(err).toMatchObject({ message: 'late' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it('settles like the work when it is in time, and the timer never fires', async () => {
    vi.useFakeTimers();
    try {
      let fired = 0;
      await expect(
        bounded(
          T,
          async () => 7,
          () => fired++
        )
      ).resolves.toBe(7);
      await expect(
        bounded(
          T,
          () => Promise.reject(new Error('no')),
          () => fired++
        )
      ).rejects.toThrow('no');
      vi.advanceTimersByTime(10_000); // far past the base: a leaked timer would fire now
      expect(fired).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('extends by entries and bytes; non-finite amounts add nothing, so it stays bounded', async () => {
    const t0 = Date.now();
    const ms = await new Promise<number>((resolve) => {
      const d = new Deadline(T, () => resolve(Date.now() - t0));
      d.extend(Infinity);
      d.extend(NaN, NaN);
      d.extend(-5);
      d.extend(3, 2 ** 19); // +30 ms +50 ms
    });
    expect(ms).toBeGreaterThanOrEqual(125);
    expect(ms).toBeLessThan(2_000);
  });
});
