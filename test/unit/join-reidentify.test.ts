// An unverified node re-verifies once enough peers are connected, and every JOIN_RETRY_MS. A peer
// that identifies again and again (the driver calls addPeer on every identify) must not arm a
// round each time: red team 2026-12-01, 3 silent peers over 120 s, 3 rounds quiet against 20 when
// one of them re-identified every second. White-box: the joiner is put straight into the
// unverified phase (a full join to get there is covered by test/sim/join.test.ts).
import { describe, expect, it } from 'vitest';
import { Joiner } from '../../src/lib/core/join/joiner.js';
import { genesis } from '../helpers/ledger-nodes.js';

function roundsIn120s(reidentify: boolean): number {
  let t = 0;
  const j = new Joiner({
    networkId: new Uint8Array(32),
    genesis,
    operators: [],
    send: () => undefined,
    now: () => t,
    randomBytes: (n) => new Uint8Array(n),
    install: async () => undefined,
    local: () => ({ root: new Uint8Array(32), digest: new Uint8Array(32), entries: 1 }) as never
  });
  const inner = j as unknown as { phase: string; loaded: boolean; nextRoundAt: number };
  for (const p of ['p1', 'p2', 'p3']) j.addPeer(p);
  inner.phase = 'unverified';
  inner.loaded = true;
  inner.nextRoundAt = 30_000;
  for (; t < 120_000; t += 250) {
    if (reidentify && t % 1000 === 0) j.addPeer('p1');
    j.tick();
  }
  return j.status().rounds;
}

describe('joiner: a connected peer identifying again', () => {
  it('arms no extra re-verification round', () => {
    expect(roundsIn120s(true)).toBe(roundsIn120s(false));
  });
});
