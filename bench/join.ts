// `tsx bench/join.ts`: cold join of a light replica (src/lib/core/join) against replaying every
// entry, in the same run. For N entries from 20 authors (few keys each, so the state stays small
// next to the history): the server's snapshot build (heads' entries + canonical state), the
// joiner's verification (signatures of the head entries, heads root, state digest and clocks)
// plus install into an empty ledger, and, as the comparator, Ledger.ingest of every entry into an
// empty ledger (what sync's gap fill does). Transport time is not included in either.
// BENCH_JOIN_N sets N (default 20,000). Not a test.
import '../src/lib/platform/polyfills.js';
import { defaultGenesis } from '../src/lib/core/genesis.js';
import { generateKeys } from '../src/lib/core/ed25519.js';
import { Ledger } from '../src/lib/core/ledger.js';
import { MemoryLedgerStore } from '../src/lib/core/memory-store.js';
import { encodeEntry } from '../src/lib/core/entry.js';
import type { HashedEntry } from '../src/lib/core/types.js';
import { installJoinSnapshot, ledgerJoinSource, verifyJoinSnapshot } from '../src/lib/core/join/index.js';

const N = Number(process.env.BENCH_JOIN_N ?? 20_000);
const AUTHORS = 20;
const BATCH = 64;
const genesis = defaultGenesis();

async function empty(): Promise<Ledger> {
  return Ledger.open({ store: new MemoryLedgerStore(), genesis, keys: await generateKeys() });
}

async function history(): Promise<HashedEntry[]> {
  const out: HashedEntry[] = [];
  for (let a = 0; a < AUTHORS; a++) {
    const ledger = await empty();
    ledger.onAppend((h) => out.push(h));
    for (let i = 0; i < N / AUTHORS; i++) await ledger.put(`a${a}k${i % 200}`, { i, note: 'x'.repeat(40) });
    await ledger.close();
  }
  return out;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

const entries = (await history()).map((h) => encodeEntry(h.entry));
const full = await empty();
const [, replayMs] = await timed(async () => {
  for (let i = 0; i < entries.length; i += BATCH) await full.ingest(entries.slice(i, i + BATCH));
});
const [snap, buildMs] = await timed(async () => (await ledgerJoinSource(full).snapshot())!);
const joined = await empty();
const [, joinMs] = await timed(async () => {
  const v = await verifyJoinSnapshot(snap.body, snap.claim, { networkId: full.networkId, genesis });
  const verdict = { verified: true, by: 'quorum', asked: 3, agreeing: 3, claim: snap.claim, checkpoint: null } as const;
  await installJoinSnapshot(joined, v, verdict);
});
if (JSON.stringify(joined.records()) !== JSON.stringify(full.records())) throw new Error('joined state differs');
const ms = (x: number): string => `${Math.round(x)} ms`;
console.log(`join bench: ${N} entries, ${AUTHORS} authors, ${full.records().length} records`);
console.log(`  snapshot body             ${snap.body.length.toLocaleString('en')} bytes`);
console.log(`  server build              ${ms(buildMs)}`);
console.log(`  joiner verify + install   ${ms(joinMs)}`);
console.log(`  replay every entry        ${ms(replayMs)}  (Ledger.ingest, batches of ${BATCH})`);
console.log(`  join is ${(replayMs / joinMs).toFixed(1)}x faster than replay (transport excluded)`);
