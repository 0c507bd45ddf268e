// Seeded ledger fuzzer (issue 6). Mutated and hostile entries (see mutations.ts) go through
// (1) Ledger.ingest, (2) the gossip topic validator and (3) snapshot import, and every case
// checks: only typed errors / typed rejections; a time budget per entry; state unchanged on
// rejection (records, heads, digest, store count); what is stored is what the state shows (a
// reopen from the store gives the same state); later honest writes still work; and two ledgers
// given the same accepted entries in any order (shuffled, duplicated, batched) converge, and a
// ledger given hostile and honest entries in any order (re-delivered) ends where the canonical
// order does (acceptance depends on the bytes and dependencies only, not on arrival order).
//
// SEED=<n> replays a run (each property uses SEED + its offset, as fast-check's failure message
// shows); FUZZ_RUNS=<n> sets the total number of cases (default 10,000, split over the five
// properties); FUZZ_PATH=<path> with SEED replays the one counterexample fast-check printed
// (its `path`; pick its property with vitest -t); FUZZ_BUDGET_MS the per-entry time budget (default 1000). The seed, the outcome
// counts and the slowest entry are printed at the end. The properties are declared by two test
// files (ingest + snapshot; gossip + convergence + order) so vitest runs them on two workers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TopicValidatorResult, type Message, type TopicValidatorFn } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { decodeEntry, encodeEntry, verifyEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { sha256 } from '../../src/lib/core/hash.js';
import { Ledger, type IngestReport } from '../../src/lib/core/ledger.js';
import { importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { startEntryGossip, type GossipNode } from '../../src/lib/worker/entry-gossip.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { mulberry, shuffle, testClock } from '../helpers/ledger-nodes.js';
import { ENGINE_MESSAGE, LEDGER_CODES, isTypedError, observe, rawFullSnapshot, type Observed } from './kit.js';
import { mutationArb, realize, type Mutation } from './mutations.js';
import { buildWorld, genesis, target, type World } from './world.js';

const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) : Date.now() ^ (Math.random() * 2 ** 31);
const TOTAL = Number(process.env.FUZZ_RUNS ?? 10_000);
/** Per-entry time budget: generous, so a loaded CI machine does not make it flaky. */
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 1000);
const RUNS = {
  ingest: Math.ceil(TOTAL * 0.5),
  snapshot: Math.ceil(TOTAL * 0.08),
  gossip: Math.ceil(TOTAL * 0.22),
  converge: Math.ceil(TOTAL * 0.1),
  order: Math.ceil(TOTAL * 0.1)
};
/**
 * The records rule's verdict once depended on batching (fixed: see regressions.test.ts); any
 * divergence now fails the run.
 */
const knownBug = (_rejected: { message: string }[]): boolean => false;

/** Generous test timeout: the whole run, scaled by the number of cases. */
const TIMEOUT = 120_000 + TOTAL * 60;

type Ctx = Awaited<ReturnType<typeof target>>;

const findings = {
  outcomes: new Map<string, number>(),
  maxMs: 0,
  maxMsCase: '',
  gossipAcceptedLedgerRefused: new Map<string, number>(),
  /** One example case per notable outcome (printed at the end). */
  samples: new Map<string, string>(),
  cases: 0
};
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

let w: World;

function hooks(): void {
  beforeAll(async () => {
    w = await buildWorld();
  }, 60_000);
  afterAll(printFindings);
}

function printFindings(): void {
  const out = [...findings.outcomes].sort().map(([k, n]) => `${k}=${n}`);
  const gossip = [...findings.gossipAcceptedLedgerRefused].map(([k, n]) => `${k}=${n}`);
  console.log(
    `FUZZ SEED=${SEED} cases=${findings.cases} maxEntryMs=${findings.maxMs.toFixed(1)} (${findings.maxMsCase})\n` +
      `  outcomes: ${out.join(' ')}\n  gossip-accepted, ledger-refused: ${gossip.join(' ') || 'none'}` +
      [...findings.samples].map(([k, v]) => `\n  example ${k}: ${v}`).join('')
  );
}

const params = (numRuns: number, offset: number): fc.Parameters<[Mutation]> => ({
  seed: (SEED + offset) | 0,
  numRuns,
  endOnFailure: false,
  ...(process.env.FUZZ_PATH !== undefined ? { path: process.env.FUZZ_PATH } : {})
});

/** What a peer-independent verifier says of the bytes: ok, or the typed error's code. */
async function oracle(bytes: Uint8Array): Promise<{ ok: true; h: HashedEntry } | { ok: false; code: string }> {
  try {
    const h = decodeEntry(bytes, genesis.maxEntryBytes);
    await verifyEntry(h.entry, w.networkId, genesis);
    return { ok: true, h };
  } catch (e) {
    if (!isTypedError(e)) throw new Error(`untyped error from decode/verify: ${String(e)}`, { cause: e });
    return { ok: false, code: (e as { code: string }).code };
  }
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  const dt = performance.now() - t0;
  if (dt > findings.maxMs) {
    findings.maxMs = dt;
    findings.maxMsCase = label;
  }
  expect(dt, `${label} took ${dt.toFixed(0)} ms`).toBeLessThan(BUDGET_MS);
  return out;
}

function checkRejections(rejected: { code: string; message: string }[]): void {
  for (const r of rejected) {
    expect(LEDGER_CODES.has(r.code), `untyped rejection code ${r.code}: ${r.message}`).toBe(true);
    expect(r.message, 'an engine error surfaced as a rejection').not.toMatch(ENGINE_MESSAGE);
  }
}

/** The stored data, opened again from the store, shows exactly what the running ledger shows. */
async function checkReopen(t: Ctx, now: Observed): Promise<void> {
  const again = await Ledger.open({
    genesis,
    keys: t.keys,
    store: await t.loc.open(),
    now: testClock(),
    compactEvery: 0
  });
  try {
    expect(await observe(again, again.store)).toEqual(now);
    expect(again.stats().skippedPayloads).toBe(0);
  } finally {
    await again.close();
  }
}

/**
 * Later honest writes still work: a remote entry (C) is added and a local write is readable.
 * `reopen`: also check that the store, opened again, shows the same state (a full replay).
 */
async function checkHonest(t: Ctx, tag: string, reopen: boolean): Promise<void> {
  const r = await t.ledger.ingest(w.c.entries);
  // C's entry may unblock a hostile entry held pending on it: that one may be refused now.
  expect(r.added, 'honest remote entry').toBeGreaterThanOrEqual(1);
  expect(r.rejected.filter((x) => x.author === w.c.hex)).toEqual([]);
  checkRejections(r.rejected);
  expect(t.ledger.heads().find((h) => h.author === w.c.hex)?.seq).toBe(1);
  const before = await t.store.count();
  await t.ledger.put('honest', tag);
  expect(t.ledger.get('honest')).toBe(tag);
  expect(await t.store.count()).toBe(before + 1);
  expect(t.ledger.stats().skippedPayloads, 'stored but not applied').toBe(0);
  if (reopen) await checkReopen(t, await observe(t.ledger, t.store));
}

/** Replays are the expensive part: always after something was stored, else one case in REOPEN_EVERY. */
const REOPEN_EVERY = 8;
const reopenWanted = (stored: boolean): boolean => stored || findings.cases % REOPEN_EVERY === 0;

async function withTarget(fn: (t: Ctx) => Promise<void>): Promise<void> {
  const t = await target(w);
  try {
    await fn(t);
  } finally {
    await t.ledger.close();
  }
}

function outcomeOf(r: {
  forks: number;
  added: number;
  pending: number;
  duplicates: number;
  dropped: number;
  rejected: { code: string }[];
}): string {
  if (r.added > 0) return 'accepted';
  if (r.rejected.length > 0) return r.rejected[0].code;
  if (r.pending > 0) return 'pending';
  if (r.duplicates > 0) return 'duplicate';
  if (r.dropped > 0) return 'dropped';
  if (r.forks > 0) return 'fork';
  return 'none';
}

export type PropertyName = 'ingest' | 'gossip' | 'snapshot' | 'converge' | 'order';

/** Declares the fuzzer's properties `which` (each file of test/fuzz picks some). */
export function defineFuzz(which: PropertyName[]): void {
  hooks();
  describe(`ledger fuzzer (SEED=${SEED}, FUZZ_RUNS=${TOTAL})`, () => {
    for (const name of which) PROPERTIES[name]();
  });
}

const PROPERTIES: Record<PropertyName, () => void> = {
  ingest: () =>
    it(
      'ingest: typed rejections only, bounded time, no change on rejection, stored = shown, honest writes work',
      async () => {
        await fc.assert(
          fc.asyncProperty(mutationArb(w), async (m) => {
            findings.cases++;
            const r = await realize(w, m);
            const verdict = await oracle(r.bytes);
            if (r.mustRefuse) expect(verdict.ok, 'unsigned change of signed bytes verified').toBe(false);
            await withTarget(async (t) => {
              if (r.prefix.length > 0) expect((await t.ledger.ingest(r.prefix)).rejected).toEqual([]);
              const before = await observe(t.ledger, t.store);
              let rep;
              try {
                rep = await timed(`ingest ${m.kind}`, () => t.ledger.ingest([r.bytes]));
              } catch (e) {
                throw new Error(`ingest threw ${String(e)}`, { cause: e });
              }
              checkRejections(rep.rejected);
              const outcome = outcomeOf(rep);
              bump(findings.outcomes, `ingest:${m.kind}:${outcome}`);
              if (!verdict.ok) expect(rep).toMatchObject({ added: 0, rejected: [{ code: verdict.code }] });
              const after = await observe(t.ledger, t.store);
              // A valid twin of a held entry is no rejection: it voids its author's feed (PROTOCOL.md
              // §6), which changes the state but stores no entry.
              if (rep.added === 0 && rep.forks === 0) expect(after).toEqual(before);
              else expect(after.count).toBe(before.count + rep.added);
              expect(t.ledger.stats().skippedPayloads, 'stored but not applied').toBe(0);
              await checkHonest(
                t,
                `h${findings.cases}`,
                reopenWanted(rep.added > 0 || rep.pending > 0 || rep.forks > 0)
              );
            });
          }),
          params(RUNS.ingest, 0)
        );
      },
      TIMEOUT
    ),

  gossip: () =>
    it(
      'gossip validator: verdict matches the verifier, never throws, refused entries change nothing',
      async () => {
        await fc.assert(
          fc.asyncProperty(mutationArb(w), async (m) => {
            findings.cases++;
            const r = await realize(w, m);
            const verdict = await oracle(r.bytes);
            await withTarget(async (t) => {
              if (r.prefix.length > 0) await t.ledger.ingest(r.prefix);
              const fake = fakeNode();
              // The ledger's report of what gossip handed it (why an accepted message was not stored).
              const reports: IngestReport[] = [];
              const realIngest = t.ledger.ingest.bind(t.ledger);
              t.ledger.ingest = async (batch) => {
                const rep = await realIngest(batch);
                reports.push(rep);
                return rep;
              };
              // One message at a time here: no predecessor is being judged concurrently, so no wait.
              const g = startEntryGossip(fake.node, t.ledger, TOPIC, undefined, { links: { waitMs: 0 } });
              let storedAny = false;
              try {
                const v = fake.topicValidators.get(TOPIC)!;
                const before = await observe(t.ledger, t.store);
                const forksBefore = t.ledger.forks().length;
                const pre = verdict.ok ? await t.ledger.precheck(verdict.h) : 'unknown';
                // Gossip forwards only entries whose prev is the stored entry at seq - 1 (or seq 1).
                const linked =
                  verdict.ok &&
                  (verdict.h.entry.seq === 1 ||
                    toHex(
                      (await t.store.getEntry(toHex(verdict.h.entry.author), verdict.h.entry.seq - 1))?.hash ??
                        new Uint8Array(0)
                    ) === toHex(verdict.h.entry.prev));
                const res = await timed(`gossip ${m.kind}`, async () => {
                  const x = await v(peer('fuzz'), msg(r.bytes));
                  await g.settled();
                  return x;
                });
                const duplicate = verdict.ok && r.prefix.some((h) => toHex(h.hash) === toHex(verdict.h.hash));
                // A signed entry this node can judge and the causal rules refuse is Ignored (not
                // forwarded, the carrier not blamed); the ledger must then refuse it too.
                const unlinked = verdict.ok && !duplicate && !linked;
                const causallyRefused = verdict.ok && !duplicate && linked && pre === 'refused';
                const expected =
                  duplicate || unlinked || causallyRefused
                    ? TopicValidatorResult.Ignore
                    : verdict.ok
                      ? TopicValidatorResult.Accept
                      : TopicValidatorResult.Reject;
                expect(res).toBe(expected);
                if (causallyRefused)
                  expect((await realIngest([r.bytes])).added, 'precheck refused, ledger took it').toBe(0);
                const after = await observe(t.ledger, t.store);
                const stored = after.count - before.count;
                storedAny = stored > 0;
                bump(
                  findings.outcomes,
                  `gossip:${m.kind}:${res}${res === 'accept' ? (stored ? '+stored' : '-refused') : ''}`
                );
                if (res === TopicValidatorResult.Accept && stored === 0) {
                  const code = reports.length > 0 ? outcomeOf(reports[0]) : 'not-ingested';
                  bump(findings.gossipAcceptedLedgerRefused, code);
                }
                // A fork (a valid twin) voids its author's feed: the state changes, nothing is stored.
                const forked = t.ledger.forks().length > forksBefore;
                storedAny ||= forked;
                if (stored === 0 && !forked) expect(after).toEqual(before);
                expect(t.ledger.stats().skippedPayloads).toBe(0);
                expect(
                  g.stats.ingestFailed +
                    g.stats.accepted +
                    g.stats.rejected +
                    g.stats.duplicates +
                    g.stats.causalIgnored +
                    g.stats.unlinked
                ).toBeGreaterThan(0);
              } finally {
                g.stop();
              }
              await checkHonest(t, `g${findings.cases}`, reopenWanted(storedAny));
            });
          }),
          params(RUNS.gossip, 1)
        );
      },
      TIMEOUT
    ),

  snapshot: () =>
    it(
      'snapshot import: all or nothing with typed errors, an honest report, stored = shown',
      async () => {
        await fc.assert(
          fc.asyncProperty(mutationArb(w), async (m) => {
            findings.cases++;
            const r = await realize(w, m);
            const verdict = await oracle(r.bytes);
            const au = w[m.au ?? 'e'];
            const others = [w.a, w.b].filter((x) => x !== au);
            const lines = [...others.flatMap((x) => x.entries), ...r.prefix].map((h) => ({
              author: toHex(h.entry.author),
              seq: h.entry.seq,
              hash: toHex(h.hash),
              bytes: encodeEntry(h.entry)
            }));
            const mseq = verdict.ok ? verdict.h.entry.seq : m.k + 1;
            const mhash = toHex(sha256(r.bytes));
            lines.push({ author: au.hex, seq: mseq, hash: mhash, bytes: r.bytes });
            const heads = others.map((x) => ({
              author: x.hex,
              seq: x.entries.length,
              hash: toHex(x.entries.at(-1)!.hash)
            }));
            heads.push({ author: au.hex, seq: mseq, hash: mhash });
            let file: Uint8Array;
            try {
              file = rawFullSnapshot(genesis, au.hex, heads, lines);
            } catch {
              return; // heads the header builder refuses (e.g. seq 0): not a file anyone can make
            }
            await withTarget(async (t) => {
              const before = await observe(t.ledger, t.store);
              let report;
              try {
                report = await timed(`snapshot ${m.kind}`, () => importLedgerSnapshot(t.ledger, file));
              } catch (e) {
                expect(isTypedError(e), `untyped import error: ${String(e)}`).toBe(true);
                bump(findings.outcomes, `snapshot:${m.kind}:throw:${(e as { code: string }).code}`);
                expect(await observe(t.ledger, t.store)).toEqual(before);
                await checkHonest(t, `s${findings.cases}`, reopenWanted(false));
                return;
              }
              // A file with an entry that fails verification must be refused whole.
              expect(verdict.ok, 'import accepted a file with an unverifiable entry').toBe(true);
              const after = await observe(t.ledger, t.store);
              bump(findings.outcomes, `snapshot:${m.kind}:ok:a${report.added}r${report.rejected}`);
              expect(after.count - before.count, 'report.added is what was stored').toBe(report.added);
              expect(report.added + report.skipped + report.rejected, 'every line accounted for').toBe(lines.length);
              expect(t.ledger.stats().skippedPayloads).toBe(0);
              if (report.added > 0 && report.rejected > 0) {
                bump(findings.outcomes, 'snapshot:partial-import');
                findings.samples.set('snapshot:partial-import', JSON.stringify({ m, report }));
              }
              await checkHonest(t, `s${findings.cases}`, reopenWanted(report.added > 0));
            });
          }),
          params(RUNS.snapshot, 2)
        );
      },
      TIMEOUT
    ),

  converge: () =>
    it(
      'convergence: the same accepted entries in any order, duplicated and batched, give the same state',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(mutationArb(w), { minLength: 1, maxLength: 3 }),
            fc.integer(),
            async (ms, orderSeed) => {
              findings.cases++;
              const l1 = await target(w);
              const l2 = await target(w);
              try {
                for (const m of ms) {
                  const r = await realize(w, m);
                  await l1.ledger.ingest(r.prefix);
                  const rep = await timed(`converge ${m.kind}`, () => l1.ledger.ingest([r.bytes]));
                  checkRejections(rep.rejected);
                }
                await l1.ledger.ingest(w.c.entries);
                // The fork evidence l1 holds is part of what it was given (it voids feeds, §6.1).
                const accepted = [...l1.log, ...l1.ledger.forks().flatMap((f) => [f.a, f.b])];
                const rand = mulberry(orderSeed);
                const dups = accepted.filter(() => rand() < 0.3);
                const order = shuffle([...accepted, ...dups], rand);
                let known = false;
                while (order.length > 0) {
                  const batch = order.splice(0, 1 + Math.floor(rand() * 4));
                  const rep = await l2.ledger.ingest(batch);
                  // A void author's entries may be refused here (the evidence itself, or a child of the
                  // variant not seen yet, which does not link); its feed is void either way.
                  const cut = new Set(l1.ledger.forks().map((f) => f.author));
                  // An entry depending on a void feed may be refused until the fork is known here;
                  // it is judged again once it is (the final states are compared below).
                  const onVoid = (x: { author?: string; seq?: number }) =>
                    accepted.some(
                      (h) =>
                        toHex(h.entry.author) === x.author &&
                        h.entry.seq === x.seq &&
                        h.entry.deps.some((d) => cut.has(d.author))
                    );
                  const refused = rep.rejected.filter(
                    (x) => x.author === undefined || (!cut.has(x.author) && !onVoid(x))
                  );
                  if (knownBug(refused)) known = true;
                  else expect(refused, 'an accepted entry was refused elsewhere').toEqual([]);
                }
                if (known) {
                  bump(findings.outcomes, 'converge:KNOWN-BUG-records-rule-batch');
                  findings.samples.set('converge:KNOWN-BUG', JSON.stringify(ms));
                  return;
                }
                bump(findings.outcomes, `converge:accepted=${accepted.length}`);
                expect(l2.ledger.stats().pending).toBe(0);
                // Entries stored before a void was known stay in the store (never applied, never
                // signed twice): what must agree is the canonical part (PROTOCOL.md §6).
                const canon = async (l: Ctx) => ({
                  ...(await observe(l.ledger, l.store)),
                  count: l.ledger.stats().entries
                });
                expect(await canon(l2)).toEqual(await canon(l1));
                expect(JSON.stringify(l2.ledger.conflicts())).toBe(JSON.stringify(l1.ledger.conflicts()));
              } finally {
                await l1.ledger.close();
                await l2.ledger.close();
              }
            }
          ),
          { seed: (SEED + 3) | 0, numRuns: RUNS.converge, endOnFailure: false }
        );
      },
      TIMEOUT
    ),

  order: () =>
    it(
      'order: hostile and honest entries in any order, batched, re-delivered, give the verdicts and state of the canonical order',
      async () => {
        await fc.assert(
          fc.asyncProperty(mutationArb(w), fc.integer(), async (m, orderSeed) => {
            findings.cases++;
            const r = await realize(w, m);
            const items: Uint8Array[] = [
              ...r.prefix.map((h) => encodeEntry(h.entry)),
              r.bytes,
              ...w.c.entries.map((h) => encodeEntry(h.entry))
            ];
            const ref = await target(w);
            const l3 = await target(w);
            try {
              const rejections: { message: string }[] = [];
              for (const x of items) {
                const rep = await ref.ledger.ingest([x]);
                checkRejections(rep.rejected);
                rejections.push(...rep.rejected);
              }
              const rand = mulberry(orderSeed);
              // Three delivery rounds (as sync would re-offer what is missing): entries dropped
              // while pending come back; the verdicts must not depend on the order.
              for (let round = 0; round < 3; round++) {
                const order = shuffle([...items, ...items.filter(() => rand() < 0.3)], rand);
                while (order.length > 0) {
                  const rep = await timed(`order ${m.kind}`, () =>
                    l3.ledger.ingest(order.splice(0, 1 + Math.floor(rand() * 4)))
                  );
                  checkRejections(rep.rejected);
                  rejections.push(...rep.rejected);
                }
              }
              bump(findings.outcomes, `order:${m.kind}:stored=${ref.log.length}`);
              const [o3, oRef] = [await observe(l3.ledger, l3.store), await observe(ref.ledger, ref.store)];
              if (JSON.stringify(o3) !== JSON.stringify(oRef) && knownBug(rejections)) {
                bump(findings.outcomes, 'order:KNOWN-BUG-records-rule-batch');
                findings.samples.set('order:KNOWN-BUG', JSON.stringify(m));
                return;
              }
              expect(await observe(l3.ledger, l3.store)).toEqual(await observe(ref.ledger, ref.store));
              expect(JSON.stringify(l3.ledger.conflicts())).toBe(JSON.stringify(ref.ledger.conflicts()));
              expect(l3.ledger.stats().skippedPayloads).toBe(0);
            } finally {
              await ref.ledger.close();
              await l3.ledger.close();
            }
          }),
          { seed: (SEED + 4) | 0, numRuns: RUNS.order, endOnFailure: false }
        );
      },
      TIMEOUT
    )
};

// ---- gossip plumbing (as in test/unit/entry-gossip.test.ts) ----

const TOPIC = 'tabula/fuzz/entries';

function fakeNode() {
  const topicValidators = new Map<string, TopicValidatorFn>();
  const pubsub = {
    topicValidators,
    subscribe: () => undefined,
    unsubscribe: () => undefined,
    publish: async () => ({ recipients: [] })
  };
  return { node: { services: { pubsub } } as unknown as GossipNode, topicValidators };
}

const peer = (id: string): PeerId => ({ toString: () => id }) as unknown as PeerId;
const msg = (data: Uint8Array): Message => ({ type: 'unsigned', topic: TOPIC, data });
