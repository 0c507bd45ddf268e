// Catch-up with a receiver whose own ingest is slow (issue 11 row 6, issue 7): at n = 100k a
// quarter of the catch-up bytes were entries sent twice, because range requests timed out while
// their answers waited behind this node's ingest of earlier answers from the same peer, and were
// asked again. Here a node catches up from a peer while each of its ingests takes most of a
// request timeout (virtual time, timers firing meanwhile); no entry may be carried twice. A peer
// that claims the history but never answers must still time out and be asked elsewhere. Merkle
// exchange steps wait behind the same ingest: the honest peer's exchanges must not time out either.
//
// The driver is this file's own: each ordered link delivers one message after the previous one
// was handled, as the worker's stream read loop does, and the virtual clock moves only while the
// slow node ingests (its timers fire during it) or when nothing is left to deliver. SEED=n replays.
import { describe, expect, it } from 'vitest';
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import { decodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { sha256 } from '../../src/lib/core/hash.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { seeds } from './scenario.js';

const TICK_MS = 250;
const TIMEOUT_MS = 1500;
/** Each ingest of the slow node: two thirds of a request timeout. */
const INGEST_MS = 1000;
const WRITES = 600;

interface Node {
  id: string;
  tl: TestLedger;
  engine: SyncEngine;
}

class SlowWorld {
  now = 0;
  readonly nodes = new Map<string, Node>();
  /** `from>to` -> messages waiting, in order. */
  private readonly links = new Map<string, Uint8Array[]>();
  /** Entries carried per hash, from each sender to `watch`. */
  readonly carried = new Map<string, number>();
  readonly timeouts = new Map<string, number>();
  private readonly random: () => number;

  constructor(
    seed: number,
    private readonly watch: string
  ) {
    this.random = mulberry32(seed);
  }

  async add(id: string, keyByte: number, o: { slow?: boolean; silent?: boolean } = {}): Promise<Node> {
    const tl = await openLedger(memoryLocation(), keyByte);
    const base = ledgerReplica(tl.ledger);
    const replica: SyncReplica = o.slow
      ? {
          ...base,
          ingest: async (entries) => {
            // The node is busy ingesting: time passes and its timers (and everyone's) fire.
            for (let t = 0; t < INGEST_MS; t += TICK_MS) this.step();
            return base.ingest(entries);
          }
        }
      : base;
    const node: Node = {
      id,
      tl,
      engine: new SyncEngine({
        replica,
        now: () => this.now,
        randomBytes: (n) => Uint8Array.from({ length: n }, () => Math.floor(this.random() * 256)),
        periodMs: 3000,
        exchange: { timeoutMs: TIMEOUT_MS },
        gap: { timeoutMs: TIMEOUT_MS },
        send: (to, bytes) => this.send(id, to, bytes, o.silent === true),
        onPeerOutcome: (peer, outcome) => {
          if (outcome === 'timeout' && id === this.watch) this.timeouts.set(peer, (this.timeouts.get(peer) ?? 0) + 1);
        }
      })
    };
    this.nodes.set(id, node);
    return node;
  }

  connect(a: string, b: string): void {
    this.links.set(`${a}>${b}`, []);
    this.links.set(`${b}>${a}`, []);
    this.nodes.get(a)!.engine.addPeer(b, { initiator: true });
    this.nodes.get(b)!.engine.addPeer(a, { initiator: false });
  }

  /** Delivers messages (one link after another) and moves time when none is waiting. */
  async run(done: () => boolean, maxMs: number): Promise<boolean> {
    while (!done() && this.now < maxMs) {
      let delivered = false;
      for (const [key, queue] of this.links) {
        const bytes = queue.shift();
        if (bytes === undefined) continue;
        const [from, to] = key.split('>');
        await this.nodes.get(to)!.engine.receive(from, bytes);
        delivered = true;
      }
      if (!delivered) this.step();
    }
    return done();
  }

  private step(): void {
    this.now += TICK_MS;
    for (const n of this.nodes.values()) n.engine.tick();
  }

  private send(from: string, to: string, bytes: Uint8Array, silent: boolean): void {
    const m = decodeSyncMessage(bytes);
    if (m.t === 'entries') {
      if (silent) return; // claims the history, never serves it
      if (to === this.watch)
        for (const e of m.entries) {
          const key = toHex(sha256(e));
          this.carried.set(key, (this.carried.get(key) ?? 0) + 1);
        }
    }
    this.links.get(`${from}>${to}`)?.push(bytes);
  }

  /** Entries carried to the watched node more than once (each extra copy counted). */
  duplicates(): number {
    let n = 0;
    for (const c of this.carried.values()) n += c - 1;
    return n;
  }
}

const count = (n: Node): number => n.tl.ledger.stats({ digest: false }).entries;
const exchangesFailed = (n: Node, peer: string): number =>
  n.engine.status().peers.find((p) => p.peer === peer)?.exchangesFailed ?? 0;

describe('catch-up with a slow receiver', () => {
  it('a node whose every ingest takes 2/3 of a request timeout gets no entry twice', async () => {
    for (const seed of seeds(3, 4200)) {
      const w = new SlowWorld(seed, 'b');
      const a = await w.add('a', 1);
      const b = await w.add('b', 2, { slow: true });
      for (let i = 0; i < WRITES; i++) await a.tl.ledger.put(`k${i % 50}`, i);
      w.connect('b', 'a');
      const ok = await w.run(() => count(b) === WRITES, 600_000);
      console.log(
        `SEED=${seed} slow receiver: ${count(b)}/${WRITES} entries in ${w.now} ms virtual, ${w.duplicates()} carried twice, ${w.timeouts.get('a') ?? 0} timeouts`
      );
      expect(ok, `SEED=${seed}`).toBe(true);
      expect(w.duplicates(), `SEED=${seed}: entries carried more than once`).toBe(0);
      expect(w.carried.size, `SEED=${seed}`).toBe(WRITES);
      // Neither a range request nor a Merkle exchange step of the honest peer times out (its
      // exchange steps wait behind this node's ingest too: 5 timed out before peer-wait.ts).
      expect(w.timeouts.get('a') ?? 0, `SEED=${seed}: timeouts of the honest peer`).toBe(0);
      expect(exchangesFailed(b, 'a'), `SEED=${seed}`).toBe(0);
    }
  }, 120_000);

  it('while it ingests slowly from one peer, a peer that never answers still times out and its ranges come from the other', async () => {
    for (const seed of seeds(3, 4300)) {
      const w = new SlowWorld(seed, 'b');
      const a = await w.add('a', 1);
      const s = await w.add('s', 3, { silent: true });
      const b = await w.add('b', 2, { slow: true });
      for (let i = 0; i < WRITES; i++) {
        const h = await a.tl.ledger.put(`k${i % 50}`, i);
        await s.tl.ledger.ingest([h]);
      }
      w.connect('b', 's');
      w.connect('b', 'a');
      const ok = await w.run(() => count(b) === WRITES, 600_000);
      console.log(
        `SEED=${seed} slow receiver and a silent peer: ${count(b)}/${WRITES} entries in ${w.now} ms virtual, ${w.duplicates()} carried twice, timeouts ${JSON.stringify(Object.fromEntries(w.timeouts))}`
      );
      expect(ok, `SEED=${seed}`).toBe(true);
      expect(w.timeouts.get('s') ?? 0, `SEED=${seed}: the silent peer's requests time out`).toBeGreaterThan(0);
      expect(w.timeouts.get('a') ?? 0, `SEED=${seed}: timeouts of the honest peer`).toBe(0);
      expect(w.duplicates(), `SEED=${seed}`).toBe(0);
    }
  }, 120_000);
});
