// A seeded simulation of the verified join (src/lib/core/join): honest replicas serving their
// ledgers through JoinServer, lying peers serving forged snapshots, and one joining ledger running
// a Joiner, all over a SimNet (random latency, so messages overtake each other).
import * as Y from 'yjs';
import { SimNet, type LinkOptions } from './net.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { canonicalState, stateDigest } from '../../src/lib/core/state/digest.js';
import type { Genesis, HashedEntry } from '../../src/lib/core/types.js';
import type { LedgerError } from '../../src/lib/core/errors.js';
import {
  Joiner,
  JoinServer,
  decodeJoinSnapshot,
  encodeJoinSnapshot,
  installJoinSnapshot,
  ledgerClaim,
  ledgerJoinSource,
  type Checkpoint,
  type JoinClaim,
  type JoinSource,
  type JoinVerdict,
  type ServedSnapshot
} from '../../src/lib/core/join/index.js';

export const JOIN_TICK_MS = 250;

/** How a lying peer lies. */
export type Lie =
  /** Serves a forged state (one record deleted) under a claim that matches it: only votes expose it. */
  | { kind: 'forge'; deleteKey: string }
  /** Signs the honest claim but serves the forged bytes: verification exposes it. */
  | { kind: 'bait'; deleteKey: string };

export interface PeerSpec {
  id: string;
  /** Identity key byte (two peers with the same byte share one key: a Sybil). */
  key: number;
  lie?: Lie;
  /** Score the joiner gives the peer (higher: asked first). */
  score?: number;
  /** A checkpoint of the honest claim this peer attaches, signed by this key byte. */
  checkpointBy?: number;
  /** 'empty': a fresh node with an empty ledger; 'unavailable': it cannot serve (join-unavailable). */
  holds?: 'empty' | 'unavailable';
}

export interface JoinWorld {
  net: SimNet;
  genesis: Genesis;
  /** Ledgers holding the shared history (one per distinct key of the honest peers). */
  replicas: Map<string, TestLedger>;
  joiner: Joiner;
  joined: TestLedger;
  servers: Map<string, JoinServer>;
  rejections: { peer: string; code: string }[];
  installs: JoinVerdict[];
  reverified: JoinVerdict[];
  /** Adds a peer (connects it to the joiner). */
  connect(spec: PeerSpec): Promise<void>;
  disconnect(id: string): void;
  /** Runs until `stop()` or `ms` of virtual time pass. */
  run(stop: () => boolean, ms: number): Promise<boolean>;
}

/** A ledger holding `writers` authors' records (written and exchanged), on `genesis`. */
async function history(
  keyByte: number,
  writers: TestLedger[],
  genesis: Genesis,
  extra: readonly HashedEntry[] = []
): Promise<TestLedger> {
  const tl = await openLedger(memoryLocation(), keyByte, { genesis });
  for (const w of writers) await tl.ledger.ingest(w.log.map((h) => encodeEntry(h.entry)));
  if (extra.length > 0) await tl.ledger.ingest(extra.map((h) => encodeEntry(h.entry)));
  return tl;
}

/** `writers` authors write `perWriter` records each (distinct keys, so no dependencies). */
async function writeHistory(genesis: Genesis, perWriter: number): Promise<TestLedger[]> {
  const writers: TestLedger[] = [];
  for (let w = 0; w < 3; w++) {
    const tl = await openLedger(memoryLocation(), 200 + w, { genesis });
    for (let i = 0; i < perWriter; i++) await tl.ledger.put(`w${w}-k${i}`, { n: i, by: w });
    writers.push(tl);
  }
  return writers;
}

/** The honest snapshot with `key` deleted from the records: a consistent but forged body and claim. */
function forged(honest: ServedSnapshot, key: string, maxEntryBytes: number): ServedSnapshot {
  const body = decodeJoinSnapshot(honest.body, maxEntryBytes);
  const doc = new Y.Doc({ gc: false });
  try {
    Y.applyUpdate(doc, body.state);
    doc.getMap('records').delete(key);
    const state = canonicalState(doc);
    const claim = { ...honest.claim, stateDigest: stateDigest(doc) };
    return { claim, feeds: honest.feeds, body: encodeJoinSnapshot({ ...body, state }) };
  } finally {
    doc.destroy();
  }
}

function lyingSource(honest: JoinSource, lie: Lie, maxEntryBytes: number): JoinSource {
  return {
    async snapshot() {
      const h = (await honest.snapshot())!;
      const f = forged(h, lie.deleteKey, maxEntryBytes);
      // bait: the honest claim, the forged bytes (same heads, so the same heads root to fetch by).
      return lie.kind === 'forge' ? f : { ...f, claim: h.claim };
    }
  };
}

export interface WorldOptions {
  seed: number;
  link?: LinkOptions;
  genesis: Genesis;
  operators: Uint8Array[];
  perWriter?: number;
  chunkBytes?: number;
  /** More entries every honest replica holds (e.g. a fork or a clientID collision: void feeds). */
  extra?: readonly HashedEntry[];
  /** Signs checkpoints for peers with `checkpointBy` (key byte → seed). */
  signCheckpoint?: (keyByte: number, claim: JoinClaim) => Promise<Checkpoint>;
}

export async function joinWorld(o: WorldOptions): Promise<JoinWorld> {
  const net = new SimNet(o.seed, o.link ?? { loss: 0, dup: 0, latencyMin: 5, latencyMax: 80 });
  const writers = await writeHistory(o.genesis, o.perWriter ?? 8);
  const joined = await openLedger(memoryLocation(), 99, { genesis: o.genesis });
  const scores = new Map<string, number>();
  const world = {} as JoinWorld;
  const connected = new Set<string>();
  const voterOf = new Map<string, string>();
  const joiner = new Joiner({
    networkId: joined.ledger.networkId,
    genesis: o.genesis,
    operators: o.operators,
    now: net.now,
    randomBytes: net.randomBytes,
    chunkBytes: o.chunkBytes ?? 1024,
    peerScore: (p) => scores.get(p) ?? 0,
    voterOf: (p) => voterOf.get(p),
    send: (to, bytes) =>
      net.transmit('joiner', to, () =>
        connected.has(to) ? world.servers.get(to)?.receive('joiner', bytes) : undefined
      ),
    install: async (snap, verdict) => {
      world.installs.push(verdict);
      await installJoinSnapshot(joined.ledger, snap, verdict);
    },
    local: () => ledgerClaim(joined.ledger),
    onVerified: (v) => {
      world.reverified.push(v);
      void joined.ledger.markVerified();
    },
    onPeerRejected: (peer: string, e: LedgerError) => world.rejections.push({ peer, code: e.code })
  });
  Object.assign(world, {
    net,
    genesis: o.genesis,
    replicas: new Map(),
    joiner,
    joined,
    servers: new Map(),
    rejections: [],
    installs: [],
    reverified: [],
    async connect(spec: PeerSpec) {
      let tl =
        spec.holds === 'empty'
          ? await openLedger(memoryLocation(), spec.key, { genesis: o.genesis })
          : world.replicas.get(String(spec.key));
      if (!tl) {
        tl = await history(spec.key, writers, o.genesis, o.extra);
        world.replicas.set(String(spec.key), tl);
      }
      const cpKey = spec.checkpointBy;
      const honest = ledgerJoinSource(tl.ledger, {
        checkpoint: cpKey === undefined ? undefined : (claim) => o.signCheckpoint!(cpKey, claim)
      });
      const unavailable: JoinSource = { snapshot: () => Promise.resolve(undefined) };
      const source = spec.lie
        ? lyingSource(honest, spec.lie, o.genesis.maxEntryBytes)
        : spec.holds === 'unavailable'
          ? unavailable
          : honest;
      const server = new JoinServer({
        networkId: tl.ledger.networkId,
        seed: tl.keys.seed,
        voter: toHex(tl.keys.publicKey),
        source,
        send: (to, bytes) =>
          net.transmit(spec.id, to, () => (connected.has(spec.id) ? joiner.receive(spec.id, bytes) : undefined))
      });
      world.servers.set(spec.id, server);
      scores.set(spec.id, spec.score ?? 0);
      voterOf.set(spec.id, toHex(tl.keys.publicKey));
      connected.add(spec.id);
      joiner.addPeer(spec.id);
    },
    disconnect(id: string) {
      connected.delete(id);
      joiner.removePeer(id);
    },
    run(stop: () => boolean, ms: number) {
      return net.run(stop, net.time + ms);
    }
  });
  const tick = (): void => {
    joiner.tick();
    net.schedule(JOIN_TICK_MS, tick);
  };
  net.schedule(net.rand() * JOIN_TICK_MS, tick);
  return world;
}

/** The records every honest replica holds (they all hold the same history). */
export function honestRecords(w: JoinWorld): string {
  return JSON.stringify([...w.replicas.values()][0].ledger.records());
}
