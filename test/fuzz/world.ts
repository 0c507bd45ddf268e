// The fuzzer's fixed world, built once per run: two honest authors A and B whose entries
// reference each other (overwrites, deletes, a nested shared type, a formatted text), an evil author E whose valid
// entries (built on A's and B's) are the raw material the mutations start from, and an honest
// bystander C whose entry probes that ingest still works after each case.
import * as Y from 'yjs';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { genesis, memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';

export interface Author {
  keys: IdentityKeys;
  hex: string;
  client: number;
  /** This author's own entries, in seq order. */
  entries: HashedEntry[];
}

export interface World {
  networkId: Uint8Array;
  a: Author;
  b: Author;
  e: Author;
  c: Author;
  /** A's and B's entries, in an order that satisfies every dependency. */
  base: HashedEntry[];
  /** Every entry of the world by `${author}:${seq}`. */
  byId: Map<string, HashedEntry>;
}

const own = (l: TestLedger): HashedEntry[] => l.log.filter((h) => toHex(h.entry.author) === l.ledger.author);

function author(l: TestLedger): Author {
  return { keys: l.keys, hex: l.ledger.author, client: clientIdOf(l.ledger.author), entries: own(l) };
}

export async function buildWorld(): Promise<World> {
  const a = await openLedger(memoryLocation(), 11);
  await a.ledger.put('a1', 'one');
  await a.ledger.put('a2', { nested: [1, 2, { x: 'y' }] });
  await a.ledger.put('shared', 'from-a');
  a.ledger.registerType('text', 'text');
  await a.ledger.transact((doc) => {
    const t = doc.getText('text');
    t.insert(0, 'abcdef');
    t.format(0, 4, { bold: true });
  });

  const b = await openLedger(memoryLocation(), 12);
  await b.ledger.ingest(own(a));
  await b.ledger.put('shared', 'from-b'); // overwrites A's: depends on A
  await b.ledger.delete('a1'); // deletes A's record
  await b.ledger.put('b1', 'bee');
  b.ledger.registerType('list', 'array');
  await b.ledger.transact((doc) => {
    const m = new Y.Map<unknown>();
    doc.getArray('list').push([m, 'tail']);
    m.set('inner', 1);
  });

  const e = await openLedger(memoryLocation(), 13);
  await e.ledger.ingest([...own(a), ...own(b)]);
  await e.ledger.put('e1', 'evil-1');
  await e.ledger.put('shared', 'from-e'); // overwrites B's
  await e.ledger.delete('b1');
  e.ledger.registerType('list', 'array');
  await e.ledger.transact((doc) => {
    const list = doc.getArray('list');
    list.insert(1, ['e-mid']);
    (list.get(0) as Y.Map<unknown>).set('inner', 2);
  });
  await e.ledger.delete('a2');
  await e.ledger.put('e2', [1, 'two', null]);

  const c = await openLedger(memoryLocation(), 14);
  await c.ledger.put('c1', 'bystander');

  const w: World = {
    networkId: a.ledger.networkId,
    a: author(a),
    b: author(b),
    e: author(e),
    c: author(c),
    base: [...own(a), ...own(b)],
    byId: new Map()
  };
  for (const au of [w.a, w.b, w.e, w.c]) for (const h of au.entries) w.byId.set(`${au.hex}:${h.entry.seq}`, h);
  for (const l of [a, b, e, c]) await l.ledger.close();
  return w;
}

let nextKeyByte = 100;
/** A fresh target ledger (its own key) holding the world's base (A and B). */
export async function target(w: World): Promise<TestLedger & { loc: ReturnType<typeof memoryLocation> }> {
  const loc = memoryLocation();
  // Keys 1..9 rotate: the key only matters for local writes (the honest-write probe).
  const t = await openLedger(loc, 1 + (nextKeyByte++ % 9), { compactEvery: 0 });
  const r = await t.ledger.ingest(w.base);
  if (r.added !== w.base.length) throw new Error(`world base not accepted: ${JSON.stringify(r)}`);
  t.log.length = 0;
  return { ...t, loc };
}

export { genesis };
