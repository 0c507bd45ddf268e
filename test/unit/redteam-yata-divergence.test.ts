// Red team (fixed: such an item is refused, LedgerState.checkPlacement): an item whose origin and rightOrigin lie in DIFFERENT keys of the records map (or
// whose rightOrigin is not right of its origin) passes parseYjsUpdate, the causal rules
// (both ids are within the declared dependencies) and checkIntegrable (no explicit parent), but
// Yjs' YATA integration is only convergent for well-formed origins. Two such entries, concurrent
// (neither depends on the other), integrate to DIFFERENT records depending on arrival order,
// with the same heads. Two honest nodes permanently disagree on a record's value and digest.
// Replay (ledger-replay.ts) applies whole feeds in author order, not in arrival order, so a
// node's records and digest also change across a restart (node y loses B's record 'a').
import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { EntryDep, HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

type Id = { client: number; clock: number };

/** One ContentAny item at (client, 0) with the given origin / rightOrigin (no explicit parent). */
function item(client: number, origin: Id | null, right: Id | null, value: string): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, 1);
  encoding.writeVarUint(enc, 1);
  encoding.writeVarUint(enc, client);
  encoding.writeVarUint(enc, 0);
  encoding.writeUint8(enc, 8 | (origin ? 0x80 : 0) | (right ? 0x40 : 0));
  if (origin) {
    encoding.writeVarUint(enc, origin.client);
    encoding.writeVarUint(enc, origin.clock);
  }
  if (right) {
    encoding.writeVarUint(enc, right.client);
    encoding.writeVarUint(enc, right.clock);
  }
  encoding.writeVarUint(enc, 1);
  encoding.writeAny(enc, value);
  encoding.writeVarUint(enc, 0);
  return encoding.toUint8Array(enc);
}

async function scenario() {
  // Honest history: A writes a=a1, b=b1; B (after seeing A) writes a=a2, c=c2.
  const A = await openLedger(memoryLocation(), 112);
  await A.ledger.put('a', 'a1');
  await A.ledger.put('b', 'b1');
  const B = await openLedger(memoryLocation(), 16);
  await B.ledger.ingest(A.log);
  await B.ledger.put('a', 'a2');
  await B.ledger.put('c', 'c2');
  const honest = [...B.log];
  const lamports = new Map(honest.map((h) => [`${toHex(h.entry.author)}:${h.entry.seq}`, h.entry.lamport]));
  const heads = new Map<string, number>();
  for (const h of honest) heads.set(toHex(h.entry.author), h.entry.seq);
  const cA = clientIdOf(A.ledger.author);
  const cB = clientIdOf(B.ledger.author);
  const deps: EntryDep[] = [...heads]
    .map(([author, seq]) => ({ author, seq }))
    .sort((x, y) => (x.author < y.author ? -1 : 1));
  const lamport = 1 + Math.max(...deps.map((d) => lamports.get(`${d.author}:${d.seq}`)!));

  const sign = (keys: IdentityKeys, payload: Uint8Array): Promise<HashedEntry> =>
    createEntry(
      { keys, seq: 1, prev: new Uint8Array(32), lamport, time: 1_700_000_000_000, clock: 1, deps, payload },
      A.ledger.networkId
    );
  // Ids in the honest doc: A 0 = a1, A 1 = b1; B 0 = a2, B 1 = c2 (check it).
  const doc = new Y.Doc({ gc: false });
  for (const h of honest) Y.applyUpdate(doc, h.entry.payload);
  const rec = doc.getMap('records');
  expect((rec._map.get('a') as Y.Item).id).toMatchObject({ client: cB, clock: 0 });
  expect((rec._map.get('c') as Y.Item).id).toMatchObject({ client: cB, clock: 1 });

  // E: origin = a1 (key a, overwritten), rightOrigin = c2 (key c). H: no origin, rightOrigin = a2.
  // Key bytes chosen for their clientIDs: A (112) < B (16) < E (57), A < H (99).
  const lo = await keysFromByte(57);
  const hi = await keysFromByte(99);
  expect(cA).toBeLessThan(cB);
  expect(cB).toBeLessThan(clientIdOf(toHex(lo.publicKey)));
  expect(cA).toBeLessThan(clientIdOf(toHex(hi.publicKey)));
  const E = await sign(
    lo,
    item(clientIdOf(toHex(lo.publicKey)), { client: cA, clock: 0 }, { client: cB, clock: 1 }, 'E')
  );
  const H = await sign(hi, item(clientIdOf(toHex(hi.publicKey)), null, { client: cB, clock: 0 }, 'H'));

  const locX = memoryLocation();
  const x = await openLedger(locX, 23);
  await x.ledger.ingest(honest);
  // E (origin and right origin under different keys) is refused everywhere, before storing.
  expect((await x.ledger.ingest([E])).rejected).toMatchObject([{ code: 'malformed-payload' }]);
  // H (a map item with a right origin, which Y.Map never writes) is refused too, since 2026-12-02
  // (test/unit/redteam-map-right-origin.test.ts: such an item alone made replicas diverge).
  expect((await x.ledger.ingest([H])).rejected).toMatchObject([{ code: 'malformed-payload' }]);

  const locY = memoryLocation();
  const y = await openLedger(locY, 24);
  await y.ledger.ingest(honest);
  expect((await y.ledger.ingest([H])).rejected).toMatchObject([{ code: 'malformed-payload' }]);
  expect((await y.ledger.ingest([E])).rejected).toMatchObject([{ code: 'malformed-payload' }]);

  return { x, y, locX, locY };
}

describe('redteam: malformed origins make integration order-dependent', () => {
  it('two nodes with the same entries (different order) show different records and digests', async () => {
    const { x, y } = await scenario();
    // Same entries and heads ...
    expect(y.ledger.heads()).toEqual(x.ledger.heads());
    // ... but on x, E lands after a2 and deletes it (E's raw value is no record wrapper, so key
    // 'a' vanishes: B's record is gone with no removal listed), while on y E is placed before H
    // and is itself deleted, so a = 'a2'. Delete sets (hence stateDigest) differ too.
    const view = (n: typeof x) => n.ledger.records().map((r) => [r.key, r.value]);
    expect({ records: view(y), digest: y.ledger.stats().stateDigest }).toEqual({
      records: view(x),
      digest: x.ledger.stats().stateDigest
    });
  });

  it('a node shows the same records and digest before and after a restart (replay order)', async () => {
    const { x, y, locX, locY } = await scenario();
    const snap = (n: typeof x) => ({
      records: n.ledger.records().map((r) => [r.key, r.value]),
      digest: n.ledger.stats().stateDigest
    });
    const before = { x: snap(x), y: snap(y) };
    await x.ledger.close();
    await y.ledger.close();
    const x2 = await openLedger(locX, 23);
    const y2 = await openLedger(locY, 24);
    expect({ x: snap(x2), y: snap(y2) }).toEqual(before);
  });
});
