// Property: N authors write and delete with random partial syncing; then every payload is
// delivered to fresh replicas in random order with duplicates. All replicas must agree on
// records, digest and conflicts, and every reported conflict must be a real concurrent write
// (checked against what each writer had actually integrated when it wrote).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { keyWrites } from '../../src/lib/core/state/conflicts.js';
import { authorKey, replicaFrom, TestNode, type Logged } from '../helpers/ledger-state.js';

const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31);
console.log('state-convergence seed', seed);

const KEYS = ['a', 'b', 'c'];

type Op =
  | { t: 'put'; who: number; key: number; val: number }
  | { t: 'del'; who: number; key: number }
  | { t: 'sync'; from: number; to: number; mask: number };

const opArb = (n: number): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({ t: fc.constant('put' as const), who: fc.nat(n - 1), key: fc.nat(KEYS.length - 1), val: fc.nat(99) }),
    fc.record({ t: fc.constant('del' as const), who: fc.nat(n - 1), key: fc.nat(KEYS.length - 1) }),
    fc.record({ t: fc.constant('sync' as const), from: fc.nat(n - 1), to: fc.nat(n - 1), mask: fc.nat() })
  );

const scenarioArb = fc.integer({ min: 2, max: 4 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    ops: fc.array(opArb(n), { minLength: 1, maxLength: 40 }),
    shuffleSeeds: fc.array(fc.nat(), { minLength: 3, maxLength: 3 })
  })
);

/** Deterministic shuffle with duplicates, driven by a fast-check value. */
function scramble(items: Logged[], s: number): Logged[] {
  let x = s || 1;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31), x / 2 ** 31);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  for (let k = 0; k < Math.floor(items.length / 3); k++) {
    out.splice(Math.floor(rnd() * out.length), 0, items[Math.floor(rnd() * items.length)]);
  }
  return out;
}

interface Write {
  author: string;
  key: string;
  /** Times (unique write ids) of the key's writes integrated at the writer when it wrote. */
  seen: Set<number>;
  /** Time of the key's current write at the writer (what this write overwrote), if any. */
  over: number | null;
}

function integratedTimes(node: TestNode, key: string): number[] {
  return keyWrites(node.records.map, key).map((w) => (w.raw as { t: number }).t);
}

describe('state convergence (property)', () => {
  it('replicas agree on records, digest and conflicts; conflicts are exactly the concurrent writes', () => {
    fc.assert(
      fc.property(scenarioArb, ({ n, ops, shuffleSeeds }) => {
        const authors = Array.from({ length: n }, (_, i) => authorKey(`p${i}`));
        const nodes = authors.map((a) => new TestNode(a));
        const writes = new Map<number, Write>();
        let clock = 1;
        for (const op of ops) {
          if (op.t === 'sync') {
            if (op.from === op.to) continue;
            const from = nodes[op.from];
            from.known.forEach((l, i) => {
              if (((op.mask >>> (i % 31)) & 1) === 1) nodes[op.to].receive(l);
            });
            continue;
          }
          const w = nodes[op.who];
          const key = KEYS[op.key];
          const chain = integratedTimes(w, key);
          w.now = clock;
          const logged = op.t === 'put' ? w.put(key, op.val) : w.del(key);
          const over = chain.length > 0 ? chain[chain.length - 1] : null;
          if (logged !== null) writes.set(clock++, { author: w.author!, key, seen: new Set(chain), over });
        }
        const all = nodes.flatMap((x) => x.own);
        const replicas = shuffleSeeds.map((s) => replicaFrom(scramble(all, s)));
        // A light replica: joins from one node's (partial) snapshot, then tails every entry.
        const light = new TestNode(null);
        light.state.loadState(nodes[n - 1].state.encodeState());
        for (const l of scramble(all, shuffleSeeds[0] + 1)) light.receive(l);
        for (const x of nodes) for (const l of all) x.receive(l);
        const everyone = [...replicas, light, ...nodes];
        const ref = replicas[0];
        for (const r of everyone) {
          expect(r.state.hasPending()).toBe(false);
          expect(r.records.list()).toEqual(ref.records.list());
          expect(r.state.digest()).toBe(ref.state.digest());
          expect(r.records.conflicts()).toEqual(ref.records.conflicts());
        }

        // Oracle: each conflict pairs the winner with writes it had not seen, and vice versa.
        const conflicts = ref.records.conflicts();
        const concurrent = (x: number, y: number) => !writes.get(x)!.seen.has(y) && !writes.get(y)!.seen.has(x);
        for (const c of conflicts) {
          const [w, ...ls] = c.times;
          expect(writes.get(w)!.author).toBe(c.winner);
          ls.forEach((l, i) => {
            expect(writes.get(l)!.author).toBe(c.losers[i]);
            expect(c.losers[i]).not.toBe(c.winner);
            expect(concurrent(w, l)).toBe(true);
            // A loser is a value nobody wrote over knowingly: it was displaced, not edited.
            expect([...writes.values()].some((x) => x.over === l)).toBe(false);
          });
          expect(c.authors).toEqual([c.winner, ...c.losers]);
        }
        // A key has a conflict iff two of its writes were concurrent.
        for (const key of KEYS) {
          const ts = [...writes].filter(([, v]) => v.key === key).map(([t]) => t);
          const hasPair = ts.some((x) => ts.some((y) => x < y && concurrent(x, y)));
          expect(conflicts.some((c) => c.key === key)).toBe(hasPair);
          // Yjs keeps the winner of the last conflict's branch: the current value is never a loser.
          const cur = ref.records.entry(key);
          if (cur !== undefined)
            expect(conflicts.some((c) => c.key === key && c.times.slice(1).includes(cur.time))).toBe(false);
        }
      }),
      { seed, numRuns: 150 }
    );
  });
});
