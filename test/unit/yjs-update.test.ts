// parseYjsUpdate: a strict, bounded parser of Yjs v1 updates.
// (1) Differential: on everything Yjs produces from gc:false docs it reports what Y.decodeUpdate
//     reports (ids, lengths, origins, parent, delete set).
// (2) Hostile inputs: length bombs, GC/Skip, deep nesting, huge counts, bigint, truncations and
//     bit flips fail fast with MalformedPayloadError only, whatever the stack.
// (3) Mutated real updates (fast-check): only MalformedPayloadError, fast, and whenever the
//     parser accepts, Yjs decodes the same structs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as Y from 'yjs';
import * as enc from 'lib0/encoding';
import { MalformedPayloadError } from '../../src/lib/core/errors.js';
import {
  clientRanges,
  DEFAULT_YJS_LIMITS,
  parseYjsUpdate,
  referencedIds,
  type DeleteRange,
  type ParsedStruct,
  type ParsedUpdate,
  type YId
} from '../../src/lib/core/yjs-update.js';

const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31);
console.log('yjs-update seed', seed);

/** Generous per-input time bound (the parser is linear; typical inputs take well under 1 ms). */
const BUDGET_MS = 1000;

// ---------------------------------------------------------------------------------------------
// What Yjs itself decodes, in the parser's shape.

function typeRefOf(t: unknown): number {
  if (t instanceof Y.XmlHook) return 5;
  if (t instanceof Y.Map) return 1;
  if (t instanceof Y.XmlText) return 6;
  if (t instanceof Y.Text) return 2;
  if (t instanceof Y.XmlElement) return 3;
  if (t instanceof Y.XmlFragment) return 4;
  if (t instanceof Y.Array) return 0;
  throw new Error('unknown type');
}

const idOf = (id: Y.ID | null): YId | null => (id === null ? null : { client: id.client, clock: id.clock });

interface Expected {
  parsed: ParsedUpdate;
  /** Yjs decodes content the parser refuses by design (ContentDeleted, ContentDoc, GC, Skip). */
  refused: string | null;
}

function fromYjs(update: Uint8Array): Expected {
  const { structs, ds } = Y.decodeUpdate(update);
  let refused: string | null = null;
  const out: ParsedStruct[] = [];
  for (const s of structs) {
    if (!(s instanceof Y.Item)) {
      refused = s.constructor.name;
      continue;
    }
    const ref = s.content.getRef();
    if (ref === 1 || ref === 9) refused = s.content.constructor.name;
    const p = s.parent as unknown;
    const parsed: ParsedStruct = {
      client: s.id.client,
      clock: s.id.clock,
      length: s.length,
      content: ref,
      origin: idOf(s.origin),
      rightOrigin: idOf(s.rightOrigin),
      parent: p === null ? null : typeof p === 'string' ? p : idOf(p as Y.ID),
      parentSub: s.parentSub
    };
    if (ref === 7) parsed.typeRef = typeRefOf((s.content as Y.ContentType).type);
    // Where a cut would split a surrogate pair: from Yjs' own decoded string, unit by unit.
    if (ref === 4) {
      const str = (s.content as Y.ContentString).str;
      const cuts =
        [...str].length < str.length
          ? [...Array(str.length).keys()].filter(
              (i) => i > 0 && /^[\uD800-\uDBFF][\uDC00-\uDFFF]$/.test(str.slice(i - 1, i + 1))
            )
          : [];
      if (cuts.length > 0) parsed.pairCuts = cuts;
    }
    out.push(parsed);
  }
  const deletes: DeleteRange[] = [];
  for (const [client, items] of ds.clients) for (const d of items) deletes.push({ client, clock: d.clock, len: d.len });
  if (out.length === 0 && deletes.length === 0 && refused === null) refused = 'empty update';
  return { parsed: { structs: out, deletes }, refused };
}

/** Runs the parser; returns the result or the error, and fails the test on any other error type or a slow verdict. */
function verdict(bytes: Uint8Array): ParsedUpdate | MalformedPayloadError {
  const t0 = performance.now();
  let out: ParsedUpdate | MalformedPayloadError;
  try {
    out = parseYjsUpdate(bytes);
  } catch (e) {
    if (!(e instanceof MalformedPayloadError) || e.name !== 'MalformedPayloadError') {
      throw new Error(`non-MalformedPayloadError thrown: ${String(e)}`);
    }
    out = e;
  }
  const ms = performance.now() - t0;
  if (ms > BUDGET_MS) throw new Error(`verdict took ${ms.toFixed(1)} ms for ${bytes.length} bytes`);
  return out;
}

function expectRefused(bytes: Uint8Array, pattern?: RegExp): void {
  const v = verdict(bytes);
  expect(v).toBeInstanceOf(MalformedPayloadError);
  if (pattern) expect((v as Error).message).toMatch(pattern);
}

/** 'accepted', or why the update is refused by design (what Yjs decoded that the parser refuses). */
function checkAgainstYjs(update: Uint8Array): string {
  const expected = fromYjs(update);
  const v = verdict(update);
  if (expected.refused !== null) {
    expect(v, `Yjs has ${expected.refused}`).toBeInstanceOf(MalformedPayloadError);
    return expected.refused;
  }
  if (v instanceof MalformedPayloadError) throw new Error(`refused a Yjs-produced update: ${v.message}`);
  expect(v).toEqual(expected.parsed);
  return 'accepted';
}

// ---------------------------------------------------------------------------------------------
// Random documents.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const safeKey = fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__');
const jsonArb: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 8, unit: 'grapheme' }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(safeKey, tie('v'), { maxKeys: 4, noNullPrototype: true })
  )
})).v;

type Nested = 'map' | 'array' | 'text' | 'xml' | 'hook' | 'xmltext' | 'bytes' | 'undefined';

type Op =
  | { t: 'mapSet'; doc: number; target: number; key: string; value: Json; nested: Nested | null }
  | { t: 'mapDel'; doc: number; target: number; key: string }
  | { t: 'arrIns'; doc: number; target: number; at: number; values: Json[]; nested: Nested | null }
  | { t: 'arrDel'; doc: number; target: number; at: number; len: number }
  | { t: 'txtIns'; doc: number; target: number; at: number; text: string; bold: boolean }
  | { t: 'txtFmt'; doc: number; target: number; at: number; len: number; attr: Json }
  | { t: 'txtDel'; doc: number; target: number; at: number; len: number }
  | { t: 'embed'; doc: number; target: number; at: number; value: { [k: string]: Json } }
  | { t: 'sync'; from: number; to: number }
  | { t: 'txn'; doc: number; ops: Op[] };

const KEYS = ['a', 'b', 'c', 'd'];
const nestedArb = fc.option(
  fc.constantFrom<Nested>('map', 'array', 'text', 'xml', 'hook', 'xmltext', 'bytes', 'undefined'),
  { freq: 3 }
);

const opArb = (docs: number): fc.Arbitrary<Op> => {
  const d = fc.nat(docs - 1);
  const target = fc.nat(20);
  const at = fc.nat(40);
  const simple: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      t: fc.constant('mapSet' as const),
      doc: d,
      target,
      key: fc.constantFrom(...KEYS),
      value: jsonArb,
      nested: nestedArb
    }),
    fc.record({ t: fc.constant('mapDel' as const), doc: d, target, key: fc.constantFrom(...KEYS) }),
    fc.record({
      t: fc.constant('arrIns' as const),
      doc: d,
      target,
      at,
      values: fc.array(jsonArb, { minLength: 1, maxLength: 3 }),
      nested: nestedArb
    }),
    fc.record({ t: fc.constant('arrDel' as const), doc: d, target, at, len: fc.integer({ min: 1, max: 4 }) }),
    fc.record({
      t: fc.constant('txtIns' as const),
      doc: d,
      target,
      at,
      text: fc.string({ minLength: 1, maxLength: 6, unit: 'grapheme' }),
      bold: fc.boolean()
    }),
    fc.record({
      t: fc.constant('txtFmt' as const),
      doc: d,
      target,
      at,
      len: fc.integer({ min: 1, max: 5 }),
      attr: fc.oneof(fc.constant(null), jsonArb)
    }),
    fc.record({ t: fc.constant('txtDel' as const), doc: d, target, at, len: fc.integer({ min: 1, max: 4 }) }),
    fc.record({
      t: fc.constant('embed' as const),
      doc: d,
      target,
      at,
      value: fc.dictionary(safeKey, jsonArb, { minKeys: 1, maxKeys: 2, noNullPrototype: true })
    }),
    fc.record({ t: fc.constant('sync' as const), from: d, to: d })
  );
  return fc.oneof(
    { weight: 6, arbitrary: simple },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('txn' as const),
        doc: d,
        ops: fc.array(simple, { minLength: 1, maxLength: 4 })
      })
    }
  );
};

/** A doc with registries of every shared type it can edit (roots first, nested ones as created). */
class Replica {
  readonly doc: Y.Doc;
  readonly maps: Y.Map<unknown>[];
  readonly arrays: Y.Array<unknown>[];
  readonly texts: Y.Text[];
  readonly updates: Uint8Array[] = [];
  constructor(clientID: number) {
    this.doc = new Y.Doc({ gc: false });
    this.doc.clientID = clientID;
    this.maps = [this.doc.getMap('m')];
    this.arrays = [this.doc.getArray('a')];
    this.texts = [this.doc.getText('t')];
    this.doc.getXmlFragment('x');
    this.doc.on('update', (u: Uint8Array) => this.updates.push(u));
  }

  nested(kind: Nested): unknown {
    switch (kind) {
      case 'map':
        return new Y.Map();
      case 'array':
        return new Y.Array();
      case 'text':
        return new Y.Text('in');
      case 'xml':
        return new Y.XmlElement('div');
      case 'hook':
        return new Y.XmlHook('hook');
      case 'xmltext':
        return new Y.XmlText('x');
      case 'bytes':
        return new Uint8Array([1, 2, 3]);
      case 'undefined':
        return undefined;
    }
  }

  /** Adds a newly integrated nested type to the registries. */
  register(v: unknown): void {
    if (v instanceof Y.XmlHook || v instanceof Y.Map) this.maps.push(v as Y.Map<unknown>);
    else if (v instanceof Y.Text) this.texts.push(v);
    else if (v instanceof Y.Array) this.arrays.push(v);
  }
}

function apply(reps: Replica[], op: Op): void {
  const pick = <T>(list: T[], i: number): T => list[i % list.length];
  switch (op.t) {
    case 'txn':
      // No sync inside a transaction: applying an update to a document whose transaction is open
      // leaves Yjs' own lengths inconsistent (a delete of index 1 of a 2-long array then threw
      // "Length exceeded!" in the generator, ~1 seed in 900: found by a test audit, SEED=324).
      reps[op.doc].doc.transact(() => {
        for (const o of op.ops) if (o.t !== 'sync') apply(reps, { ...o, doc: op.doc } as Op);
      });
      return;
    case 'sync': {
      const from = reps[op.from].doc;
      const to = reps[op.to].doc;
      if (from !== to) Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)));
      return;
    }
  }
  const r = reps[op.doc];
  switch (op.t) {
    case 'mapSet': {
      const v = op.nested ? r.nested(op.nested) : op.value;
      pick(r.maps, op.target).set(op.key, v);
      r.register(v);
      return;
    }
    case 'mapDel':
      pick(r.maps, op.target).delete(op.key);
      return;
    case 'arrIns': {
      const a = pick(r.arrays, op.target);
      // Y.Array cannot hold a top-level undefined (Yjs throws).
      const v = op.nested && op.nested !== 'undefined' ? [r.nested(op.nested), ...op.values] : op.values;
      a.insert(Math.min(op.at, a.length), v);
      r.register(v[0]);
      return;
    }
    case 'arrDel': {
      const a = pick(r.arrays, op.target);
      if (a.length > 0) a.delete(op.at % a.length, Math.min(op.len, a.length - (op.at % a.length)));
      return;
    }
    case 'txtIns': {
      const t = pick(r.texts, op.target);
      t.insert(Math.min(op.at, t.length), op.text, op.bold ? { bold: true } : undefined);
      return;
    }
    case 'txtFmt': {
      const t = pick(r.texts, op.target);
      if (t.length > 0) t.format(op.at % t.length, op.len, { color: op.attr });
      return;
    }
    case 'txtDel': {
      const t = pick(r.texts, op.target);
      if (t.length > 0) t.delete(op.at % t.length, Math.min(op.len, t.length - (op.at % t.length)));
      return;
    }
    case 'embed': {
      const t = pick(r.texts, op.target);
      t.insertEmbed(Math.min(op.at, t.length), op.value);
      return;
    }
  }
}

const scenarioArb = fc.integer({ min: 1, max: 3 }).chain((docs) =>
  fc.record({
    clients: fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: docs, maxLength: docs }),
    ops: fc.array(opArb(docs), { minLength: 1, maxLength: 30 })
  })
);

/** Every update of a scenario: each doc's full state, every captured incremental update, and diffs. */
function runScenario(s: { clients: number[]; ops: Op[] }): Uint8Array[] {
  const reps = s.clients.map((c) => new Replica(c));
  for (const op of s.ops) apply(reps, op);
  const out: Uint8Array[] = [];
  for (const r of reps) {
    out.push(Y.encodeStateAsUpdate(r.doc), ...r.updates);
    for (const o of reps) if (o !== r) out.push(Y.encodeStateAsUpdate(r.doc, Y.encodeStateVector(o.doc)));
  }
  return out;
}

/** A fixed corpus of real updates (deterministic), used by the hostile and mutation tests. */
function corpus(): Uint8Array[] {
  const reps = [new Replica(11), new Replica(2 ** 32 - 5)];
  const [a, b] = reps;
  a.maps[0].set('bin', new Uint8Array([4, 5, 6]));
  a.maps[0].set('k', { v: [1, 2.5, 'x', null, true, { n: [[]] }], bin: new Uint8Array([9, 8]), u: undefined });
  a.arrays[0].insert(0, [1, 'two', new Y.Map(), new Y.Text('nested')]);
  a.texts[0].insert(0, 'héllo wörld 😀');
  a.texts[0].format(2, 4, { bold: true, href: { url: 'x' } });
  a.texts[0].insertEmbed(3, { image: 'p.png' });
  Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc));
  b.maps[0].set('k', 'overwritten');
  b.arrays[0].delete(1, 2);
  b.texts[0].delete(0, 3);
  b.doc
    .getXmlFragment('x')
    .insert(0, [new Y.XmlElement('p'), new Y.XmlText('t'), new Y.XmlHook('h') as unknown as Y.XmlElement]);
  Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc));
  return [Y.encodeStateAsUpdate(a.doc), ...a.updates, ...b.updates];
}

// ---------------------------------------------------------------------------------------------
// Hand-built updates.

const MAX = Number.MAX_SAFE_INTEGER;

/** One client section with one item under root "r" (info carries the content ref), empty delete set unless given. */
function item(
  ref: number,
  content: (e: enc.Encoder) => void,
  o: { client?: number; clock?: number; ds?: (e: enc.Encoder) => void } = {}
): Uint8Array {
  const e = enc.createEncoder();
  enc.writeVarUint(e, 1);
  enc.writeVarUint(e, 1);
  enc.writeVarUint(e, o.client ?? 7);
  enc.writeVarUint(e, o.clock ?? 0);
  enc.writeUint8(e, ref);
  enc.writeVarUint(e, 1);
  enc.writeVarString(e, 'r');
  content(e);
  if (o.ds) o.ds(e);
  else enc.writeVarUint(e, 0);
  return enc.toUint8Array(e);
}

const anyItem = (body: (e: enc.Encoder) => void) =>
  item(8, (e) => {
    enc.writeVarUint(e, 1);
    body(e);
  });

function deletesOnly(ranges: [number, number, number][]): Uint8Array {
  const e = enc.createEncoder();
  enc.writeVarUint(e, 0);
  const byClient = new Map<number, [number, number][]>();
  for (const [c, clock, len] of ranges) byClient.set(c, [...(byClient.get(c) ?? []), [clock, len]]);
  enc.writeVarUint(e, byClient.size);
  for (const [c, rs] of byClient) {
    enc.writeVarUint(e, c);
    enc.writeVarUint(e, rs.length);
    for (const [clock, len] of rs) {
      enc.writeVarUint(e, clock);
      enc.writeVarUint(e, len);
    }
  }
  return enc.toUint8Array(e);
}

function nestedAny(depth: number, tag = 117): Uint8Array {
  return anyItem((e) => {
    for (let i = 0; i < depth; i++) {
      enc.writeUint8(e, tag);
      enc.writeVarUint(e, 1);
      if (tag === 118) enc.writeVarString(e, 'k');
    }
    enc.writeUint8(e, 126);
  });
}

/**
 * Runs fn with only a few hundred small frames of stack left: measures the stack with a probe,
 * then recurses to `margin` frames short of it. Retries with a larger margin if the descent
 * itself overflows (frame sizes differ between interpreted and optimized code).
 */
function nearStackLimit<T>(fn: () => T): T {
  let max = 0;
  const probe = (n: number): number => (max = n) + probe(n + 1);
  try {
    probe(0);
  } catch {
    /* stack exhausted: max holds the depth */
  }
  for (const margin of [300, 1000, 3000, 10_000]) {
    let out: { v: T } | null = null;
    let reached = false;
    const go = (n: number): number => {
      if (n > 0) return go(n - 1) + 1;
      reached = true;
      out = { v: fn() };
      return 0;
    };
    try {
      go(Math.max(0, max - margin));
    } catch (e) {
      if (!reached && e instanceof RangeError) continue;
      throw e;
    }
    return (out as { v: T } | null)!.v;
  }
  throw new Error('could not run near the stack limit');
}

// ---------------------------------------------------------------------------------------------

describe('parseYjsUpdate: agrees with Yjs on what Yjs produces', () => {
  it('a hand-written document with every content kind', () => {
    const updates = corpus();
    const seen = new Set<number>();
    for (const u of updates) {
      if (checkAgainstYjs(u) === 'accepted') for (const s of parseYjsUpdate(u).structs) seen.add(s.content);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7, 8]);
    const full = parseYjsUpdate(updates[0]);
    expect(full.deletes.length).toBeGreaterThan(0);
    expect(new Set(full.structs.filter((s) => s.typeRef !== undefined).map((s) => s.typeRef))).toEqual(
      new Set([1, 2, 3, 5, 6])
    );
  });

  it('a string struct carries the offsets where a cut would split a surrogate pair', () => {
    const d = new Y.Doc();
    d.getText('t').insert(0, 'a\u{1F600}b\u{1F601}\u{1F602}');
    const [s] = parseYjsUpdate(Y.encodeStateAsUpdate(d)).structs;
    expect([s.length, s.pairCuts]).toEqual([8, [2, 5, 7]]);
    d.getText('t').insert(0, 'plain');
    expect(parseYjsUpdate(Y.encodeStateAsUpdate(d)).structs.map((x) => x.pairCuts)).toContain(undefined);
  });

  it('legacy ContentJSON (ref 2) decodes like Yjs, including "undefined" elements', () => {
    const u = item(2, (e) => {
      enc.writeVarUint(e, 3);
      enc.writeVarString(e, '{"a":[1,2]}');
      enc.writeVarString(e, 'undefined');
      enc.writeVarString(e, '"s"');
    });
    expect(checkAgainstYjs(u)).toBe('accepted');
    expect(parseYjsUpdate(u).structs[0]).toMatchObject({ content: 2, length: 3, parent: 'r' });
  });

  it('property: random multi-client edits, full states, incremental and diff updates', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(scenarioArb, (s) => {
        for (const u of runScenario(s)) {
          const o = checkAgainstYjs(u);
          outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
        }
      }),
      { seed, numRuns: 150 }
    );
    console.log('yjs-update differential outcomes', Object.fromEntries(outcomes));
    expect(outcomes.get('accepted')).toBeGreaterThan(300);
  });
});

describe('parseYjsUpdate: hostile inputs fail fast with MalformedPayloadError', () => {
  it('a ContentDeleted item of length 2^40 (issue 6, case 2)', () => {
    const u = item(1, (e) => enc.writeVarUint(e, 2 ** 40));
    expect(u.length).toBeLessThan(200);
    expectRefused(u, /ContentDeleted/);
  });

  it('GC and Skip structs, ContentDoc, unknown refs', () => {
    const section = (info: number, tail: (e: enc.Encoder) => void) => {
      const e = enc.createEncoder();
      enc.writeVarUint(e, 1);
      enc.writeVarUint(e, 1);
      enc.writeVarUint(e, 7);
      enc.writeVarUint(e, 0);
      enc.writeUint8(e, info);
      tail(e);
      enc.writeVarUint(e, 0);
      return enc.toUint8Array(e);
    };
    expectRefused(
      section(0, (e) => enc.writeVarUint(e, 2 ** 40)),
      /GC/
    );
    expectRefused(
      section(10, (e) => enc.writeVarUint(e, 2 ** 40)),
      /Skip/
    );
    expectRefused(
      section(0x8a, (e) => enc.writeVarUint(e, 5)),
      /Skip/
    );
    expectRefused(
      item(9, (e) => enc.writeVarString(e, 'guid')),
      /ContentDoc/
    );
    for (const ref of [11, 20, 31])
      expectRefused(
        item(ref, () => {}),
        /unknown struct ref/
      );
  });

  it('Any nesting 100k deep: refused at maxDepth, same verdict with almost no stack left', () => {
    for (const tag of [117, 118]) {
      const u = nestedAny(100_000, tag);
      const msg = (verdict(u) as Error).message;
      expect(msg).toMatch(/nested deeper than 32/);
      const edge = nearStackLimit(() => verdict(u));
      expect(edge).toBeInstanceOf(MalformedPayloadError);
      expect((edge as Error).message).toBe(msg);
    }
    // Yjs' own recursive reader cannot give a stack-independent verdict on this input.
    const deep = nestedAny(5000);
    expect(() => nearStackLimit(() => Y.decodeUpdate(deep))).toThrow(RangeError);
  });

  it('nesting exactly at maxDepth is accepted, one more is refused (Any and JSON)', () => {
    const d = DEFAULT_YJS_LIMITS.maxDepth;
    expect(verdict(nestedAny(d))).not.toBeInstanceOf(MalformedPayloadError);
    expectRefused(nestedAny(d + 1), /nested deeper/);
    const embed = (depth: number) => item(5, (e) => enc.writeVarString(e, '['.repeat(depth) + ']'.repeat(depth)));
    expect(verdict(embed(d))).not.toBeInstanceOf(MalformedPayloadError);
    expectRefused(embed(d + 1), /JSON nested deeper/);
    expectRefused(
      item(5, (e) => enc.writeVarString(e, '['.repeat(100_000))),
      /JSON nested deeper/
    );
    // Brackets inside strings do not count.
    const inString = item(5, (e) => enc.writeVarString(e, JSON.stringify({ s: '[[[[\\"' + '['.repeat(100) })));
    expect(verdict(inString)).not.toBeInstanceOf(MalformedPayloadError);
    expect(verdict(nestedAny(3))).toEqual(parseYjsUpdate(nestedAny(3), { maxDepth: 3 }));
    expect(() => parseYjsUpdate(nestedAny(4), { maxDepth: 3 })).toThrow(MalformedPayloadError);
  });

  it('huge counts and lengths fail before any loop or allocation', () => {
    const big = 2 ** 40;
    const cases: Uint8Array[] = [
      (() => {
        const x = enc.createEncoder();
        enc.writeVarUint(x, big);
        return enc.toUint8Array(x);
      })(),
      item(8, (e) => enc.writeVarUint(e, big)),
      item(2, (e) => enc.writeVarUint(e, big)),
      item(4, (e) => enc.writeVarUint(e, big)),
      item(3, (e) => enc.writeVarUint(e, big)),
      anyItem((e) => {
        enc.writeUint8(e, 117);
        enc.writeVarUint(e, big);
      }),
      anyItem((e) => {
        enc.writeUint8(e, 118);
        enc.writeVarUint(e, big);
      }),
      anyItem((e) => {
        enc.writeUint8(e, 119);
        enc.writeVarUint(e, big);
      }),
      anyItem((e) => {
        enc.writeUint8(e, 116);
        enc.writeVarUint(e, big);
      }),
      item(4, (e) => enc.writeVarString(e, 'x'), {
        ds: (e) => {
          enc.writeVarUint(e, big);
        }
      }),
      item(4, (e) => enc.writeVarString(e, 'x'), {
        ds: (e) => {
          enc.writeVarUint(e, 1);
          enc.writeVarUint(e, 3);
          enc.writeVarUint(e, big);
        }
      })
    ];
    // Struct count of 2^40 in a section.
    const e = enc.createEncoder();
    enc.writeVarUint(e, 1);
    enc.writeVarUint(e, big);
    enc.writeVarUint(e, 7);
    enc.writeVarUint(e, 0);
    cases.push(enc.toUint8Array(e));
    for (const u of cases) expectRefused(u, /exceeds|claimed|truncated/);
  });

  it('integers: above 2^53-1, non-minimal, clock + length overflow', () => {
    expectRefused(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), /2\^53-1/);
    expectRefused(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), /longer than 8/);
    expectRefused(Uint8Array.from([0x80, 0x00, 0x00]), /non-minimal/);
    expect(verdict(item(4, (e) => enc.writeVarString(e, 'ab'), { clock: MAX - 2 }))).not.toBeInstanceOf(
      MalformedPayloadError
    );
    expectRefused(
      item(4, (e) => enc.writeVarString(e, 'abc'), { clock: MAX - 2 }),
      /2\^53-1/
    );
    expectRefused(deletesOnly([[5, MAX - 1, 2]]), /2\^53-1/);
    expect(parseYjsUpdate(deletesOnly([[5, MAX - 1, 1]])).deletes).toEqual([{ client: 5, clock: MAX - 1, len: 1 }]);
    // Non-minimal varint inside Any, and an out-of-range one.
    expectRefused(
      anyItem((e) => {
        enc.writeUint8(e, 125);
        enc.writeUint8(e, 0x80);
        enc.writeUint8(e, 0x00);
      }),
      /non-minimal varint/
    );
  });

  it('bigint, unknown Any tags, __proto__ and repeated object keys', () => {
    expectRefused(
      anyItem((e) => enc.writeAny(e, 5n)),
      /bigint/
    );
    expectRefused(
      anyItem((e) => enc.writeAny(e, [1, { a: 2n }])),
      /bigint/
    );
    for (const tag of [0, 115, 128, 255])
      expectRefused(
        anyItem((e) => enc.writeUint8(e, tag)),
        /unknown Any tag/
      );
    const obj = (keys: string[]) =>
      anyItem((e) => {
        enc.writeUint8(e, 118);
        enc.writeVarUint(e, keys.length);
        for (const k of keys) {
          enc.writeVarString(e, k);
          enc.writeUint8(e, 126);
        }
      });
    expect(verdict(obj(['a', 'b']))).not.toBeInstanceOf(MalformedPayloadError);
    expectRefused(obj(['a', 'a']), /repeats key/);
    expectRefused(obj(['__proto__']), /__proto__/);
  });

  it('strings: invalid UTF-8 and keys over maxKeyChars', () => {
    const raw = (bytes: number[]) => (e: enc.Encoder) => {
      enc.writeVarUint(e, bytes.length);
      for (const b of bytes) enc.writeUint8(e, b);
    };
    expectRefused(item(4, raw([0x61, 0xff])), /UTF-8/);
    expectRefused(item(4, raw([0xed, 0xa0, 0x80])), /UTF-8/); // an encoded lone surrogate
    expectRefused(item(4, raw([0xc3])), /UTF-8/);
    // A BOM is kept (as lib0 does): the length counts it.
    expect(parseYjsUpdate(item(4, raw([0xef, 0xbb, 0xbf, 0x61]))).structs[0].length).toBe(2);
    const k = DEFAULT_YJS_LIMITS.maxKeyChars;
    const withRoot = (name: string) => {
      const e = enc.createEncoder();
      for (const n of [1, 1, 7, 0]) enc.writeVarUint(e, n);
      enc.writeUint8(e, 4 | 0x20);
      enc.writeVarUint(e, 1);
      enc.writeVarString(e, name);
      enc.writeVarString(e, 'sub');
      enc.writeVarString(e, 'x');
      enc.writeVarUint(e, 0);
      return enc.toUint8Array(e);
    };
    expect(parseYjsUpdate(withRoot('é'.repeat(k))).structs[0]).toMatchObject({
      parent: 'é'.repeat(k),
      parentSub: 'sub'
    });
    expectRefused(withRoot('é'.repeat(k + 1)), /root type name longer/);
    expectRefused(withRoot('€'.repeat(k + 1)), /root type name longer/);
    const xml = (name: string) =>
      item(7, (e) => {
        enc.writeVarUint(e, 3);
        enc.writeVarString(e, name);
      });
    expect(parseYjsUpdate(xml('p')).structs[0].typeRef).toBe(3);
    expectRefused(xml('p'.repeat(k + 1)), /XML node name/);
    expectRefused(
      item(6, (e) => {
        enc.writeVarString(e, 'k'.repeat(k + 1));
        enc.writeVarString(e, 'true');
      }),
      /format key/
    );
  });

  it('structure: empty, trailing bytes, duplicate clients, zero lengths, parent info, type refs, JSON', () => {
    expectRefused(Uint8Array.from([0, 0]), /no structs and no deletes/);
    expectRefused(new Uint8Array(0), /truncated/);
    const ok = item(4, (e) => enc.writeVarString(e, 'x'));
    expectRefused(Uint8Array.from([...ok, 0]), /trailing/);
    expectRefused(
      item(4, (e) => enc.writeVarString(e, '')),
      /length 0/
    );
    expectRefused(
      item(8, (e) => enc.writeVarUint(e, 0)),
      /length 0/
    );
    expectRefused(
      item(2, (e) => enc.writeVarUint(e, 0)),
      /length 0/
    );
    expectRefused(
      item(7, (e) => enc.writeVarUint(e, 7)),
      /type ref 7/
    );
    expectRefused(
      item(5, (e) => enc.writeVarString(e, 'undefined')),
      /does not parse/
    );
    expectRefused(
      item(6, (e) => {
        enc.writeVarString(e, 'b');
        enc.writeVarString(e, '{');
      }),
      /does not parse/
    );
    expectRefused(deletesOnly([[5, 3, 0]]), /empty delete range/);
    const dupDs = item(4, (e) => enc.writeVarString(e, 'x'), {
      ds: (e) => {
        for (const n of [2, 5, 1, 0, 1, 5, 1, 4, 1]) enc.writeVarUint(e, n);
      }
    });
    expectRefused(dupDs, /twice in the delete set/);
    const zeroDs = item(4, (e) => enc.writeVarString(e, 'x'), {
      ds: (e) => {
        for (const n of [1, 5, 0, 0, 0]) enc.writeVarUint(e, n);
      }
    });
    expectRefused(zeroDs, /no ranges/);
    // Two sections of the same client (Yjs would silently drop the first).
    const e = enc.createEncoder();
    enc.writeVarUint(e, 2);
    for (let i = 0; i < 2; i++) {
      for (const n of [1, 7, i]) enc.writeVarUint(e, n);
      enc.writeUint8(e, 4);
      enc.writeVarUint(e, 1);
      enc.writeVarString(e, 'r');
      enc.writeVarString(e, 'x');
    }
    enc.writeVarUint(e, 0);
    expectRefused(enc.toUint8Array(e), /two struct sections/);
    // Parent info other than 0/1.
    const p = enc.createEncoder();
    for (const n of [1, 1, 7, 0]) enc.writeVarUint(p, n);
    enc.writeUint8(p, 4);
    enc.writeVarUint(p, 2);
    for (const n of [3, 4]) enc.writeVarUint(p, n);
    enc.writeVarString(p, 'x');
    enc.writeVarUint(p, 0);
    expectRefused(enc.toUint8Array(p), /parent info 2/);
  });

  it('limits: maxBytes before parsing, maxClients for sections and the delete set', () => {
    const ok = item(4, (e) => enc.writeVarString(e, 'x'.repeat(100)));
    expect(() => parseYjsUpdate(ok, { maxBytes: ok.length })).not.toThrow();
    expect(() => parseYjsUpdate(ok, { maxBytes: ok.length - 1 })).toThrow(/exceed the limit/);
    const n = DEFAULT_YJS_LIMITS.maxClients;
    const ranges = (count: number) => Array.from({ length: count }, (_, i): [number, number, number] => [i, 0, 1]);
    expect(parseYjsUpdate(deletesOnly(ranges(n))).deletes).toHaveLength(n);
    expectRefused(deletesOnly(ranges(n + 1)), /delete-set clients exceed/);
    const sections = (count: number) => {
      const e = enc.createEncoder();
      enc.writeVarUint(e, count);
      for (let c = 0; c < count; c++) {
        for (const x of [1, c, 0]) enc.writeVarUint(e, x);
        enc.writeUint8(e, 4);
        enc.writeVarUint(e, 1);
        enc.writeVarString(e, 'r');
        enc.writeVarString(e, 'x');
      }
      enc.writeVarUint(e, 0);
      return enc.toUint8Array(e);
    };
    expect(parseYjsUpdate(sections(n)).structs).toHaveLength(n);
    expectRefused(sections(n + 1), /client sections exceed/);
    expect(() => parseYjsUpdate(ok, { maxDepth: -1 })).toThrow(RangeError);
    expect(() => parseYjsUpdate(undefined as unknown as Uint8Array)).toThrow(MalformedPayloadError);
  });

  it('every truncation of real updates is refused; bit flips give only MalformedPayloadError or a Yjs-equal parse', () => {
    let flipsAccepted = 0;
    for (const u of corpus().slice(0, 6)) {
      for (let i = 0; i < u.length; i++) expectRefused(u.subarray(0, i));
      for (let i = 0; i < u.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const m = u.slice();
          m[i] ^= 1 << bit;
          const v = verdict(m);
          if (!(v instanceof MalformedPayloadError)) {
            flipsAccepted++;
            expect(v).toEqual(fromYjs(m).parsed);
          }
        }
      }
    }
    console.log(`yjs-update bit flips accepted (and equal to Yjs): ${flipsAccepted}`);
  });
});

describe('parseYjsUpdate: mutated real updates (fast-check)', () => {
  const base = corpus();
  type Mut =
    | { k: 'flip'; at: number; bit: number }
    | { k: 'set'; at: number; byte: number }
    | { k: 'insert'; at: number; bytes: number[] }
    | { k: 'delete'; at: number; len: number }
    | { k: 'varuint'; at: number; value: number }
    | { k: 'dup'; at: number; len: number };
  const mutArb: fc.Arbitrary<Mut> = fc.oneof(
    fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({
      k: fc.constant('set' as const),
      at: fc.nat(),
      byte: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 10, 116, 117, 118, 119, 122, 127)
    }),
    fc.record({
      k: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 4 })
    }),
    fc.record({ k: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 4 }) }),
    fc.record({
      k: fc.constant('varuint' as const),
      at: fc.nat(),
      value: fc.constantFrom(0, 1, 2 ** 31, 2 ** 32, 2 ** 40, MAX, MAX - 1)
    }),
    fc.record({ k: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) })
  );
  const mutate = (u: Uint8Array, m: Mut): Uint8Array => {
    const a = Array.from(u);
    const at = m.at % (a.length + 1);
    switch (m.k) {
      case 'flip':
        if (at < a.length) a[at] ^= 1 << m.bit;
        break;
      case 'set':
        if (at < a.length) a[at] = m.byte;
        break;
      case 'insert':
        a.splice(at, 0, ...m.bytes);
        break;
      case 'delete':
        a.splice(at, m.len);
        break;
      case 'varuint': {
        const e = enc.createEncoder();
        enc.writeVarUint(e, m.value);
        a.splice(at, 1, ...enc.toUint8Array(e));
        break;
      }
      case 'dup':
        a.splice(at, 0, ...a.slice(at, at + m.len));
        break;
    }
    return Uint8Array.from(a);
  };

  it('10,000 cases: only MalformedPayloadError, within budget; accepted ones equal what Yjs decodes', () => {
    const t0 = performance.now();
    let accepted = 0;
    let slowest = 0;
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.array(mutArb, { minLength: 1, maxLength: 4 }), (i, muts) => {
        const m = muts.reduce(mutate, base[i]);
        const s = performance.now();
        const v = verdict(m);
        slowest = Math.max(slowest, performance.now() - s);
        if (!(v instanceof MalformedPayloadError)) {
          accepted++;
          expect(v).toEqual(fromYjs(m).parsed);
        }
      }),
      { seed, numRuns: 10_000 }
    );
    const ms = performance.now() - t0;
    console.log(
      `yjs-update mutations: 10000 cases in ${ms.toFixed(0)} ms, ${accepted} accepted, slowest verdict ${slowest.toFixed(2)} ms`
    );
    expect(ms).toBeLessThan(30_000);
  });
});

describe('referencedIds and clientRanges', () => {
  it("lists origins, parents and deletes outside the update's own structs", () => {
    const a = new Replica(100);
    a.texts[0].insert(0, 'abc');
    a.maps[0].set('k', new Y.Map());
    const b = new Replica(200);
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc));
    b.updates.length = 0;
    b.doc.transact(() => {
      b.texts[0].insert(1, 'XY'); // origin a:0, right origin a:1
      b.texts[0].insert(0, 'Z');
      (b.maps[0].get('k') as Y.Map<unknown>).set('inner', 1); // parent = the nested map's id
      b.texts[0].delete(2, 3); // 'ZaXYbc': deletes own X, Y and a's 'b' (a:1)
      b.texts[0].insert(0, 'tmp');
      b.texts[0].delete(0, 3); // deletes own structs only
    });
    expect(b.updates).toHaveLength(1);
    const p = parseYjsUpdate(b.updates[0]);
    const ranges = clientRanges(p);
    expect([...ranges.keys()]).toEqual([200]);
    expect(ranges.get(200)).toEqual({ clock: 0, end: 7 });
    const { refs, deletes } = referencedIds(p);
    const key = (id: YId) => `${id.client}:${id.clock}`;
    expect(refs.map(key).sort()).toEqual(['100:0', '100:1', '100:3'].sort());
    expect(refs.every((r) => r.client === 100)).toBe(true);
    expect(deletes.every((d) => d.client === 100)).toBe(true);
    expect(deletes).toEqual([{ client: 100, clock: 1, len: 1 }]);
  });

  it("splits a delete range around the update's own clocks", () => {
    const e = enc.createEncoder();
    for (const n of [1, 1, 7, 10]) enc.writeVarUint(e, n);
    enc.writeUint8(e, 4);
    enc.writeVarUint(e, 1);
    enc.writeVarString(e, 'r');
    enc.writeVarString(e, 'abcd'); // clocks 10..13
    for (const n of [2, 7, 1, 5, 20, 8, 1, 0, 1]) enc.writeVarUint(e, n); // 7:[5,25) and 8:[0,1)
    const p = parseYjsUpdate(enc.toUint8Array(e));
    expect(clientRanges(p).get(7)).toEqual({ clock: 10, end: 14 });
    expect(referencedIds(p)).toEqual({
      refs: [],
      deletes: [
        { client: 7, clock: 5, len: 5 },
        { client: 7, clock: 14, len: 11 },
        { client: 8, clock: 0, len: 1 }
      ]
    });
  });
});
