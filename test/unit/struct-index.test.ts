import { describe, expect, it } from 'vitest';
import { layered, lookupOf, StructIndex } from '../../src/lib/core/state/struct-index.js';
import type { ParsedStruct, YId } from '../../src/lib/core/yjs-update.js';
import { mulberry32 } from '../helpers/fake-feed.js';

const struct = (client: number, clock: number, length: number): ParsedStruct => ({
  client,
  clock,
  length,
  content: 4,
  origin: null,
  rightOrigin: null,
  parent: 'records',
  parentSub: null
});

/** What the batch checks did before the index: the first struct in order whose range holds id. */
const reference = (all: readonly ParsedStruct[], id: YId) =>
  all.find((s) => s.client === id.client && id.clock >= s.clock && id.clock < s.clock + s.length);

describe('StructIndex', () => {
  it('finds what a scan of the batch in order finds, for contiguous feeds and for overlapping or out-of-order structs (seeded)', () => {
    const seed = 424242;
    const rand = mulberry32(seed);
    for (let run = 0; run < 200; run++) {
      const structs: ParsedStruct[] = [];
      const ends = new Map<number, number>();
      const clients = 1 + Math.floor(rand() * 4);
      const disorder = run % 2 === 1; // odd runs: some structs go back or overlap
      for (let i = 0; i < 60; i++) {
        const client = Math.floor(rand() * clients);
        const end = ends.get(client) ?? 0;
        const clock = disorder && rand() < 0.2 ? Math.floor(rand() * (end + 1)) : end;
        const length = 1 + Math.floor(rand() * 3);
        structs.push(struct(client, clock, length));
        ends.set(client, Math.max(end, clock + length));
      }
      const split = Math.floor(rand() * structs.length);
      const index = new StructIndex(structs.slice(0, split));
      const both = layered(index, new StructIndex(structs.slice(split)));
      expect(both.size).toBe(structs.length);
      for (let q = 0; q < 100; q++) {
        const id = { client: Math.floor(rand() * (clients + 1)), clock: Math.floor(rand() * 200) };
        expect(both.find(id), `seed ${seed}, run ${run}, id ${id.client}:${id.clock}`).toBe(reference(structs, id));
        expect(index.find(id), `seed ${seed}, run ${run}`).toBe(reference(structs.slice(0, split), id));
      }
    }
  });

  it('a struct that overlaps an earlier one of its client falls back to insertion order (the first wins)', () => {
    const a = struct(7, 0, 5);
    const b = struct(7, 2, 1); // inside a
    const index = new StructIndex([a, b]);
    expect(index.find({ client: 7, clock: 2 })).toBe(a);
    expect(index.find({ client: 7, clock: 5 })).toBeUndefined();
    expect(index.find({ client: 8, clock: 0 })).toBeUndefined();
  });

  it('lookupOf takes an array in order, or hands an index back as it is', () => {
    const s = [struct(1, 0, 1), struct(1, 1, 2)];
    const fromArray = lookupOf(s);
    expect(fromArray.size).toBe(2);
    expect(fromArray.find({ client: 1, clock: 2 })).toBe(s[1]);
    const index = new StructIndex(s);
    expect(lookupOf(index)).toBe(index);
  });
});
