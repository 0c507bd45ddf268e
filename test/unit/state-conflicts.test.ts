import { describe, expect, it } from 'vitest';
import type { Conflict } from '../../src/lib/core/types.js';
import { LedgerState } from '../../src/lib/core/state/doc.js';
import { Records } from '../../src/lib/core/state/records.js';
import { authorsByClientId, nodeAt, replicaFrom, TestNode, type Logged } from '../helpers/ledger-state.js';

// Authors sorted by clientID: among concurrent writes Yjs keeps the highest clientID.
const [LOW, MID, HIGH] = authorsByClientId();

const node = nodeAt;

/** Every replica holds the same records and the same conflicts. */
function expectConverged(nodes: TestNode[]): Conflict[] {
  const first = nodes[0];
  for (const n of nodes) {
    expect(n.records.list()).toEqual(first.records.list());
    expect(n.records.conflicts()).toEqual(first.records.conflicts());
    expect(n.state.digest()).toBe(first.state.digest());
  }
  return first.records.conflicts();
}

describe('conflicts', () => {
  it('a sequential overwrite is not a conflict', () => {
    const a = node(LOW, 10);
    const b = node(HIGH, 20);
    b.receive(a.put('k', 1));
    a.receive(b.put('k', 2)); // B had seen A's write
    a.now = 30;
    b.receive(a.put('k', 3)); // and A had seen B's
    expect(expectConverged([a, b, replicaFrom([...a.own, ...b.own].reverse())])).toEqual([]);
    expect(a.records.get('k')).toBe(3);
  });

  it('two concurrent writes give one conflict with the same winner on every replica', () => {
    for (const [first, second] of [
      [LOW, HIGH],
      [HIGH, LOW]
    ]) {
      const a = node(first, 10);
      const b = node(second, 20);
      const pa = a.put('k', 'from a');
      const pb = b.put('k', 'from b');
      const x = replicaFrom([pa, pb]);
      const y = replicaFrom([pb, pa, pb]);
      a.receive(pb);
      b.receive(pa);
      const conflicts = expectConverged([a, b, x, y]);
      const aWins = first === HIGH;
      expect(conflicts).toMatchObject([
        {
          key: 'k',
          winner: HIGH,
          losers: [LOW],
          authors: [HIGH, LOW],
          times: aWins ? [10, 20] : [20, 10]
        }
      ]);
      expect(a.records.entry('k')!.author).toBe(HIGH);
      expect(a.records.get('k')).toBe(aWins ? 'from a' : 'from b');
    }
  });

  it('three concurrent writers make one conflict with two losers, in every delivery order', () => {
    const ns = [node(MID, 1), node(HIGH, 2), node(LOW, 3)];
    const ps = ns.map((n, i) => n.put('k', i));
    const orders = [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
      [2, 0, 1]
    ];
    const replicas = orders.map((o) => replicaFrom(o.map((i) => ps[i])));
    const conflicts = expectConverged(replicas);
    expect(conflicts).toMatchObject([
      { key: 'k', winner: HIGH, losers: [LOW, MID], authors: [HIGH, LOW, MID], times: [2, 3, 1] }
    ]);
  });

  it('a write that saw both sides of a conflict resolves it without a new conflict', () => {
    const a = node(LOW, 1);
    const b = node(MID, 2);
    const c = node(HIGH, 3);
    const pa = a.put('k', 'a');
    const pb = b.put('k', 'b');
    c.receive(pa);
    c.receive(pb);
    const pc = c.put('k', 'c');
    const conflicts = expectConverged([replicaFrom([pc, pb, pa]), replicaFrom([pa, pb, pc])]);
    expect(conflicts).toMatchObject([{ key: 'k', winner: MID, losers: [LOW], authors: [MID, LOW], times: [2, 1] }]);
  });

  it('the loser is the value actually displaced: the last write of the losing branch', () => {
    const a = node(LOW, 1);
    const b = node(HIGH, 100);
    a.put('k', 1);
    a.now = 2;
    a.put('k', 2);
    a.now = 3;
    a.put('k', 3); // A's sequential writes during a partition
    b.put('k', 9);
    const all: Logged[] = [...a.own, ...b.own];
    b.syncTo(a);
    a.syncTo(b);
    const conflicts = expectConverged([replicaFrom(all), replicaFrom([...all].reverse()), a, b]);
    expect(conflicts).toMatchObject([{ key: 'k', winner: HIGH, losers: [LOW], authors: [HIGH, LOW], times: [100, 3] }]);
    // What was overwritten is named too: the loser's value, 3.
    expect(conflicts[0]).toMatchObject({ values: [9, 3], deleted: [false, false] });
  });

  it('a delete racing a put is a conflict; the higher clientID decides on every node', () => {
    for (const deleter of [LOW, HIGH]) {
      const putter = deleter === LOW ? HIGH : LOW;
      const d = node(deleter, 10);
      const p = node(putter, 20);
      p.receive(d.put('k', 'original'));
      const pd = d.del('k')!;
      const pp = p.put('k', 'edited');
      const conflicts = expectConverged([replicaFrom([...d.own, pp]), replicaFrom([pp, ...d.own].reverse())]);
      expect(conflicts).toMatchObject([
        { key: 'k', winner: HIGH, losers: [LOW], authors: [HIGH, LOW], times: deleter === HIGH ? [10, 20] : [20, 10] }
      ]);
      const r = replicaFrom([pd, pp, ...d.own]);
      expect(r.records.get('k')).toBe(deleter === HIGH ? undefined : 'edited');
    }
  });

  it('conflicts are derived again by a replay and by a snapshot load', () => {
    const a = node(LOW, 1);
    const b = node(HIGH, 2);
    a.put('x', 1);
    b.put('x', 2);
    a.put('y', 1);
    b.put('y', 2);
    b.syncTo(a);
    a.now = 5;
    a.put('y', 3); // sequential after the y conflict
    a.syncTo(b);
    const expected = expectConverged([a, b]);
    expect(expected.map((c) => c.key)).toEqual(['x', 'y']);
    expect(replicaFrom(a.known, LOW).records.conflicts()).toEqual(expected);
    const st = new LedgerState();
    st.loadState(a.state.encodeState());
    expect(new Records(st).conflicts()).toEqual(expected);
  });

  it('subscribers hear about new conflicts, not about sequential writes or duplicates', () => {
    const a = node(LOW, 1);
    const b = node(HIGH, 2);
    const calls: Conflict[][] = [];
    a.records.subscribeConflicts((c) => calls.push(c));
    const p1 = b.put('k', 1);
    a.receive(p1);
    a.put('k', 2);
    expect(calls).toEqual([]);
    const p2 = b.put('j', 1);
    a.put('j', 2);
    a.receive(p2);
    a.receive(p2);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject([{ key: 'j', winner: HIGH, losers: [LOW], authors: [HIGH, LOW], times: [2, 1] }]);
  });
});
