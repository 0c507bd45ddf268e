// A cluster of real Ledgers (memory store) wired through SyncEngines over a SimNet. Connections
// follow the network: a link that cannot talk (partition, offline) is closed on both ends, and
// opened again (fresh sessions, hello, exchange) when it can. Optional lossy gossip pushes each
// local write to connected peers, like the gossipsub topic does.
import { SimNet, type LinkOptions } from './net.js';
import { memoryLocation, openLedger, type Location, type TestLedger } from '../helpers/ledger-nodes.js';
import { SyncEngine, type SyncEngineOptions } from '../../src/lib/core/sync/engine.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import type { Genesis } from '../../src/lib/core/types.js';
import type { LedgerError } from '../../src/lib/core/errors.js';
import { PeerBook } from '../../src/lib/core/peers/score.js';
import type { LedgerOptions } from '../../src/lib/core/ledger.js';

export const SIM_TICK_MS = 250;

export interface SimNode {
  id: string;
  tl: TestLedger;
  engine: SyncEngine;
  honest: boolean;
  /** Connected peers and the epoch of each connection. */
  links: Map<string, number>;
  rejections: { peer: string; code: string }[];
  /** Peer scores and bans, when the node runs them (a ban closes the link until it ends). */
  book?: PeerBook;
}

export interface ClusterOptions {
  seed: number;
  link: LinkOptions;
  gossip?: boolean;
  periodMs?: number;
  timeoutMs?: number;
}

export interface AddNodeOptions {
  genesis?: Genesis;
  honest?: boolean;
  /** Replaces the node's replica (hostile peers wrap the honest one). */
  wrapReplica?: (r: SyncReplica, tl: TestLedger) => SyncReplica;
  /** Replaces the node's outgoing sync messages (hostile peers); null drops the message. */
  wrapSend?: (to: string, bytes: Uint8Array) => Uint8Array | null;
  /** Score peers and ban offenders (src/lib/core/peers), as the worker's sync driver does. */
  scoring?: boolean;
  /** Called with what each finished Merkle exchange found (SyncEngineOptions.onCompared). */
  onCompared?: SyncEngineOptions['onCompared'];
  /** Ledger options (e.g. a light replica's role and budget). */
  ledger?: Pick<LedgerOptions, 'role' | 'budgetBytes' | 'compactEvery'>;
  /** Where the node's ledger lives (default: a fresh memory disk); reopenNode() opens it again. */
  location?: Location;
}

export class Cluster {
  readonly net: SimNet;
  readonly nodes = new Map<string, SimNode>();
  private epoch = 0;

  constructor(readonly opts: ClusterOptions) {
    this.net = new SimNet(opts.seed, opts.link);
  }

  private readonly spec = new Map<string, { keyByte: number; o: AddNodeOptions }>();

  async addNode(id: string, keyByte: number, o: AddNodeOptions = {}): Promise<SimNode> {
    const loc = o.location ?? memoryLocation();
    this.spec.set(id, { keyByte, o: { ...o, location: loc } });
    const tl = await openLedger(loc, keyByte, {
      ...(o.genesis ? { genesis: o.genesis } : {}),
      ...o.ledger
    });
    const base = ledgerReplica(tl.ledger);
    const replica = o.wrapReplica ? o.wrapReplica(base, tl) : base;
    const node = {} as SimNode;
    const engineOpts: SyncEngineOptions = {
      replica,
      now: this.net.now,
      randomBytes: this.net.randomBytes,
      periodMs: this.opts.periodMs ?? 3000,
      exchange: { timeoutMs: this.opts.timeoutMs ?? 1500 },
      gap: { timeoutMs: this.opts.timeoutMs ?? 1500 },
      send: (to, bytes) => {
        const out = o.wrapSend ? o.wrapSend(to, bytes) : bytes;
        if (out) this.sendSync(node, to, out);
      },
      onPeerRejected: (peer: string, e: LedgerError) => {
        node.rejections.push({ peer, code: e.code });
        // A ban hangs up (after the current message), and the link stays closed while it lasts.
        if (node.book?.offence(peer, e.code)) this.net.schedule(0, () => this.refreshLinks());
      },
      ...(o.onCompared ? { onCompared: o.onCompared } : {}),
      ...(o.scoring
        ? {
            onPeerOutcome: (peer, outcome) => node.book?.record(peer, outcome),
            peerScore: (peer) => node.book?.score(peer) ?? 0
          }
        : {})
    };
    Object.assign(node, {
      id,
      tl,
      engine: new SyncEngine(engineOpts),
      honest: o.honest ?? true,
      links: new Map(),
      rejections: [],
      book: o.scoring ? new PeerBook({ now: this.net.now }) : undefined
    });
    this.nodes.set(id, node);
    const offset = this.net.rand() * SIM_TICK_MS;
    const tick = (): void => {
      node.engine.tick();
      this.net.schedule(SIM_TICK_MS, tick);
    };
    this.net.schedule(offset, tick);
    return node;
  }

  /** Closes a node's engine and ledger (the device is shut: offline, its links closed, not compared). */
  async closeNode(id: string): Promise<void> {
    const n = this.nodes.get(id)!;
    n.honest = false;
    this.net.offline.add(id);
    this.refreshLinks();
    n.engine.close();
    await n.tl.ledger.close();
  }

  /** Reopens a closed node from the same store (a new ledger and engine) and brings it online. */
  async reopenNode(id: string): Promise<SimNode> {
    const { keyByte, o } = this.spec.get(id)!;
    const old = this.nodes.get(id)!;
    this.nodes.delete(id);
    const fresh = await this.addNode(id, keyByte, o);
    fresh.book = old.book;
    this.net.offline.delete(id);
    this.refreshLinks();
    return fresh;
  }

  honest(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.honest);
  }

  /** Opens links that can talk and closes those that cannot (connection events of a real node). */
  refreshLinks(): void {
    const ids = [...this.nodes.keys()];
    for (const a of ids)
      for (const b of ids) {
        if (a >= b) continue;
        const na = this.nodes.get(a)!;
        const nb = this.nodes.get(b)!;
        const up = na.links.has(b);
        const banned = na.book?.isBanned(b) === true || nb.book?.isBanned(a) === true;
        const can = this.net.canTalk(a, b) && !banned;
        if (up && !can) {
          na.links.delete(b);
          nb.links.delete(a);
          na.engine.removePeer(b);
          nb.engine.removePeer(a);
        } else if (!up && can) {
          const e = ++this.epoch;
          na.links.set(b, e);
          nb.links.set(a, e);
          na.engine.addPeer(b, { initiator: true, rttMs: 50 });
          nb.engine.addPeer(a, { initiator: false, rttMs: 50 });
        }
      }
  }

  /** A local write on `id`; gossiped (lossy) to connected peers when gossip is on. */
  async write(id: string, key: string, value: unknown): Promise<void> {
    const n = this.nodes.get(id)!;
    const h = await n.tl.ledger.put(key, value);
    if (!this.opts.gossip) return;
    const bytes = encodeEntry(h.entry);
    for (const [peer, epoch] of n.links) {
      this.net.transmit(id, peer, async () => {
        const target = this.nodes.get(peer)!;
        if (target.links.get(id) !== epoch) return;
        const report = await target.tl.ledger.ingest([bytes]);
        // Anti-entropy trigger: an entry whose predecessor is missing.
        if (report.pending > 0) target.engine.syncWith(id);
      });
    }
  }

  /** Heads roots of the honest nodes are all equal and nothing is missing or in flight. */
  converged(): boolean {
    const hs = this.honest();
    const allHonest = hs.length === this.nodes.size;
    const root = headsRoot(hs[0].tl.ledger.heads());
    for (const n of hs) {
      if (headsRoot(n.tl.ledger.heads()) !== root) return false;
      // A hostile author's entries that only the hostile peer holds stay "missing" forever (it
      // never serves them validly); only a cluster of honest nodes must have nothing missing.
      if (allHonest && n.engine.status().missing > 0) return false;
    }
    return true;
  }

  /** Runs until converged (checked every 100 ms of virtual time) or `maxTime`. */
  async settle(maxTime: number): Promise<boolean> {
    let done = false;
    const check = (): void => {
      done = this.converged();
      if (!done) this.net.schedule(100, check);
    };
    this.net.schedule(0, check);
    return this.net.run(() => done, this.net.time + maxTime);
  }

  private sendSync(from: SimNode, to: string, bytes: Uint8Array): void {
    const epoch = from.links.get(to);
    if (epoch === undefined) return;
    this.net.transmit(from.id, to, () => {
      const target = this.nodes.get(to);
      if (!target || target.links.get(from.id) !== epoch) return;
      return target.engine.receive(from.id, bytes);
    });
  }
}

/**
 * Awaits `p` (an on-demand read on `node`, e.g. a feed history page), moving virtual time on only
 * while one of its range requests (or its wait for a hello) is in flight: its local work
 * (signature checks of fetched entries) takes no virtual time. Gives up after 120 s virtual.
 */
export async function driveOnDemand<T>(c: Cluster, node: SimNode, p: Promise<T>): Promise<T> {
  let done = false;
  const settled = p.finally(() => (done = true));
  const limit = c.net.time + 120_000;
  while (!done && c.net.time < limit) {
    if (node.engine.onDemandInFlight > 0) await c.net.run(() => true, limit);
    else await new Promise((r) => setImmediate(r));
  }
  return settled;
}
