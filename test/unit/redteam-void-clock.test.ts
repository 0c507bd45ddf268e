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
  it('entries built on a void feed cannot compound the lamport slack (the bound comes from the fork, not the node)', async () => {
    // One void feed F (fork at seq 1), then H tries 64 entries, each with a dependency on F@1 and
    // a lamport VOID_LAMPORT_SLACK above its previous one, each in its own ingest. The bound for a
    // void dependency is the lamport of F's last canonical entry (none here: 0) plus the depth
    // plus the slack, the same on every node (PROTOCOL.md §6.1.3): only the first can reach it.
    const node = await openLedger(memoryLocation(), 120);
    const net = node.ledger.networkId;
    const [fk, hk] = await Promise.all([keysFromByte(97), keysFromByte(98)]);
    const F = toHex(fk.publicKey);
    await node.ledger.ingest([await entry(fk, net, 1, undefined, 1), await entry(fk, net, 1, undefined, 1, [], 1)]);
    expect(node.ledger.voidFrom(F)).toBe(1);
    let prev: HashedEntry | undefined;
    let high = 1;
    let accepted = 0;
    for (let seq = 1; seq <= 64; seq++) {
      const e = await entry(hk, net, seq, prev, high + VOID_LAMPORT_SLACK, [{ author: F, seq: 1 }]);
      const r = await node.ledger.ingest([e]);
      if (r.rejected.length > 0) {
        expect(r.rejected[0].code).toBe('causality');
        break;
      }
      accepted++;
      prev = e;
      high = e.entry.lamport;
    }
    expect(accepted).toBe(1);
    // An honest write that overwrites H's record depends on H: its lamport follows, within one slack.
    const h = await node.ledger.put('k1', 'honest');
    expect(h.entry.lamport).toBeLessThanOrEqual(VOID_LAMPORT_SLACK + 2);
  });

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
