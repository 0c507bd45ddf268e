// Received entries through Ledger.ingest in a Node node (memory store): CPU per entry with the
// crypto the relay and Node peers install now (libsodium Ed25519, node:crypto SHA-256:
// src/lib/platform/node-{ed25519,sha256}.ts) next to what they installed before 2026-12-02
// (node:crypto Ed25519 via nodeEd25519Impls.openssl, @noble/hashes SHA-256), in the same process:
// one warm-up ingest of each, then the two in the order now, before, before, now. Both take a
// compaction's state digest as this code does (WebCrypto when no platform SHA-256 is installed;
// before 2026-12-02 it was the JS one, synchronously). The workload is S10's shape: 8 authors
// writing round robin, 500 keys each overwritten, ingested 64 entries per call
// (GOSSIP_INGEST_BATCH), default compaction policy. Each ingest forgets the signatures verified
// before (a receiver that has not seen them).
// Run: npx tsx bench/node-ingest.ts [entries]
import '../src/lib/platform/polyfills.js';
import { generateKeys, setSyncSigner, setSyncVerifier } from '../src/lib/core/ed25519.js';
import { encodeEntry } from '../src/lib/core/entry.js';
import { defaultGenesis } from '../src/lib/core/genesis.js';
import { setSha256 } from '../src/lib/core/hash.js';
import { Ledger } from '../src/lib/core/ledger.js';
import { MemoryLedgerStore } from '../src/lib/core/memory-store.js';
import { GOSSIP_INGEST_BATCH } from '../src/lib/core/constants.js';
import type { HashedEntry } from '../src/lib/core/types.js';
import { verifiedEntries } from '../src/lib/core/verified-entries.js';
import { installNodeEd25519, nodeEd25519Impls, nodeEd25519Library } from '../src/lib/platform/node-ed25519.js';
import { installNodeSha256 } from '../src/lib/platform/node-sha256.js';

const COUNT = Number(process.argv[2] ?? 48_000); // S10: 8 nodes × 100 writes/s × 60 s
const AUTHORS = 8;
const KEYS_PER_AUTHOR = 500;
const genesis = defaultGenesis();

const installed = (): void => {
  installNodeEd25519();
  installNodeSha256();
};
const before = (): void => {
  setSyncSigner(nodeEd25519Impls.openssl.sign);
  setSyncVerifier(nodeEd25519Impls.openssl.verify);
  setSha256(undefined);
};

/** COUNT entries of AUTHORS feeds, interleaved round robin by seq, encoded. */
async function makeEntries(): Promise<Uint8Array[]> {
  installed();
  const per = Math.ceil(COUNT / AUTHORS);
  const feeds: HashedEntry[][] = [];
  for (let a = 0; a < AUTHORS; a++) {
    const ledger = await Ledger.open({ store: new MemoryLedgerStore(), genesis, keys: await generateKeys() });
    const feed: HashedEntry[] = [];
    ledger.onAppend((h) => feed.push(h));
    for (let i = 0; i < per; i += 100)
      await Promise.all(
        Array.from({ length: Math.min(100, per - i) }, (_, j) =>
          ledger.put(`a${a}-k${(i + j) % KEYS_PER_AUTHOR}`, 'x'.repeat(100))
        )
      );
    await ledger.close();
    feeds.push(feed);
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i < per; i++) for (const f of feeds) if (f[i]) out.push(encodeEntry(f[i].entry));
  return out.slice(0, COUNT);
}

/** CPU (user + system) µs per entry of one full ingest into a fresh ledger. */
async function ingestCpu(encoded: Uint8Array[]): Promise<number> {
  verifiedEntries.clear();
  const ledger = await Ledger.open({ store: new MemoryLedgerStore(), genesis, keys: await generateKeys() });
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < encoded.length; i += GOSSIP_INGEST_BATCH) {
    const chunk = encoded.slice(i, i + GOSSIP_INGEST_BATCH);
    const report = await ledger.ingest(chunk);
    if (report.added !== chunk.length) throw new Error(`node-ingest bench: stored ${report.added} of ${chunk.length}`);
  }
  const cpu = process.cpuUsage(cpu0);
  await ledger.close();
  return (cpu.user + cpu.system) / encoded.length;
}

const encoded = await makeEntries();
const warmUp = encoded.slice(0, Math.min(encoded.length, 4_000));
for (const arm of [before, installed]) {
  arm();
  await ingestCpu(warmUp); // JIT and caches warm for both before anything is measured
}
const ours: number[] = [];
const theirs: number[] = [];
for (const [arm, into] of [
  [installed, ours],
  [before, theirs],
  [before, theirs],
  [installed, ours]
] as const) {
  arm();
  into.push(await ingestCpu(encoded));
}
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
console.log(
  `Node Ledger.ingest, ${COUNT} entries of ${AUTHORS} authors (memory store, ${GOSSIP_INGEST_BATCH} per call): ` +
    `${mean(ours).toFixed(0)} µs of CPU an entry with ${nodeEd25519Library} Ed25519 and node:crypto SHA-256 (installed) vs ` +
    `${mean(theirs).toFixed(0)} µs with node:crypto Ed25519 and @noble/hashes SHA-256 (before) = ${(mean(theirs) / mean(ours)).toFixed(2)}× ` +
    `(runs: ${ours.map((x) => x.toFixed(0)).join(', ')} vs ${theirs.map((x) => x.toFixed(0)).join(', ')})`
);
