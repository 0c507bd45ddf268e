// Acknowledged local writes under load, in Node: one node's ledger as the worker runs it (the
// worker's store kind and role, its sync engine following the ledger, its entry gossip) with a
// writer that keeps at most WRITE_LOAD_IN_FLIGHT puts unanswered, as the S10 soak's writers do,
// while other authors' entries arrive through the real gossip validator (decode, verify, chain
// link, precheck, batched Ledger.ingest) at a fixed rate, as on every node of S10. Prints
// acknowledged writes/s, the acknowledgement latency (p50/p99) and the process CPU time per
// acknowledged write and per ingested entry. Run it under `node --cpu-prof` to see where the time
// goes (bench/profile-top.ts summarises a .cpuprofile).
// Run: npx tsx bench/write-load.ts [memory|dexie] [writes] [remoteAuthors] [remotePerSecond]
// Env: WRITE_LOAD_IN_FLIGHT (64), WRITE_LOAD_RATE (local writes offered per second; 0 = as fast
// as acknowledged), WRITE_LOAD_ROLE (light: the worker's default | full).
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { defaultGenesis } from '../src/lib/core/genesis.js';
import { generateKeys } from '../src/lib/core/ed25519.js';
import { Ledger } from '../src/lib/core/ledger.js';
import { MemoryLedgerStore } from '../src/lib/core/memory-store.js';
import { encodeEntry } from '../src/lib/core/entry.js';
import { SyncEngine } from '../src/lib/core/sync/engine.js';
import { ledgerReplica } from '../src/lib/core/sync/ledger-replica.js';
import type { LedgerStore } from '../src/lib/core/storage.js';
import { DexieLedgerStore } from '../src/lib/platform/dexie-store.js';
import { startEntryGossip, type GossipNode } from '../src/lib/worker/entry-gossip.js';
import { quantile } from './browser/stats.js';

const kind = process.argv[2] ?? 'memory';
const WRITES = Number(process.argv[3] ?? 3000);
const REMOTE_AUTHORS = Number(process.argv[4] ?? 0);
const REMOTE_PER_SEC = Number(process.argv[5] ?? 0);
const IN_FLIGHT = Number(process.env.WRITE_LOAD_IN_FLIGHT ?? 64);
const RATE = Number(process.env.WRITE_LOAD_RATE ?? 0);
const ROLE = process.env.WRITE_LOAD_ROLE === 'full' ? 'full' : 'light';
const TOPIC = 'bench/entries';
const genesis = defaultGenesis();

const open = async (name: string): Promise<LedgerStore> =>
  kind === 'dexie'
    ? DexieLedgerStore.open({ name, indexedDB: new IDBFactory(), IDBKeyRange })
    : new MemoryLedgerStore();

/** Encoded entries of `authors` other nodes, `perAuthor` each, interleaved as gossip delivers them. */
async function remoteMessages(authors: number, perAuthor: number): Promise<Uint8Array[]> {
  const feeds: Uint8Array[][] = [];
  for (let a = 0; a < authors; a++) {
    const l = await Ledger.open({ store: new MemoryLedgerStore(), genesis, keys: await generateKeys(), role: 'full' });
    const out: Uint8Array[] = [];
    for (let i = 0; i < perAuthor; i += 100) {
      const n = Math.min(100, perAuthor - i);
      const hs = await Promise.all(Array.from({ length: n }, (_, j) => l.put(`r${a}-${i + j}`, { n: i + j })));
      out.push(...hs.map((h) => encodeEntry(h.entry)));
    }
    feeds.push(out);
    await l.close();
  }
  const mixed: Uint8Array[] = [];
  for (let i = 0; i < perAuthor; i++) for (const f of feeds) mixed.push(f[i]);
  return mixed;
}

/** A pubsub that only records the topic validator (the gossip module's view of libp2p). */
function fakePubsub(): { node: GossipNode; validator: () => TopicValidatorFn } {
  const validators = new Map<string, TopicValidatorFn>();
  const pubsub = {
    topicValidators: validators,
    subscribe: () => undefined,
    unsubscribe: () => undefined,
    publish: async () => ({ recipients: [] })
  };
  return { node: { services: { pubsub } } as unknown as GossipNode, validator: () => validators.get(TOPIC)! };
}

// Remote load sized for the whole run at the given rate (the local writes bound its length).
const expectedMs = RATE > 0 ? (WRITES / RATE) * 1000 : (WRITES / 1000) * 1000;
const perAuthor = REMOTE_AUTHORS > 0 ? Math.ceil((REMOTE_PER_SEC * expectedMs * 2) / 1000 / REMOTE_AUTHORS) : 0;
const remote = REMOTE_AUTHORS > 0 ? await remoteMessages(REMOTE_AUTHORS, perAuthor) : [];
const ledger = await Ledger.open({ store: await open('write-load'), genesis, keys: await generateKeys(), role: ROLE });
const engine = new SyncEngine({
  replica: ledgerReplica(ledger),
  send: () => undefined,
  now: () => Date.now(),
  randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n))
});
const pubsub = fakePubsub();
const gossip = startEntryGossip(pubsub.node, ledger, TOPIC);
// Warm-up (JIT, key import), not measured.
await Promise.all(Array.from({ length: 50 }, (_, i) => ledger.put(`warm-${i}`, i)));

const latencies: number[] = [];
let started = 0;
let acked = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const relay = { toString: () => 'relay' } as unknown as PeerId;
let sent = 0;
const feeder =
  remote.length === 0
    ? undefined
    : setInterval(() => {
        const due = Math.min(remote.length, Math.floor(((performance.now() - t0) * REMOTE_PER_SEC) / 1000));
        if (process.env.WL_TRACE === '1' && sent % 700 < 5 && sent < due)
          console.error(
            `t=${(performance.now() - t0).toFixed(0)} sent ${sent} accepted ${gossip.stats.accepted} dropped ${gossip.stats.dropped} unlinked ${gossip.stats.unlinked} acked ${acked}`
          );
        for (; sent < due; sent++) {
          const m: Message = { type: 'unsigned', topic: TOPIC, data: remote[sent] };
          void pubsub.validator()(relay, m);
        }
      }, 5);
let pacer: ReturnType<typeof setInterval> | undefined;
await new Promise<void>((resolve, reject) => {
  let inFlight = 0;
  const step = (): void => {
    const due = RATE > 0 ? Math.min(WRITES, Math.floor(((performance.now() - t0) * RATE) / 1000)) : WRITES;
    while (started < due && inFlight < IN_FLIGHT) {
      const i = started++;
      const t = performance.now();
      inFlight++;
      ledger.put(`key-${i}`, { n: i, label: `value ${i}` }).then(() => {
        inFlight--;
        latencies.push(performance.now() - t);
        if (++acked === WRITES) resolve();
        else if (RATE === 0) step();
      }, reject);
    }
  };
  if (RATE > 0) pacer = setInterval(step, 5);
  step();
});
clearInterval(pacer);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
clearInterval(feeder);
const stats = gossip.stats;
const queue = ledger.stats({ digest: false }).queue;
gossip.stop();
engine.close();
await ledger.close();
latencies.sort((a, b) => a - b);
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(
  `write-load ${kind} role=${ROLE}: ${WRITES} puts (${RATE > 0 ? `${RATE}/s offered` : 'closed loop'}, ${IN_FLIGHT} in flight); ` +
    `remote ${sent} offered from ${REMOTE_AUTHORS} authors at ${REMOTE_PER_SEC}/s, accepted ${stats.accepted}, ` +
    `dropped ${stats.dropped}, unlinked ${stats.unlinked}, duplicates ${stats.duplicates}, ingest failed ${stats.ingestFailed}\n` +
    `  ${Math.round((WRITES / ms) * 1000)} acknowledged/s; latency p50 ${quantile(latencies, 0.5).toFixed(1)} ms, ` +
    `p99 ${quantile(latencies, 0.99).toFixed(1)} ms; CPU ${((cpuMs / ms) * 100).toFixed(0)}% of one core, ` +
    `${(cpuMs / (WRITES + stats.accepted)).toFixed(3)} ms per entry (local + remote); wall ${ms.toFixed(0)} ms\n` +
    `  queue: ${queue.groups} groups, ${(queue.writes / Math.max(1, queue.groups)).toFixed(1)} writes each (max ${queue.maxGroup}); ` +
    `per group: wait ${(queue.waitMs / Math.max(1, queue.groups)).toFixed(1)} ms, prepare ${(queue.prepareMs / Math.max(1, queue.groups)).toFixed(1)} ms, ` +
    `commit ${(queue.commitMs / Math.max(1, queue.groups)).toFixed(1)} ms (max ${queue.maxCommitMs}); ` +
    `${queue.ingests} ingest steps, ${(queue.ingestMs / Math.max(1, queue.ingests)).toFixed(1)} ms each`
);
