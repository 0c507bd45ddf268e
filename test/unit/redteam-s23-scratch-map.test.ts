// scratch fuzzer: map items with stale origins, delivery orders
import { it } from 'vitest';
import * as Y from 'yjs';
import { encodeYUpdate } from '../fuzz/kit.js';
import { mulberry } from '../helpers/ledger-nodes.js';

interface It {
  client: number;
  clock: number;
  origin: number | null; // index of origin item
  deps: Set<number>; // indices that must come before
}

function payload(items: It[], i: number): Uint8Array {
  const it = items[i];
  const o = it.origin === null ? null : items[it.origin];
  return encodeYUpdate({
    sections: [
      {
        client: it.client,
        clock: it.clock,
        structs: [
          o === null
            ? { parent: 'm', parentSub: 'k', content: { k: 'any', values: [i] } }
            : { origin: { client: o.client, clock: o.clock }, content: { k: 'any', values: [i] } }
        ]
      }
    ],
    deletes: []
  });
}

function topo(items: It[], r: () => number): number[] {
  const done = new Set<number>();
  const out: number[] = [];
  while (out.length < items.length) {
    const ready = items.map((_, i) => i).filter((i) => !done.has(i) && [...items[i].deps].every((d) => done.has(d)));
    const pick = ready[Math.floor(r() * ready.length)];
    done.add(pick);
    out.push(pick);
  }
  return out;
}

function run(items: It[], order: number[], batch: boolean): string {
  const doc = new Y.Doc({ gc: false });
  const m = doc.getMap('m');
  if (batch) doc.transact(() => order.forEach((i) => Y.applyUpdate(doc, payload(items, i))));
  else order.forEach((i) => Y.applyUpdate(doc, payload(items, i)));
  const chain: string[] = [];
  for (let it = m._map.get('k') ?? null; it !== null; it = it.left) chain.push(`${it.id.client}:${it.id.clock}${it.deleted ? 'd' : ''}`);
  return chain.join(',');
}

it('map stale origins fuzz', () => {
  const r = mulberry(Number(process.env.SEED ?? 1));
  let bad = 0;
  for (let round = 0; round < 3000 && bad < 3; round++) {
    const n = 3 + Math.floor(r() * 4);
    const clients = [1, 2, 3, 4];
    const items: It[] = [];
    const clocks = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const client = clients[Math.floor(r() * clients.length)];
      const clock = clocks.get(client) ?? 0;
      clocks.set(client, clock + 1);
      const origin = i === 0 || r() < 0.2 ? null : Math.floor(r() * i);
      const deps = new Set<number>();
      if (origin !== null) deps.add(origin);
      for (let j = 0; j < i; j++) if (items[j].client === client) deps.add(j); // own earlier
      for (let j = 0; j < i; j++) if (r() < 0.3) deps.add(j);
      // transitive closure
      for (const d of [...deps]) for (const dd of items[d].deps) deps.add(dd);
      items.push({ client, clock, origin, deps });
    }
    const results = new Set<string>();
    for (let k = 0; k < 8; k++) {
      const order = topo(items, r);
      results.add(run(items, order, false));
      results.add(run(items, order, true));
    }
    if (results.size > 1) {
      bad++;
      console.log(JSON.stringify(items.map((x) => ({ ...x, deps: [...x.deps] }))), [...results]);
    }
  }
  console.log('bad', bad);
});
