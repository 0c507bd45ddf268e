// Red team (PROTOCOL.md §5.3.1, §6.1.3, §6.1.5): what a forker can do to an honest node's clocks
// and own feed.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { LedgerError } from '../../src/lib/core/errors.js';
import { VOID_LAMPORT_SLACK } from '../../src/lib/core/constants.js';
import type { EntryDep, HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const T0 = 1_700_000_000_000;

async function entry(
  keys: IdentityKeys,
  net: Uint8Array,
  seq: number,
  prev: HashedEntry | undefined,
  lamport: number,
  deps: EntryDep[] = [],
  dt = 0
): Promise<HashedEntry> {
  const a = toHex(keys.publicKey);
  const time = T0 + seq + dt;
  const payload = yUpdateAt(`k${seq}`, { v: `x${dt}`, a, t: time, l: lamport }, clientIdOf(a), seq - 1);
  return createEntry(
    { keys, seq, prev: prev?.hash ?? new Uint8Array(32), lamport, time, clock: seq, deps, payload },
    net
  );
}

describe('redteam: clocks and own feed under forks', () => {
  it.fails(
    // BUG (spec claim, §5.3.1: "Nobody can push the clock ahead: it grows by at most one per entry
    // across the network, so it never overflows and local writes never get stuck"). Inputs: one
    // void feed F (fork at seq 1), then 64 entries of H, each with a dependency on F@1 and the
    // highest lamport the bound allows, each in its own ingest. Expected: an honest node's next
    // write carries a lamport near the number of entries (~70). Actual: 64 * 2^32 + …: every
    // entry (one ingest each) adds VOID_LAMPORT_SLACK. At 2^21 ≈ 2.1 M such entries the
    // lamport passes 2^53 - 1 (the largest a varuint may carry), and an honest node that
    // depends on H can no longer write (its entry would not encode). Suggested fix: take the
    // void dependency's lamport from the fork evidence (max of the two variants' lamports at s,
    // which every node holding the evidence knows, plus the feed length it could have reached,
    // or simply the exact lamport of seq s - 1 plus one) instead of the node's highest lamport,
    // so the bound is the same on every node and does not compound.
    'entries built on a void feed cannot push the lamport ahead of the number of entries',
    async () => {
      const node = await openLedger(memoryLocation(), 120);
      const net = node.ledger.networkId;
      const [fk, hk] = await Promise.all([keysFromByte(97), keysFromByte(98)]);
      const F = toHex(fk.publicKey);
      await node.ledger.ingest([await entry(fk, net, 1, undefined, 1), await entry(fk, net, 1, undefined, 1, [], 1)]);
      expect(node.ledger.voidFrom(F)).toBe(1);
      let prev: HashedEntry | undefined;
      let high = 1;
      for (let seq = 1; seq <= 64; seq++) {
        const e = await entry(hk, net, seq, prev, high + VOID_LAMPORT_SLACK, [{ author: F, seq: 1 }]);
        const r = await node.ledger.ingest([e]);
        expect(r.rejected).toEqual([]);
        prev = e;
        high = e.entry.lamport;
      }
      // An honest write that overwrites H's last record depends on H: its lamport follows.
      const h = await node.ledger.put('k64', 'honest');
      expect(h.entry.lamport).toBeLessThan(1000);
    }
  );

  it('a fork of the node own key (a clone signed elsewhere) voids its writes with a LedgerError, never breaks it', async () => {
    const loc = memoryLocation();
    const node = await openLedger(loc, 121);
    const other = await openLedger(memoryLocation(), 122);
    const net = node.ledger.networkId;
    const first = await node.ledger.put('mine', 1);
    // The same key signs another seq 1 elsewhere (a cloned profile, a stolen key).
    const clone = await entry(node.keys, net, 1, undefined, 1, [], 9);
    await other.ledger.ingest([first]);
    const r = await node.ledger.ingest([clone]);
    expect(r.forks).toBe(1);
    expect(node.ledger.voidFrom(node.ledger.author)).toBe(1);
    const err = await node.ledger.put('after', 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerError);
    expect((err as Error).name).toBe('StateUsageError');
    // The rest of the network still replicates to it, and it agrees with a node told the same.
    const w = await other.ledger.put('other', 3);
    await node.ledger.ingest([w]);
    await other.ledger.ingest([clone]);
    expect(node.ledger.records()).toEqual(other.ledger.records());
    expect(node.ledger.heads()).toEqual(other.ledger.heads());
    await node.ledger.close();
    const again = await openLedger(loc, 121);
    expect(again.ledger.heads()).toEqual(other.ledger.heads());
    expect(again.ledger.stats().stateDigest).toBe(other.ledger.stats().stateDigest);
    expect(((await again.ledger.put('x', 1).catch((e: unknown) => e)) as Error).name).toBe('StateUsageError');
  });
});
