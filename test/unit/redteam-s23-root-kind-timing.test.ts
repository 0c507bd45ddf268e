// Red team (s23): the verdict on an entry depended on whether the app registered the root type
// before or after the entry arrived.
//
// LedgerState.checkPlacement judged an item under a root type by the root's local class: 'map'
// or 'list' once the app called registerType(name, ...), 'unknown' (anything goes) before. Yjs
// itself takes both kinds of item into an undefined root (an AbstractType keeps a _start list and
// a _map; Doc.get converts it later, keeping both). So a keyless (list-style) item under "notes":
//   - arriving after the app registered "notes" as a map: "a map item without a key", refused;
//   - arriving before (the app registers its types when a page first uses them; gossip and
//     Ledger.open's replay run before that): accepted and stored, and never judged again.
// Two nodes running the same app, given the same entry, stored different feeds and reported
// different heads and digests for good, depending only on when the entry came in.
// Fixed: app roots are not judged by kind (PROTOCOL.md §5.3 rule 5); only the bundled records
// root is, by name, on every node. Yjs keeps the other form where the type's API does not show it.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { SharedTypeKind } from '../../src/lib/core/state/doc.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { encodeYUpdate, observe, type YStruct } from '../fuzz/kit.js';

async function entryOf(keys: IdentityKeys, struct: YStruct, networkId: Uint8Array): Promise<HashedEntry> {
  const client = clientIdOf(toHex(keys.publicKey));
  const payload = encodeYUpdate({ sections: [{ client, clock: 0, structs: [struct] }], deletes: [] });
  return createEntry({ keys, seq: 1, prev: new Uint8Array(32), lamport: 1, time: 1, clock: 1, payload }, networkId);
}

const keyless: YStruct = { parent: 'notes', content: { k: 'any', values: ['x'] } };
const keyed: YStruct = { parent: 'notes', parentSub: 'title', content: { k: 'any', values: ['x'] } };

describe('red team s23: root kinds by registration', () => {
  const cases: [string, YStruct, SharedTypeKind][] = [
    ['a keyless item under a root registered as a map', keyless, 'map'],
    ['a keyed item under a root registered as an array', keyed, 'array'],
    ['a keyed item under a root registered as text', keyed, 'text'],
    ['a keyed item under a root registered as XML', keyed, 'xml']
  ];
  for (const [name, struct, kind] of cases) {
    it(`${name}: one verdict whether it came before or after registerType, and after a restart`, async () => {
      const evil = await keysFromByte(71);
      const loc = memoryLocation();
      const early = await openLedger(memoryLocation(), 1);
      const late = await openLedger(loc, 2);
      const h = await entryOf(evil, struct, early.ledger.networkId);
      early.ledger.registerType('notes', kind); // the app is up before the entry arrives
      const a = await early.ledger.ingest([h]);
      const b = await late.ledger.ingest([h]); // the entry arrives before the app registers
      late.ledger.registerType('notes', kind);
      expect(a.rejected).toEqual(b.rejected);
      expect(a.rejected).toEqual([]);
      const seen = await observe(early.ledger, early.store);
      expect(await observe(late.ledger, late.store)).toEqual(seen);
      // The other form stays where the type's API does not show it.
      const shown = early.ledger.registerType('notes', kind).toJSON();
      expect(shown).toEqual(kind === 'map' ? {} : kind === 'array' ? [] : '');
      // Honest writes to the type go on, and replicate.
      await early.ledger.transact(() => {
        const t = early.ledger.registerType('notes', kind);
        if (kind === 'map') (t as import('yjs').Map<unknown>).set('k', 1);
        else if (kind === 'array') (t as import('yjs').Array<unknown>).push([1]);
        else if (kind === 'text') (t as import('yjs').Text).insert(0, 'hi');
      });
      await late.ledger.ingest(early.log);
      expect(await observe(late.ledger, late.store)).toEqual(await observe(early.ledger, early.store));
      // A restart replays before any registration: the same again.
      await late.ledger.close();
      const again: TestLedger = await openLedger(loc, 2);
      again.ledger.registerType('notes', kind);
      expect(await observe(again.ledger, again.store)).toEqual(await observe(early.ledger, early.store));
      for (const n of [early, again]) await n.ledger.close();
    });
  }

  it('the records root is judged as a map on every node, registered or not', async () => {
    const evil = await keysFromByte(72);
    const a = await openLedger(memoryLocation(), 1);
    const h = await entryOf(evil, { parent: 'records', content: { k: 'any', values: ['x'] } }, a.ledger.networkId);
    const r = await a.ledger.ingest([h]);
    expect(r.rejected.map((x) => x.code)).toEqual(['malformed-payload']);
    await a.ledger.close();
  });
});
