// Red team (PROTOCOL.md §6.1.3): the lamport of an entry with a dependency on a void feed is only
// bounded by `VOID_LAMPORT_SLACK` above "the highest lamport the node holds". That bound is a
// per-node value: it counts entries a node stored before their feed became void, but not the
// fork's second variant (evidence is never counted), and a reopen forgets the voided entries.
// So which variant of a fork a node stored first moves its bound by up to 2^32, and an entry
// placed between the two bounds is accepted on one node and refused on the other, for good
// (nothing raises the lower node's clock by 2^32). An honest write that builds on the accepted
// entry is then held on the other node forever: its author is frozen there.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { VOID_LAMPORT_SLACK } from '../../src/lib/core/constants.js';
import type { EntryDep, HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const T0 = 1_700_000_000_000;

async function first(
  keys: IdentityKeys,
  net: Uint8Array,
  key: string,
  value: string,
  lamport = 1,
  deps: EntryDep[] = [],
  time = T0
): Promise<HashedEntry> {
  const client = clientIdOf(toHex(keys.publicKey));
  const payload = yUpdateAt(key, value, client, 0);
  return createEntry({ keys, seq: 1, prev: new Uint8Array(32), lamport, time, clock: 1, deps, payload }, net);
}

function view(l: Ledger) {
  const s = l.stats();
  return {
    heads: l.heads(),
    records: l.records().map((r) => [r.key, r.value]),
    digest: s.stateDigest,
    pending: s.pending
  };
}

describe('redteam: lamport bound of a void dependency', () => {
  it(
    // BUG. Inputs: F forks at seq 1 (f1a, f1b). G signs g1a (dep F@1, lamport 1 + 2^32: within the
    // bound everywhere) and g1b (no deps, lamport 1). Node A gets f1a, f1b, g1a, g1b; node B gets
    // f1a, f1b, g1b, g1a: both end with G void from 1, same heads, same digest. But A's
    // `Ledger.clock` is 2^32 + 1 (g1a was stored before G's fork was known) and B's is 1 (g1a
    // only reached B as evidence, whose lamport is never counted). H then signs h1 (dep F@1,
    // lamport 2^33 + 1): A accepts it, B refuses it (causality) and always will. Expected: same
    // heads/records/digest on A and B. Actual: A holds H's record, B does not; A's honest put that
    // overwrites it (dep H@1) and every later write of A are refused on B ("depends on a refused
    // entry" / "follows refused seq") each time they are offered: A is frozen on B for good.
    'the same entries in two orders give the same state, and an honest author is not frozen',
    async () => {
      const a = await openLedger(memoryLocation(), 31);
      const b = await openLedger(memoryLocation(), 32);
      const net = a.ledger.networkId;
      const [fk, gk, hk] = await Promise.all([keysFromByte(80), keysFromByte(81), keysFromByte(82)]);
      const F = toHex(fk.publicKey);
      const f1a = await first(fk, net, 'f', 'a');
      const f1b = await first(fk, net, 'f', 'b', 1, [], T0 + 1);
      const g1a = await first(gk, net, 'g', 'a', 1 + VOID_LAMPORT_SLACK, [{ author: F, seq: 1 }]);
      const g1b = await first(gk, net, 'g', 'b');
      for (const h of [f1a, f1b, g1a, g1b]) await a.ledger.ingest([h]);
      for (const h of [f1a, f1b, g1b, g1a]) await b.ledger.ingest([h]);
      expect(view(b.ledger)).toEqual(view(a.ledger)); // so far the rule holds

      const h1 = await first(hk, net, 'h', 'x', 1 + 2 * VOID_LAMPORT_SLACK, [{ author: F, seq: 1 }]);
      const ra = await a.ledger.ingest([h1]);
      const rb = await b.ledger.ingest([h1]);
      // An honest overwrite of H's record on A, and one more honest write.
      await a.ledger.put('h', 'honest');
      await a.ledger.put('later', 1);
      await b.ledger.ingest(a.log.filter((h) => toHex(h.entry.author) === a.ledger.author));
      await b.ledger.ingest([h1]); // offered again, as sync would

      expect(rb.rejected.map((r) => r.code)).toEqual(ra.rejected.map((r) => r.code));
      expect(view(b.ledger)).toEqual(view(a.ledger));
      expect(b.ledger.stats().pending).toBe(0);
    }
  );

  it(
    // BUG (same cause). A node's bound drops when it reopens: replay counts only applied entries,
    // so g1a (stored, then voided) no longer raises it. Inputs as above; node A never closes,
    // node A2 is given the same entries, closed and reopened. Expected: h1 gets one verdict.
    // Actual: A accepts h1, A2 refuses it (causality).
    'a reopen does not change the verdict on an entry with a void dependency',
    async () => {
      const a = await openLedger(memoryLocation(), 31);
      const loc = memoryLocation();
      const a2 = await openLedger(loc, 33);
      const net = a.ledger.networkId;
      const [fk, gk, hk] = await Promise.all([keysFromByte(83), keysFromByte(84), keysFromByte(85)]);
      const F = toHex(fk.publicKey);
      const f1a = await first(fk, net, 'f', 'a');
      const f1b = await first(fk, net, 'f', 'b', 1, [], T0 + 1);
      const g1a = await first(gk, net, 'g', 'a', 1 + VOID_LAMPORT_SLACK, [{ author: F, seq: 1 }]);
      const g1b = await first(gk, net, 'g', 'b');
      for (const h of [f1a, f1b, g1a, g1b]) {
        await a.ledger.ingest([h]);
        await a2.ledger.ingest([h]);
      }
      await a2.ledger.close();
      const reopened = await openLedger(loc, 33);
      expect(view(reopened.ledger)).toEqual(view(a.ledger));
      const h1 = await first(hk, net, 'h', 'x', 1 + 2 * VOID_LAMPORT_SLACK, [{ author: F, seq: 1 }]);
      const ra = await a.ledger.ingest([h1]);
      const rb = await reopened.ledger.ingest([h1]);
      expect(rb.rejected.map((r) => r.code)).toEqual(ra.rejected.map((r) => r.code));
      expect(view(reopened.ledger)).toEqual(view(a.ledger));
    }
  );
});
