// Property: a join snapshot body with any one byte changed is refused with JoinMismatchError.
import { expect } from 'vitest';
import fc from 'fast-check';
import { verifyJoinSnapshot } from '../../src/lib/core/join/verify.js';

type Claim = Parameters<typeof verifyJoinSnapshot>[1];
type Ctx = Parameters<typeof verifyJoinSnapshot>[2];

/** 200 runs (seeded by `seed`): one byte of `body` XORed with 1..255 fails with JoinMismatchError only. */
export async function assertByteFlipsRefused(body: Uint8Array, claim: Claim, ctx: Ctx, seed: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (at, x) => {
      const b = new Uint8Array(body);
      b[at % b.length] ^= x;
      await expect(verifyJoinSnapshot(b, claim, ctx)).rejects.toMatchObject({ name: 'JoinMismatchError' });
    }),
    { seed, numRuns: 200 }
  );
}
