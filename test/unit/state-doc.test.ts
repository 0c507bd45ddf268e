import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { LedgerState } from '../../src/lib/core/state/doc.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { authorKey, replicaFrom, TestNode, type Logged } from '../helpers/ledger-state.js';

const A = authorKey('a');
const B = authorKey('b');

describe('LedgerState: clientIDs and authorship', () => {
  it('derives a stable 53-bit clientID from the author key and uses it for local writes', () => {
    const id = clientIdOf(A);
    expect(Number.isSafeInteger(id) && id >= 0).toBe(true);
    // 53 bits are used, not 32: over a few keys some ID is above 2^32.
    expect(['a', 'b', 'c', 'd', 'e', 'f'].some((k) => clientIdOf(authorKey(k)) >= 2 ** 32)).toBe(true);
    expect(clientIdOf(A)).toBe(id);
    expect(clientIdOf(B)).not.toBe(id);
    const s = new LedgerState({ author: A });
    expect(s.doc.clientID).toBe(id);
    const payload = s.transactLocal((doc) => doc.getMap('m').set('k', 1))!;
    const { structs } = Y.decodeUpdate(payload);
    expect(structs.map((x) => x.id.client)).toEqual([id]);
  });

  it('rejects a payload whose structs carry another author clientID (forgery)', () => {
    const a = new TestNode(A);
    const forged = a.put('k', 'written by a');
    const victim = new LedgerState({ author: authorKey('c') });
    expect(() => victim.applyRemote(forged.payload, { ...forged.meta, author: B })).toThrow(
      expect.objectContaining({ name: 'ForeignClientError' })
    );
    expect(victim.digest()).toBe(new LedgerState().digest());
    expect(victim.doc.getMap('records').size).toBe(0);
    // The genuine attribution is accepted.
    expect(victim.applyRemote(forged.payload, forged.meta).changed).toBe(true);
  });

  it('rejects a payload mixing the author structs with a foreign struct', () => {
    const a = new TestNode(A);
    const b = new TestNode(B);
    const mixed = Y.mergeUpdates([a.put('x', 1).payload, b.put('y', 2).payload]);
    const s = new LedgerState();
    expect(() => s.applyRemote(mixed, { author: A, seq: 2, lamport: 2, time: 0 })).toThrow(
      expect.objectContaining({ name: 'ForeignClientError' })
    );
    expect(s.doc.getMap('records').size).toBe(0);
  });

  it('accepts deletes of other authors items (overwrites)', () => {
    const a = new TestNode(A);
    const b = new TestNode(B);
    const p1 = a.put('k', 1);
    b.receive(p1);
    const p2 = b.del('k')!;
    expect(Y.decodeUpdate(p2.payload).ds.clients.has(clientIdOf(A))).toBe(true);
    a.receive(p2);
    expect(a.records.get('k')).toBeUndefined();
  });

  it('rejects malformed, empty, oversized payloads and bad metadata with typed errors', () => {
    const s = new LedgerState({ maxPayloadBytes: 64 });
    const meta = { author: A, seq: 1, lamport: 1, time: 0 };
    const bad = (p: Uint8Array, m = meta) => {
      try {
        s.applyRemote(p, m);
      } catch (e) {
        return (e as Error).name;
      }
      return 'accepted';
    };
    expect(bad(new Uint8Array([]))).toBe('MalformedPayloadError');
    expect(bad(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]))).toBe('MalformedPayloadError');
    expect(bad(new Uint8Array(65))).toBe('MalformedPayloadError');
    expect(bad(new Uint8Array([0, 0]), { ...meta, author: 'AB' })).toBe('InvalidKeyError');
    expect(bad(new Uint8Array([0, 0]), { ...meta, lamport: -1 })).toBe('MalformedPayloadError');
    expect(bad(new Uint8Array([0, 0]))).toBe('MalformedPayloadError'); // the empty update says nothing
    expect(s.doc.store.clients.size).toBe(0);
  });

  it('never crashes on random byte mutations of a valid payload', () => {
    const a = new TestNode(A);
    const good = a.put('key', { n: 1, s: 'text' }).payload;
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 500; i++) {
      const p = good.slice();
      p[Math.floor(rnd() * p.length)] = Math.floor(rnd() * 256);
      const s = new LedgerState();
      try {
        s.applyRemote(p, a.own[0].meta);
      } catch (e) {
        expect(['MalformedPayloadError', 'ForeignClientError']).toContain((e as Error).name);
      }
    }
  });
});

describe('LedgerState: local transactions, replay, snapshots', () => {
  it('transactLocal returns exactly the transaction update, null when nothing changed', () => {
    const s = new LedgerState({ author: A });
    const m = s.registerType('m', 'map');
    const p = s.transactLocal(() => {
      m.set('a', 1);
      m.set('b', 2);
    });
    expect(p).not.toBeNull();
    const other = new LedgerState();
    other.applyRemote(p!, { author: A, seq: 1, lamport: 1, time: 0 });
    expect(other.registerType('m', 'map').toJSON()).toEqual({ a: 1, b: 2 });
    expect(s.transactLocal(() => {})).toBeNull();
    expect(s.transactLocal(() => m.delete('missing'))).toBeNull();
    expect(() => new LedgerState().transactLocal(() => {})).toThrow(
      expect.objectContaining({ name: 'StateUsageError' })
    );
  });

  it('refuses a ledger transaction from inside an observer', () => {
    const s = new LedgerState({ author: A });
    const m = s.registerType('m', 'map');
    let error: unknown = null;
    m.observe(() => {
      try {
        s.transactLocal(() => m.set('again', 1));
      } catch (e) {
        error = e;
      }
    });
    s.transactLocal(() => m.set('a', 1));
    expect((error as Error)?.name).toBe('StateUsageError');
  });

  it('hands local writes made outside transactLocal to onUntrackedWrite', () => {
    const s = new LedgerState({ author: A });
    const got: Uint8Array[] = [];
    s.onUntrackedWrite((p) => got.push(p));
    s.doc.transact(() => s.doc.getText('t').insert(0, 'hi'), 'editor-binding');
    expect(got).toHaveLength(1);
    const o = new LedgerState();
    o.applyRemote(got[0], { author: A, seq: 1, lamport: 1, time: 0 });
    expect(o.doc.getText('t').toString()).toBe('hi');
  });

  it('replaying its own entries after a restart keeps the clientID and rebuilds the same doc', () => {
    const a = new TestNode(A);
    const b = new TestNode(B);
    a.put('x', 1);
    b.syncTo(a);
    b.put('y', 2);
    b.syncTo(a);
    a.put('x', 3);
    const restarted = replicaFrom(a.known, A);
    expect(restarted.state.doc.clientID).toBe(clientIdOf(A));
    expect(restarted.state.digest()).toBe(a.state.digest());
    expect(restarted.records.list()).toEqual(a.records.list());
    // New local writes continue the author's clock: other nodes integrate them.
    restarted.now = 2000;
    const next = restarted.put('z', 4);
    const c = replicaFrom([...a.known, next]);
    expect(c.records.get('z')).toBe(4);
    expect(c.state.hasPending()).toBe(false);
  });

  it('encodeState/loadState round-trip (light snapshot) gives the same digest and records', () => {
    const a = new TestNode(A);
    const b = new TestNode(B);
    a.put('x', { deep: [1, 2] });
    b.put('x', 'concurrent');
    a.syncTo(b);
    b.syncTo(a);
    const light = new LedgerState({ author: authorKey('light') });
    light.loadState(a.state.encodeState());
    expect(light.digest()).toBe(a.state.digest());
    expect(Y.decodeStateVector(light.stateVector())).toEqual(Y.decodeStateVector(a.state.stateVector()));
    // Loading a snapshot that holds our own writes must not change our clientID.
    const self = new LedgerState({ author: A });
    self.loadState(a.state.encodeState());
    expect(self.doc.clientID).toBe(clientIdOf(A));
    expect(() => light.loadState(new Uint8Array([1, 2, 3]))).toThrow(
      expect.objectContaining({ name: 'MalformedPayloadError' })
    );
  });

  it('digest is equal whatever the delivery order and differs when content differs', () => {
    const a = new TestNode(A);
    const b = new TestNode(B);
    a.put('k', 1);
    a.put('k', 2);
    a.put('k', 3);
    b.put('k', 9);
    b.put('j', 'x');
    a.del('k');
    const all: Logged[] = [...a.own, ...b.own];
    const r1 = replicaFrom(all);
    const r2 = replicaFrom([...all].reverse());
    const r3 = replicaFrom([b.own[1], a.own[2], a.own[0], b.own[0], a.own[3], a.own[1], b.own[0]]);
    expect(r1.state.digest()).toMatch(/^[0-9a-f]{64}$/);
    expect(r2.state.digest()).toBe(r1.state.digest());
    expect(r3.state.digest()).toBe(r1.state.digest());
    const partial = replicaFrom(all.slice(0, -1));
    expect(partial.state.digest()).not.toBe(r1.state.digest());
  });

  it('reports pending payloads whose causal predecessors are missing', () => {
    const a = new TestNode(A);
    const b = new TestNode(B);
    const first = a.put('k', 1);
    b.receive(first);
    const second = b.put('k', 2);
    const r = new LedgerState();
    expect(r.applyRemote(second.payload, second.meta)).toEqual({ changed: false, pending: true });
    expect(r.applyRemote(first.payload, first.meta)).toEqual({ changed: true, pending: false });
    expect(r.applyRemote(first.payload, first.meta)).toEqual({ changed: false, pending: false });
  });
});

describe('LedgerState: custom types', () => {
  it('replicates an app-registered Y.Array todo list between two states through payloads', () => {
    const s1 = new LedgerState({ author: A });
    const s2 = new LedgerState({ author: B });
    const todo1 = s1.registerType('todo', 'array');
    const todo2 = s2.registerType('todo', 'array');
    const p1 = s1.transactLocal(() => todo1.push([{ title: 'milk', done: false }]))!;
    const p2 = s2.transactLocal(() => todo2.push([{ title: 'bread', done: false }]))!;
    s2.applyRemote(p1, { author: A, seq: 1, lamport: 1, time: 0 });
    s1.applyRemote(p2, { author: B, seq: 1, lamport: 1, time: 0 });
    expect(todo1.toJSON()).toEqual(todo2.toJSON());
    expect(todo1.length).toBe(2);
    const p3 = s1.transactLocal(() => todo1.delete(0, 1))!;
    s2.applyRemote(p3, { author: A, seq: 2, lamport: 2, time: 0 });
    expect(todo2.toJSON()).toEqual(todo1.toJSON());
    expect(todo2.length).toBe(1);
    expect(s1.digest()).toBe(s2.digest());
    const text = s1.registerType('notes', 'text');
    const p4 = s1.transactLocal(() => text.insert(0, 'hello'))!;
    s2.applyRemote(p4, { author: A, seq: 3, lamport: 3, time: 0 });
    expect(s2.registerType('notes', 'text').toString()).toBe('hello');
    expect(() => s1.registerType('todo', 'map')).toThrow(expect.objectContaining({ name: 'StateUsageError' }));
  });
});
