// Issue 11 row 4: verified ingest of received entries (Ledger.ingest of encoded, signed entries:
// decode, verify, chain and causal checks, store, apply to the Yjs state) next to batched
// WebCrypto Ed25519 verification alone of the same entries. Runs in a dedicated worker.
import { generateKeys } from '../../src/lib/core/ed25519.js';
import { encodeEntry, signingBytes } from '../../src/lib/core/entry.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import type { IngestReport } from '../../src/lib/core/ledger-ingest.js';
import { MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { LEDGER_VERIFY_CONCURRENCY } from '../../src/lib/core/constants.js';
import { toHex } from '../../src/lib/core/bytes.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { verifiedEntries } from '../../src/lib/core/verified-entries.js';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import type { BenchOutput, Series } from './protocol.js';
import { VALUE_BYTES } from './writes.js';

const genesis = defaultGenesis();
let dbSeq = 0;

// Generated entries by "count/authors": a later call (a CPU profile of the ingest alone) reuses them.
const made = new Map<string, HashedEntry[]>();

/** `count` entries from `authors` authors (each its own feed), interleaved round robin by seq. */
async function makeEntries(count: number, authors: number): Promise<HashedEntry[]> {
  const key = `${count}/${authors}`;
  const cached = made.get(key);
  if (cached) return cached;
  const out = await generate(count, authors);
  made.set(key, out);
  return out;
}

async function generate(count: number, authors: number): Promise<HashedEntry[]> {
  const feeds: HashedEntry[][] = [];
  const per = Math.ceil(count / authors);
  for (let a = 0; a < authors; a++) {
    const ledger = await Ledger.open({ store: new MemoryLedgerStore(), genesis, keys: await generateKeys() });
    const feed: HashedEntry[] = [];
    ledger.onAppend((h) => feed.push(h));
    for (let i = 0; i < per; i++) await ledger.put(`a${a}-k${i}`, 'x'.repeat(VALUE_BYTES));
    await ledger.close();
    feeds.push(feed);
  }
  const out: HashedEntry[] = [];
  for (let i = 0; i < per; i++) for (const f of feeds) if (f[i]) out.push(f[i]);
  return out.slice(0, count);
}

function ab(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

/** The comparator: WebCrypto verify of every (key, signature, signed bytes), 256 in flight. */
async function bareVerify(entries: HashedEntry[], chunk: number): Promise<Series> {
  const id = networkId(genesis);
  const items = entries.map((h) => ({ pub: h.entry.author, sig: ab(h.entry.sig), msg: ab(signingBytes(h.entry, id)) }));
  const keys = new Map<string, CryptoKey>();
  const key = async (pub: Uint8Array) => {
    const hex = toHex(pub);
    let k = keys.get(hex);
    if (!k) keys.set(hex, (k = await crypto.subtle.importKey('raw', ab(pub), 'Ed25519', false, ['verify'])));
    return k;
  };
  const ms: number[] = [];
  for (let i = 0; i + chunk <= items.length; i += chunk) {
    const start = performance.now();
    for (let j = i; j < i + chunk; j += LEDGER_VERIFY_CONCURRENCY) {
      const part = items.slice(j, Math.min(i + chunk, j + LEDGER_VERIFY_CONCURRENCY));
      const ok = await Promise.all(
        part.map(async (t) => crypto.subtle.verify('Ed25519', await key(t.pub), t.sig, t.msg))
      );
      if (ok.includes(false)) throw new Error('bare verification failed');
    }
    ms.push(performance.now() - start);
  }
  return { name: 'WebCrypto Ed25519 verify alone (batched)', ms, perSample: chunk };
}

/**
 * Throws unless a chunk's every entry was stored and applied: a rate (and a ratio) is only for
 * entries ingested in full, not refused, held as pending, dropped or taken as duplicates.
 */
export function ingestedAll(report: IngestReport, chunk: number): void {
  if (report.rejected.length > 0)
    throw new Error(`ingest rejected ${report.rejected.length}: ${report.rejected[0].code}`);
  if (report.added !== chunk)
    throw new Error(
      `ingest stored ${report.added} of ${chunk} entries (pending ${report.pending}, dropped ${report.dropped}, duplicates ${report.duplicates}, forks ${report.forks})`
    );
}

async function tabulaIngest(encoded: Uint8Array[], chunk: number, dexie: boolean): Promise<Series> {
  // Each variant is a receiver that has not seen these entries: forget the ones this worker
  // verified already (the process-wide cache would let every ingest after the first, and the
  // profile run, skip all the signature checks).
  verifiedEntries.clear();
  const store = dexie
    ? await DexieLedgerStore.open({ name: `bench-ingest-${Date.now()}-${dbSeq++}` })
    : new MemoryLedgerStore();
  const ledger = await Ledger.open({ store, genesis, keys: await generateKeys() });
  const ms: number[] = [];
  for (let i = 0; i + chunk <= encoded.length; i += chunk) {
    const start = performance.now();
    const report = await ledger.ingest(encoded.slice(i, i + chunk));
    ms.push(performance.now() - start);
    ingestedAll(report, chunk);
  }
  await ledger.close();
  const where = dexie ? 'Dexie store on IndexedDB' : 'memory store';
  return { name: `tabula Ledger.ingest (${where})`, ms, perSample: chunk };
}

/**
 * Row 4: `count` entries from `authors` authors, ingested in chunks of `chunk` encoded entries.
 * `dexieOnly: 1` runs only the Dexie-store ingest (for a CPU profile of it alone).
 */
export async function benchIngest(p: Record<string, number>): Promise<BenchOutput> {
  const count = p.count ?? 5000;
  const authors = p.authors ?? 1;
  const chunk = p.chunk ?? 500;
  const genStart = performance.now();
  const entries = await makeEntries(count, authors);
  const genMs = performance.now() - genStart;
  const encoded = entries.map((h) => encodeEntry(h.entry));
  if (p.dexieOnly === 1) return { series: [await tabulaIngest(encoded, chunk, true)], notes: [] };
  const bare = await bareVerify(entries, chunk);
  const dexie = await tabulaIngest(encoded, chunk, true);
  const memory = await tabulaIngest(encoded, chunk, false);
  const size = encoded.reduce((s, e) => s + e.length, 0) / encoded.length;
  return {
    series: [dexie, memory, bare],
    notes: [
      `${count} entries from ${authors} author(s), ${size.toFixed(0)} B each encoded, ingested ${chunk} per call`,
      `generating them (signing, not measured) took ${genMs.toFixed(0)} ms`
    ]
  };
}
