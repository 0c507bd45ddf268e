// The concurrency bound of core/lane.ts, and its use for Ed25519 verification (ed25519.ts): at
// most ED25519_MAX_VERIFIES_IN_FLIGHT verifications reach WebCrypto at once, so a signature is
// not queued behind a backlog of them.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Lane } from '../../src/lib/core/lane.js';
import { ED25519_MAX_VERIFIES_IN_FLIGHT } from '../../src/lib/core/constants.js';
import { generateKeys, sign, verify } from '../../src/lib/core/ed25519.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('Lane', () => {
  it('runs at most `max` at once, the rest in arrival order; a failure frees its slot', async () => {
    const lane = new Lane(2);
    const gates = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      lane.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      })
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect([lane.inFlight, lane.queued]).toEqual([2, 3]);
    gates[1].reject(new Error('boom'));
    await expect(runs[1]).rejects.toThrow('boom');
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2]));
    gates[0].resolve();
    gates[2].resolve();
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2, 3, 4]));
    gates[3].resolve();
    gates[4].resolve();
    expect(await Promise.all([runs[0], runs[2], runs[3], runs[4]])).toEqual([0, 2, 3, 4]);
    expect([lane.inFlight, lane.queued]).toEqual([0, 0]);
  });

  it('refuses a lane without slots', () => {
    expect(() => new Lane(0)).toThrow(RangeError);
  });
});

describe('Ed25519 verifications are bounded in flight; signatures are not', () => {
  afterEach(() => vi.restoreAllMocks());

  it(`never hands WebCrypto more than ${ED25519_MAX_VERIFIES_IN_FLIGHT} verifications at once, and a signature passes them`, async () => {
    const keys = await generateKeys();
    const msg = new Uint8Array([1, 2, 3]);
    const sig = await sign(keys.seed, msg);
    await verify(keys.publicKey, msg, sig); // backend detected, key imported
    const subtle = globalThis.crypto.subtle;
    const realVerify = subtle.verify.bind(subtle);
    let now = 0;
    let peak = 0;
    const held: (() => void)[] = [];
    vi.spyOn(subtle, 'verify').mockImplementation(async (...args: Parameters<SubtleCrypto['verify']>) => {
      now++;
      peak = Math.max(peak, now);
      await new Promise<void>((r) => held.push(r)); // held until the test lets it go
      now--;
      return realVerify(...args);
    });
    const results = Array.from({ length: 100 }, () => verify(keys.publicKey, msg, sig));
    await vi.waitFor(() => expect(held.length).toBe(ED25519_MAX_VERIFIES_IN_FLIGHT));
    // All slots are taken and 92 wait: a signature still goes straight to WebCrypto.
    const signed = await sign(keys.seed, new Uint8Array([4]));
    expect(signed.length).toBe(64);
    const pump = setInterval(() => held.splice(0).forEach((r) => r()), 1);
    try {
      expect((await Promise.all(results)).every(Boolean)).toBe(true);
    } finally {
      clearInterval(pump);
    }
    expect(peak).toBe(ED25519_MAX_VERIFIES_IN_FLIGHT);
  });
});
