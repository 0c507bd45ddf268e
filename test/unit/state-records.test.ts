import { describe, expect, it } from 'vitest';
import { LedgerState } from '../../src/lib/core/state/doc.js';
import { Records, type RecordChange } from '../../src/lib/core/state/records.js';
import { RECORD_KEY_MAX_CHARS, RECORD_VALUE_MAX_BYTES } from '../../src/lib/core/constants.js';
import { authorKey, replicaFrom, TestNode } from '../helpers/ledger-state.js';

const A = authorKey('a');
const B = authorKey('b');

const errorName = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as Error).name;
  }
  return 'no error';
};

describe('Records', () => {
  it('puts, gets, lists sorted by key with author and time, deletes', () => {
    const a = new TestNode(A);
    a.now = 5;
    a.put('b', { n: 1 });
    a.now = 6;
    a.put('a', [1, 'x', null, true]);
    a.put('c', 'text');
    expect(a.records.get('b')).toEqual({ n: 1 });
    expect(a.records.list().map((r) => r.key)).toEqual(['a', 'b', 'c']);
    expect(a.records.list()[1]).toMatchObject({ key: 'b', value: { n: 1 }, author: A, time: 5 });
    expect(a.del('b')).not.toBeNull();
    expect(a.del('b')).toBeNull(); // nothing to delete
    expect(a.del('never')).toBeNull();
    expect(a.records.get('b')).toBeUndefined();
    expect(a.records.list().map((r) => r.key)).toEqual(['a', 'c']);
    const r = replicaFrom(a.own);
    expect(r.records.list()).toEqual(a.records.list());
  });

  it('stores lamport and author with the value; a put after a delete brings the key back', () => {
    const a = new TestNode(A);
    a.put('k', 1);
    a.del('k');
    a.put('k', 2);
    const e = a.records.entry('k')!;
    expect(e).toMatchObject({ value: 2, author: A });
    expect(e.lamport).toBe(3);
    const b = replicaFrom(a.own);
    expect(b.records.entry('k')).toEqual(e);
  });

  it('returns copies: mutating a value read or written does not change the state', () => {
    const a = new TestNode(A);
    const v = { list: [1, 2] };
    a.put('k', v);
    v.list.push(3);
    const got = a.records.get('k') as { list: number[] };
    got.list.push(4);
    expect(a.records.get('k')).toEqual({ list: [1, 2] });
    expect(replicaFrom(a.own).records.get('k')).toEqual({ list: [1, 2] });
  });

  it('rejects invalid keys and values with typed errors and writes nothing', () => {
    const a = new TestNode(A);
    expect(errorName(() => a.records.put('', 1))).toBe('InvalidRecordKeyError');
    expect(errorName(() => a.records.put('x'.repeat(RECORD_KEY_MAX_CHARS + 1), 1))).toBe('InvalidRecordKeyError');
    expect(errorName(() => a.records.put(42 as unknown as string, 1))).toBe('InvalidRecordKeyError');
    expect(errorName(() => a.records.put('bad\uD800', 1))).toBe('InvalidRecordKeyError');
    expect(errorName(() => a.records.delete(''))).toBe('InvalidRecordKeyError');
    expect(errorName(() => a.records.put('k', undefined))).toBe('InvalidRecordValueError');
    expect(errorName(() => a.records.put('k', NaN))).toBe('InvalidRecordValueError');
    expect(errorName(() => a.records.put('k', () => 1))).toBe('InvalidRecordValueError');
    expect(errorName(() => a.records.put('k', new Date()))).toBe('InvalidRecordValueError');
    expect(errorName(() => a.records.put('k', new Uint8Array(2)))).toBe('InvalidRecordValueError');
    expect(errorName(() => a.records.put('k', 10n))).toBe('InvalidRecordValueError');
    expect(errorName(() => a.records.put('k', 'lone \uDC00'))).toBe('InvalidRecordValueError');
    expect(errorName(() => a.records.put('k', JSON.parse('{"__proto__": 1}')))).toBe('InvalidRecordValueError');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(errorName(() => a.records.put('k', cyclic))).toBe('InvalidRecordValueError');
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(errorName(() => a.records.put('k', deep))).toBe('InvalidRecordValueError');
    expect(errorName(() => a.records.put('k', 'x'.repeat(RECORD_VALUE_MAX_BYTES)))).toBe('InvalidRecordValueError');
    expect(a.state.doc.store.clients.size).toBe(0);
    // Limits are inclusive.
    expect(errorName(() => a.records.put('x'.repeat(RECORD_KEY_MAX_CHARS), 'x'.repeat(1000)))).toBe('no error');
    expect(errorName(() => new Records(new LedgerState()).put('k', 1))).toBe('StateUsageError');
  });

  it('hides raw or forged map entries identically on every node', () => {
    const a = new LedgerState({ author: A });
    const map = a.registerType('records', 'map');
    const p1 = a.transactLocal(() => map.set('raw', 5))!;
    // Claims B as author, but the struct is A's: not a valid record.
    const p2 = a.transactLocal(() => map.set('forged', { v: 1, a: B, t: 0, l: 0 }))!;
    const r = new LedgerState();
    r.applyRemote(p1, { author: A, seq: 1, lamport: 1, time: 0 });
    r.applyRemote(p2, { author: A, seq: 2, lamport: 2, time: 0 });
    const rec = new Records(r);
    expect(rec.list()).toEqual([]);
    expect(rec.get('forged')).toBeUndefined();
  });

  it('notifies add, update and delete for local and remote changes', () => {
    const a = new TestNode(A);
    const b = new TestNode(B);
    const seenA: RecordChange[][] = [];
    const seenB: RecordChange[][] = [];
    a.records.subscribe((c) => seenA.push(c));
    const off = b.records.subscribe((c) => seenB.push(c));
    const p1 = a.put('k', 1);
    const p2 = a.put('k', 2);
    const p3 = a.del('k')!;
    expect(seenA).toEqual([
      [{ key: 'k', action: 'add', value: 1 }],
      [{ key: 'k', action: 'update', value: 2 }],
      [{ key: 'k', action: 'delete' }]
    ]);
    b.receive(p1);
    b.receive(p2);
    b.receive(p2); // duplicate: no event
    b.receive(p3);
    expect(seenB).toEqual(seenA);
    off();
    b.receive(a.put('j', 1));
    expect(seenB).toHaveLength(3);
  });

  it('notifies every key a snapshot load brings', () => {
    const a = new TestNode(A);
    a.put('x', 1);
    a.put('y', 2);
    const st = new LedgerState();
    const fresh = new Records(st);
    const events: RecordChange[][] = [];
    fresh.subscribe((c) => events.push(c));
    st.loadState(a.state.encodeState());
    expect(events).toEqual([
      [
        { key: 'x', action: 'add', value: 1 },
        { key: 'y', action: 'add', value: 2 }
      ]
    ]);
  });
});
