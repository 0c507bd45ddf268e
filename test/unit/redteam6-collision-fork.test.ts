// Red team 6: a clientID collision (§6.2) AND a fork (§6.1) of the same author, plus honest
// dependents of both keys, in random orders and batches, with void rebuilds randomly deferred by
// the time budget (rebuild-budget.ts), random compaction, and a reopen. X (key 241) writes three
// records and also signs a second seq 2 (a fork); Y (242) collides with X's clientID and writes
// two; W (honest) overwrites X's kx2 and writes its own; V (honest) overwrites Y's ky1; Z is a
// bystander; T (246) is a third key of X's clientID. Every node must end with X and Y void from 1, and equal heads, records and digest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf, overrideClientIds } from '../../src/lib/core/state/client-id.js';
import { networkId } from '../../src/lib/core/genesis.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { genesis, ledgerView, memoryLocation, mulberry, openLedger, shuffle } from '../helpers/ledger-nodes.js';

const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) : Date.now() % 2 ** 31;
console.log(`redteam6-collision-fork SEED=${SEED}`);

let restore: () => void = () => undefined;
let x = '';
let y = '';
let t = '';
let items: HashedEntry[] = [];

async function writer(byte: number, tag: string, n: number, after: HashedEntry[] = [], over?: string) {
  const l = await openLedger(memoryLocation(), byte, { compactEvery: 0 });
  if (after.length > 0) await l.ledger.ingest(after);
  if (over !== undefined) await l.ledger.put(over, `${tag}-over`);
  for (let i = 1; i <= n; i++) await l.ledger.put(`k${tag}${i}`, `${tag}${i}`);
  await l.ledger.close();
  return l.log.filter((h) => toHex(h.entry.author) === l.ledger.author);
}

beforeAll(async () => {
  const [kx, ky, kt] = await Promise.all([keysFromByte(241), keysFromByte(242), keysFromByte(246)]);
  x = toHex(kx.publicKey);
  y = toHex(ky.publicKey);
  t = toHex(kt.publicKey);
  const cx = clientIdOf(x);
  restore = overrideClientIds((author, real) => (author === y || author === t ? cx : real));
  const xs = await writer(241, 'x', 3);
  const [alt] = await makeChain(kx, 1, networkId(genesis), xs[0], 'alt');
  const ys = await writer(242, 'y', 2);
  const ws = await writer(243, 'w', 1, xs, 'kx2');
  const vs = await writer(244, 'v', 1, ys.slice(0, 1), 'ky1');
  const zs = await writer(245, 'z', 2);
  const ts = await writer(246, 't', 1);
  items = [...xs, alt, ...ys, ...ws, ...vs, ...zs, ...ts];
}, 30_000);

afterAll(() => restore());

type Budget = { rebuildBudget: { record(ms: number): void } };

function view(l: Ledger) {
  const s = l.stats();
  return {
    ...ledgerView(l),
    yjsPending: s.yjsPending,
    stale: s.staleVoids,
    vx: l.voidFrom(x),
    vy: l.voidFrom(y),
    vt: l.voidFrom(t)
  };
}

describe(`redteam6: collision + fork of one author, deferred rebuilds (SEED=${SEED})`, () => {
  it('random orders, batches, deferrals, compaction and reopen give one state', async () => {
    const rand = mulberry(SEED);
    let ref: ReturnType<typeof view> | undefined;
    for (let run = 0; run < 30; run++) {
      const loc = memoryLocation();
      const defer = run % 3 !== 0;
      const opts = {
        compactEvery: run % 2 === 0 ? 0 : 1,
        voidRebuild: { share: 0.1, windowMs: 60_000, now: () => 0 }
      };
      const n = await openLedger(loc, 80 + run, opts);
      if (defer) (n.ledger as unknown as Budget).rebuildBudget.record(1e6); // every rebuild deferred
      const order = shuffle(items, rand);
      const orderIds = order.map((h) => items.indexOf(h));
      while (order.length > 0) {
        await n.ledger.ingest(order.splice(0, 1 + Math.floor(rand() * 3)));
        if (rand() < 0.2) await n.ledger.compact();
      }
      if (run % 4 < 2) await n.ledger.ingest(items); // re-offered, as sync would (half the runs)
      await n.ledger.flushVoids();
      const v = view(n.ledger);
      ref ??= v;
      expect({ run, orderIds, defer, ...v }).toEqual({ run, orderIds, defer, ...ref });
      await n.ledger.close();
      const again = await openLedger(loc, 80 + run, opts);
      expect({ run, orderIds, reopened: true, ...view(again.ledger) }).toEqual({
        run,
        orderIds,
        reopened: true,
        ...ref
      });
      await again.ledger.close();
    }
    expect(ref).toMatchObject({ vx: 1, vy: 1, vt: 1, stale: 0, pending: 0, yjsPending: false });
    const keys = (JSON.parse(ref!.records) as { key: string }[]).map((r) => r.key);
    expect(keys).toEqual(['kv1', 'kw1', 'kz1', 'kz2']);
  }, 60_000);

  it('closed while a rebuild is deferred (no flush): a reopen shows the rebuilt state', async () => {
    const [x1, x2, x3, alt, y1, y2, w1, w2, v1, v2, z1, z2, t1] = items;
    const ref = await openLedger(memoryLocation(), 95, { compactEvery: 0 });
    await ref.ledger.ingest(items);
    const loc = memoryLocation();
    const opts = { compactEvery: 1, voidRebuild: { share: 0.1, windowMs: 60_000, now: () => 0 } };
    const n = await openLedger(loc, 96, opts);
    await n.ledger.ingest([x1, x2, x3, w1, w2, z1, z2]);
    await n.ledger.compact(); // a compaction that holds X's seq 2 and W's overwrite of it
    (n.ledger as unknown as Budget).rebuildBudget.record(1e6);
    await n.ledger.ingest([alt]); // X's second seq 2: the void of applied entries is deferred
    expect(n.ledger.stats().staleVoids).toBe(1);
    expect(n.ledger.get('kx2')).toBe('w-over'); // stale: W's overwrite of X's voided item shows
    await n.ledger.ingest([y1, y2, v1, v2, t1]); // the collision moves X's void to 1; Y void too
    expect(n.ledger.voidFrom(x)).toBe(1);
    await n.ledger.compact(); // refused while stale
    await n.ledger.close();
    const again = await openLedger(loc, 96, opts);
    const v = view(again.ledger);
    expect(v).toEqual(view(ref.ledger));
    await again.ledger.close();
    await ref.ledger.close();
  }, 30_000);
});
