// What the fuzzer feeds the ledger: a Mutation is plain data (so fast-check prints and shrinks
// it), realized against the World into signed entry bytes. Each starts from evil author E's k-th
// valid entry (its valid predecessors are delivered first) and changes it:
// - flip:     bit flips anywhere in the encoded entry, NOT re-signed (must always be refused);
// - pflip:    bit flips in the payload, re-signed with E's key;
// - field:    one field at or past its bound, re-signed;
// - deps:     hostile dependency lists, re-signed;
// - yjs:      a hostile Yjs update built from scratch, lamport/clock computed so it gets far;
// - valid:    E's entry unchanged (so accepted entries show up too).
import fc from 'fast-check';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { MAX_ENTRY_DEPS, MAX_ENTRY_TIME } from '../../src/lib/core/constants.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import {
  contentLength,
  encodeYUpdate,
  fieldsOf,
  rawSignedEntry,
  type RawFields,
  type YContent,
  type YId,
  type YStruct,
  type YUpdateSpec
} from './kit.js';
import type { World } from './world.js';

const MAX = Number.MAX_SAFE_INTEGER;
const BIG = [2 ** 32, 2 ** 40, MAX - 1, MAX, 2n ** 53n, 2n ** 64n - 1n, 2n ** 70n] as const;

export type Who = 'a' | 'b' | 'e' | 'c' | 'zero' | 'max' | 'rand';
export type DepSpec = { who: 'a' | 'b' | 'c' | 'e' | 'rand'; seq: 'head' | 'low' | 'beyond' | 'zero' | 'huge' };

export type FieldMut =
  | { f: 'seq'; v: 'zero' | 'same' | 'gap' | 'big'; big: number; pad: number }
  | { f: 'lamport' | 'clock'; v: 'zero' | 'minus' | 'plus' | 'big'; big: number }
  | { f: 'time'; v: 'zero' | 'max' | 'past' | 'big'; big: number }
  | { f: 'format'; v: number }
  | { f: 'network' | 'prev' | 'author'; byte: number }
  | { f: 'payload'; v: 'empty' | 'truncate' | 'append'; n: number };

export type MutationBody =
  | { kind: 'flip'; k: number; bits: number[] }
  | { kind: 'pflip'; k: number; bits: number[] }
  | { kind: 'field'; k: number; m: FieldMut }
  | {
      kind: 'deps';
      k: number;
      deps: DepSpec[];
      sort: boolean;
      extraCount: number;
      many: boolean;
    }
  | {
      kind: 'yjs';
      k: number;
      spec: YSpecGen;
      /** 'auto': every A/B client the update references or deletes, at that author's head (or first entry). */
      deps: DepSpec[] | 'auto' | 'autoLow';
      lamportOff: number;
      clockOff: number;
    }
  | { kind: 'valid'; k: number };

/** A Yjs update description with symbolic clients and ids, resolved against the world. */
export interface YSpecGen {
  sections: {
    who: Who;
    clock: 'next' | 'zero' | 'ahead' | 'far' | 'max';
    structs: YStructGen[];
    claimedExtra: number;
  }[];
  deletes: { who: Who; ranges: { clock: 'zero' | 'low' | 'own' | 'far'; len: number }[] }[];
  trailing: number[];
}

export interface YStructGen {
  origin?: IdGen;
  rightOrigin?: IdGen;
  parent?: string | IdGen;
  parentSub?: string;
  content: YContent;
}

export type IdGen = { who: Who; at: 'first' | 'last' | 'beyond' | 'far' | 'list' | 'listMap' | 'text' };

/** Whose entry is mutated: E (not in the target's base) or B (in it: mutations become fork variants). */
export type Mutant = 'e' | 'b';
export type Mutation = MutationBody & { au?: Mutant };

const whoArb: fc.Arbitrary<Who> = fc.constantFrom('a', 'b', 'e', 'e', 'e', 'c', 'zero', 'max', 'rand');
const bigArb = fc.nat(BIG.length - 1);

const idArb: fc.Arbitrary<IdGen> = fc.record({
  who: whoArb,
  at: fc.constantFrom('first', 'last', 'beyond', 'far', 'list', 'listMap', 'text')
});

const keyArb = fc.oneof(
  fc.constantFrom('shared', 'a1', 'b1', 'e1', 'new', '', '__proto__'),
  fc.string({ maxLength: 4 }),
  fc.constant('k'.repeat(1025))
);

const anyValueArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(undefined, null, true, 1.5, -7, 2 ** 40, 'x', new Uint8Array([1, 2]))
);

const contentArb: fc.Arbitrary<YContent> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('any' as const),
      values: fc.array(anyValueArb, { minLength: 0, maxLength: 3 })
    })
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('anyDeep' as const), depth: fc.constantFrom(1, 31, 32, 33, 34, 200) })
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('string' as const), s: fc.string({ maxLength: 6, unit: 'binary' }) })
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('json' as const),
      texts: fc.array(
        fc.oneof(
          fc.constantFrom('1', '"s"', 'undefined', '{', '[[[]]]', '{"a":1}', '['.repeat(40) + ']'.repeat(40), ''),
          fc.string({ maxLength: 5 })
        ),
        { maxLength: 3 }
      )
    })
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('binary' as const),
      len: fc.nat(4),
      claimed: fc.option(fc.constantFrom(2 ** 31, 2 ** 40, MAX), { nil: undefined })
    })
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleted' as const), len: fc.constantFrom(1, 2, 2 ** 40, MAX) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('type' as const),
      typeRef: fc.nat(8),
      name: fc.option(fc.constantFrom('div', ''), { nil: undefined })
    })
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('gc' as const), len: fc.constantFrom(1, 2 ** 40) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('skip' as const), len: fc.constantFrom(1, 2 ** 40) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'doc' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('embed' as const), text: fc.constantFrom('{}', '1', 'x') }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('format' as const),
      key: fc.constantFrom('b', ''),
      text: fc.constantFrom('true', '{', 'null')
    })
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('unknown' as const), ref: fc.integer({ min: 11, max: 31 }) }) }
);

const structArb: fc.Arbitrary<YStructGen> = fc.record(
  {
    origin: idArb,
    rightOrigin: idArb,
    parent: fc.oneof(fc.constantFrom('records', 'list', 'other', ''), idArb),
    parentSub: keyArb,
    content: contentArb
  },
  { requiredKeys: ['content'] }
);

const ySpecArb: fc.Arbitrary<YSpecGen> = fc.record({
  sections: fc.array(
    fc.record({
      who: whoArb,
      clock: fc.constantFrom('next', 'next', 'next', 'zero', 'ahead', 'far', 'max'),
      structs: fc.array(structArb, { minLength: 1, maxLength: 3 }),
      claimedExtra: fc.constantFrom(0, 0, 0, 1, 1000)
    }),
    { maxLength: 3 }
  ),
  deletes: fc.array(
    fc.record({
      who: whoArb,
      ranges: fc.array(
        fc.record({
          clock: fc.constantFrom('zero', 'low', 'own', 'far'),
          len: fc.constantFrom(1, 1, 2, 3, 1000, 2 ** 40, MAX)
        }),
        { minLength: 1, maxLength: 2 }
      )
    }),
    { maxLength: 3 }
  ),
  trailing: fc.constantFrom([], [], [], [0], [1, 2])
});

/** Updates that look like E's own document would make them: far more reach the causal and state checks. */
const plausibleStructArb: fc.Arbitrary<YStructGen> = fc.record(
  {
    origin: fc.record({
      who: fc.constantFrom<Who>('a', 'b', 'e', 'rand'),
      at: fc.constantFrom<IdGen['at']>('first', 'last', 'beyond', 'list', 'listMap', 'text')
    }),
    parent: fc.oneof(
      fc.constantFrom('records', 'list', 'text'),
      fc.record({
        who: fc.constantFrom<Who>('b', 'e', 'a'),
        at: fc.constantFrom<IdGen['at']>('list', 'listMap', 'first', 'beyond')
      })
    ),
    parentSub: fc.constantFrom('shared', 'a1', 'b1', 'e1', 'inner', 'new'),
    content: fc.oneof(
      fc.record({ k: fc.constant('any' as const), values: fc.array(anyValueArb, { minLength: 1, maxLength: 2 }) }),
      fc.record({ k: fc.constant('string' as const), s: fc.string({ minLength: 1, maxLength: 3 }) }),
      fc.record({ k: fc.constant('type' as const), typeRef: fc.nat(6), name: fc.constant(undefined) }),
      fc.record({ k: fc.constant('json' as const), texts: fc.constant(['1', '"x"']) }),
      fc.record({
        k: fc.constant('format' as const),
        key: fc.constantFrom('bold', 'italic'),
        text: fc.constantFrom('true', 'null')
      })
    ) as fc.Arbitrary<YContent>
  },
  { requiredKeys: ['content'] }
);

const plausibleSpecArb: fc.Arbitrary<YSpecGen> = fc.record({
  sections: fc.array(
    fc.record({
      who: fc.constant<Who>('e'),
      clock: fc.constant('next' as const),
      structs: fc.array(plausibleStructArb, { minLength: 1, maxLength: 3 }),
      claimedExtra: fc.constant(0)
    }),
    { maxLength: 1 }
  ),
  deletes: fc.array(
    fc.record({
      who: fc.constantFrom<Who>('a', 'b', 'e', 'c'),
      ranges: fc.array(
        fc.record({ clock: fc.constantFrom('zero', 'low', 'own'), len: fc.constantFrom(1, 1, 2, 3, 5) }),
        { minLength: 1, maxLength: 2 }
      )
    }),
    { maxLength: 2 }
  ),
  trailing: fc.constant([])
});

const depArb: fc.Arbitrary<DepSpec> = fc.record({
  who: fc.constantFrom('a', 'b', 'b', 'c', 'e', 'rand'),
  seq: fc.constantFrom('head', 'head', 'low', 'beyond', 'zero', 'huge')
});

const fieldArb: fc.Arbitrary<FieldMut> = fc.oneof(
  fc.record({
    f: fc.constant('seq' as const),
    v: fc.constantFrom('zero', 'same', 'gap', 'big'),
    big: bigArb,
    pad: fc.constantFrom(0, 0, 1)
  }),
  fc.record({
    f: fc.constantFrom('lamport' as const, 'clock' as const),
    v: fc.constantFrom('zero', 'minus', 'plus', 'big'),
    big: bigArb
  }),
  fc.record({ f: fc.constant('time' as const), v: fc.constantFrom('zero', 'max', 'past', 'big'), big: bigArb }),
  fc.record({ f: fc.constant('format' as const), v: fc.constantFrom(0, 1, 3, 255) }),
  fc.record({ f: fc.constantFrom('network' as const, 'prev' as const, 'author' as const), byte: fc.nat(31) }),
  fc.record({
    f: fc.constant('payload' as const),
    v: fc.constantFrom('empty', 'truncate', 'append'),
    n: fc.integer({ min: 1, max: 8 })
  })
);

/** Mutations of E's entries (mostly) and of B's (fork variants of entries the target holds). */
export function mutationArb(w: World): fc.Arbitrary<Mutation> {
  return fc.oneof(
    { weight: 4, arbitrary: bodyArb(w.e.entries.length).map((m) => ({ ...m, au: 'e' as const })) },
    { weight: 1, arbitrary: bodyArb(w.b.entries.length).map((m) => ({ ...m, au: 'b' as const })) }
  );
}

/** k: which of the author's entries is mutated (its valid predecessors are delivered first). */
function bodyArb(eCount: number): fc.Arbitrary<MutationBody> {
  const k = fc.nat(eCount - 1);
  const bits = fc.array(fc.nat(1 << 16), { minLength: 1, maxLength: 3 });
  return fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), k, bits }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('pflip' as const), k, bits }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('field' as const), k, m: fieldArb }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('deps' as const),
        k,
        deps: fc.array(depArb, { maxLength: 3 }),
        sort: fc.boolean(),
        extraCount: fc.constantFrom(0, 0, 0, 1, -1),
        many: fc.constantFrom(false, false, false, true)
      })
    },
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('yjs' as const),
        k,
        spec: ySpecArb,
        deps: fc.array(depArb, { maxLength: 2 }),
        lamportOff: fc.constantFrom(0, 0, 0, 0, 1, -1),
        clockOff: fc.constantFrom(0, 0, 0, 0, 1, -1)
      })
    },
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('yjs' as const),
        k,
        spec: plausibleSpecArb,
        deps: fc.constantFrom<'auto' | 'autoLow'>('auto', 'auto', 'auto', 'autoLow'),
        lamportOff: fc.constant(0),
        clockOff: fc.constant(0)
      })
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('valid' as const), k }) }
  );
}

// ---- realization ----

export interface Realized {
  /** E's valid entries before the mutated one. */
  prefix: HashedEntry[];
  bytes: Uint8Array;
  /** Bytes that must be refused whatever the rules (an unsigned change of signed bytes). */
  mustRefuse: boolean;
}

const randKey = (byte: number): Uint8Array => new Uint8Array(32).fill(byte);

function whoClient(w: World, who: Who, au: Mutant = 'e'): number {
  switch (who) {
    case 'a':
      return w.a.client;
    case 'b':
      return w.b.client;
    case 'e': // "self": the author of the mutated entry
      return w[au].client;
    case 'c':
      return w.c.client;
    case 'zero':
      return 0;
    case 'max':
      return MAX;
    case 'rand':
      return 123_456_789;
  }
}

/** The Yjs clock each author has reached before E's k-th entry (A and B complete; E at its prefix). */
function clocksBefore(w: World, k: number, au: Mutant): Map<number, number> {
  const m = new Map<number, number>();
  m.set(w.a.client, w.a.entries.at(-1)!.entry.clock);
  m.set(w.b.client, w.b.entries.at(-1)!.entry.clock);
  m.set(w[au].client, k === 0 ? 0 : w[au].entries[k - 1].entry.clock);
  return m;
}

function resolveId(w: World, clocks: Map<number, number>, g: IdGen, au: Mutant): YId {
  const client = whoClient(w, g.who, au);
  const reached = clocks.get(client) ?? 0;
  // B's transact created the 'list' array items: its first struct of the last entry is the map (a type).
  const bLast = w.b.entries.at(-1)!.entry;
  const bListStart = w.b.entries.at(-2)!.entry.clock;
  switch (g.at) {
    case 'first':
      return { client, clock: 0 };
    case 'last':
      return { client, clock: Math.max(0, reached - 1) };
    case 'beyond':
      return { client, clock: reached + 3 };
    case 'far':
      return { client, clock: 2 ** 40 };
    case 'list':
      return { client: w.b.client, clock: bListStart };
    case 'listMap':
      return { client: w.b.client, clock: Math.min(bListStart + 1, bLast.clock - 1) };
    case 'text': // inside A's formatted text (its last entry): the third character
      return { client: w.a.client, clock: w.a.entries.at(-2)!.entry.clock + 2 };
  }
}

function resolveSpec(w: World, k: number, g: YSpecGen, au: Mutant): { spec: YUpdateSpec; ownEnd: number } {
  const clocks = clocksBefore(w, k, au);
  const self = w[au].client;
  let ownEnd = clocks.get(self)!;
  const sections = g.sections.map((s) => {
    const client = whoClient(w, s.who, au);
    const reached = clocks.get(client) ?? 0;
    const clock = { next: reached, zero: 0, ahead: reached + 1, far: 2 ** 40, max: MAX - 1 }[s.clock];
    const structs: YStruct[] = s.structs.map((st) => ({
      origin: st.origin && resolveId(w, clocks, st.origin, au),
      rightOrigin: st.rightOrigin && resolveId(w, clocks, st.rightOrigin, au),
      parent: typeof st.parent === 'object' ? resolveId(w, clocks, st.parent, au) : st.parent,
      parentSub: st.parentSub,
      content: st.content
    }));
    if (client === self && clock === ownEnd) ownEnd += structs.reduce((n, st) => n + contentLength(st.content), 0);
    return { client, clock, structs, claimed: s.claimedExtra ? structs.length + s.claimedExtra : undefined };
  });
  const deletes = g.deletes.map((d) => {
    const client = whoClient(w, d.who, au);
    const reached = clocks.get(client) ?? 0;
    return {
      client,
      ranges: d.ranges.map((r): [number, number] => [
        { zero: 0, low: Math.max(0, reached - 2), own: reached, far: 2 ** 40 }[r.clock],
        r.len
      ])
    };
  });
  return { spec: { sections, deletes, trailing: g.trailing }, ownEnd };
}

function resolveDeps(w: World, deps: DepSpec[]): { author: Uint8Array; seq: number | bigint; lamport: number }[] {
  return deps.map((d) => {
    const au = d.who === 'rand' ? null : w[d.who];
    const author = au ? au.keys.publicKey : randKey(0xab);
    const head = au ? au.entries.length : 1;
    const seq = { head, low: 1, beyond: head + 1, zero: 0, huge: MAX }[d.seq];
    const lamport = au && seq >= 1 && seq <= head ? au.entries[seq - 1].entry.lamport : 0;
    return { author, seq, lamport };
  });
}

/** Flips each named bit once: two bit numbers that land on the same bit (modulo the length) flip
 *  it once, not twice, so the result always differs from `bytes` (a double flip gave back the
 *  signed bytes, which then rightly verified). */
function flipBits(bytes: Uint8Array, bits: number[]): Uint8Array {
  const out = bytes.slice();
  const seen = new Set<number>();
  for (const b of bits) {
    const at = (Math.floor(b / 8) % out.length) * 8 + (b % 8);
    if (seen.has(at)) continue;
    seen.add(at);
    out[at >> 3] ^= 1 << (at & 7);
  }
  return out;
}

function sortDeps<T extends { author: Uint8Array }>(deps: T[]): T[] {
  const hex = (u: Uint8Array) => Array.from(u, (x) => x.toString(16).padStart(2, '0')).join('');
  return [...deps].sort((x, y) => (hex(x.author) < hex(y.author) ? -1 : hex(x.author) > hex(y.author) ? 1 : 0));
}

function applyField(f: RawFields, m: FieldMut): void {
  const big = 'big' in m ? BIG[m.big] : 0;
  switch (m.f) {
    case 'seq': {
      const s = Number(f.seq);
      f.seq = { zero: 0, same: s, gap: s + 1, big }[m.v];
      f.seqPad = m.pad;
      return;
    }
    case 'lamport':
    case 'clock': {
      const x = Number(f[m.f]);
      f[m.f] = { zero: 0, minus: Math.max(0, x - 1), plus: x + 1, big }[m.v];
      return;
    }
    case 'time':
      f.time = { zero: 0, max: MAX_ENTRY_TIME, past: MAX_ENTRY_TIME + 1, big }[m.v];
      return;
    case 'format':
      f.format = m.v;
      return;
    case 'network':
    case 'prev':
    case 'author': {
      const v = f[m.f].slice();
      v[m.byte % v.length] ^= 0x5a;
      f[m.f] = v;
      return;
    }
    case 'payload': {
      const p = f.payload;
      f.payload =
        m.v === 'empty'
          ? new Uint8Array(0)
          : m.v === 'truncate'
            ? p.slice(0, Math.max(0, p.length - m.n))
            : Uint8Array.from([...p, ...new Array(m.n).fill(0)]);
      return;
    }
  }
}

export async function realize(w: World, m: Mutation): Promise<Realized> {
  const k = m.k;
  const au = m.au ?? 'e';
  const valid = w[au].entries[k];
  const prefix = w[au].entries.slice(0, k);
  const seed = w[au].keys.seed;
  const f = fieldsOf(valid);
  const resign = async (mustRefuse = false): Promise<Realized> => ({
    prefix,
    bytes: await rawSignedEntry(f, seed, w.networkId),
    mustRefuse
  });
  switch (m.kind) {
    case 'valid':
      return { prefix, bytes: encodeEntry(valid.entry), mustRefuse: false };
    case 'flip':
      return { prefix, bytes: flipBits(encodeEntry(valid.entry), m.bits), mustRefuse: true };
    case 'pflip':
      if (f.payload.length > 0) f.payload = flipBits(f.payload, m.bits);
      return resign();
    case 'field':
      applyField(f, m.m);
      return resign();
    case 'deps': {
      let deps = resolveDeps(w, m.deps).map(({ author, seq }) => ({ author, seq }));
      if (m.many) deps = Array.from({ length: MAX_ENTRY_DEPS + 1 }, (_, i) => ({ author: randKey(i + 1), seq: 1 }));
      if (m.sort) deps = sortDeps(deps);
      f.deps = deps;
      f.depCount = Math.max(0, deps.length + m.extraCount);
      return resign();
    }
    case 'yjs': {
      const { spec, ownEnd } = resolveSpec(w, k, m.spec, au);
      f.payload = encodeYUpdate(spec);
      const deps = sortDeps(resolveDeps(w, typeof m.deps === 'string' ? autoDeps(w, spec, m.deps, au) : m.deps));
      // Deduplicate authors (the deps mutation covers duplicates): keep the first of each.
      const seen = new Set<string>();
      const uniq = deps.filter((d) => {
        const key = fromHexKey(d.author);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      f.deps = uniq.map(({ author, seq }) => ({ author, seq }));
      f.depCount = uniq.length;
      const prevLamport = k === 0 ? 0 : w[au].entries[k - 1].entry.lamport;
      const lamport = 1 + Math.max(prevLamport, ...uniq.map((d) => d.lamport));
      f.lamport = Math.max(0, lamport + m.lamportOff);
      f.clock = Math.max(0, ownEnd + m.clockOff);
      return resign();
    }
  }
}

/** A dependency on every honest author whose items `spec` references or deletes. */
function autoDeps(w: World, spec: YUpdateSpec, mode: 'auto' | 'autoLow', au: Mutant): DepSpec[] {
  const clients = new Set<number>();
  for (const sec of spec.sections)
    for (const st of sec.structs)
      for (const id of [st.origin, st.rightOrigin, typeof st.parent === 'object' ? st.parent : undefined])
        if (id) clients.add(id.client);
  for (const d of spec.deletes) clients.add(d.client);
  const out: DepSpec[] = [];
  const seq = mode === 'auto' ? 'head' : 'low';
  if (clients.has(w.a.client)) out.push({ who: 'a', seq });
  if (clients.has(w.b.client) && au !== 'b') out.push({ who: 'b', seq });
  return out;
}

function fromHexKey(u: Uint8Array): string {
  return Array.from(u, (x) => x.toString(16).padStart(2, '0')).join('');
}
