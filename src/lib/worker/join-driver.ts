// Runs the verified join (src/lib/core/join, PROTOCOL.md §13) in the worker.
//
// Serving: every node registers `/tabula/<net16>/join/1.0.0` and serves its ledger's snapshot
// (answering `join-unavailable` while it lacks a head entry).
//
// Joining (default for light replicas; InitConfig.join false, the page's `?join=0`, opts out):
// a node whose ledger is EMPTY at start
// asks the peers that announce the join protocol in identify (over direct connections: WebRTC
// peers, an archive relay) and installs the state they agree on. Until the join installs a
// state, or gives up, `gate` stays pending: the runtime holds sync and gossip ingest back on it,
// because a light snapshot can only bootstrap a ledger with no history. It gives up (and the
// node replays entries through sync as before) after JOIN_WAIT_MS without an install, at the
// first local write, or as soon as every peer asked says it holds nothing to join (an empty
// ledger, or one that cannot serve a snapshot: joiner state 'nothing'). An unverified install
// keeps re-verifying as peers come, also after the node restarts (its ledger is still marked
// unverified).
import type { IdentifyResult, Libp2p, PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Ledger } from '../core/ledger.js';
import type { IdentityKeys } from '../core/types.js';
import { toHex } from '../core/bytes.js';
import { Joiner, noJoinMarks, type JoinMarks, type JoinPhase } from '../core/join/joiner.js';
import { installJoinSnapshot, ledgerClaim, ledgerJoinSource } from '../core/join/ledger-source.js';
import { operatorKeys } from '../core/join/signing.js';
import { JoinStreamClient, JoinStreamServer } from '../platform/join-protocol.js';
import type { PeerGuard } from './peer-guard.js';

/**
 * A fresh node waits this long for a join to install a state before replaying entries instead,
 * ms; a join still asking or downloading, or that has reached no serving peer yet, may go on up
 * to JOIN_MAX_MS.
 */
export const JOIN_WAIT_MS = 15_000;
/** A join gives up after this in any case (a slow or stalling source, no serving peer), ms. */
export const JOIN_MAX_MS = 60_000;
/** Joiner tick period, ms. */
export const JOIN_TICK_MS = 250;

const NO_MARKS: JoinMarks = noJoinMarks();

/**
 * Whether a node should join (when its ledger is empty): a light replica, unless the page opted
 * out (`join: false`) or its own copy holds own entries (`ownSignedUpTo` > 0, worker/own-copy.ts).
 * Those entries are restored into the ledger, but may wait in its pending buffer for other
 * authors' entries, leaving it empty; every snapshot would then hold this node's own key, which a
 * light install refuses (`storeLightState`), so a join would only hold sync and gossip back for up
 * to JOIN_MAX_MS while writes wait for the own feed.
 */
export function joinWanted(opts: { role: Ledger['role']; join?: boolean; ownSignedUpTo: number }): boolean {
  return opts.join !== false && opts.role === 'light' && opts.ownSignedUpTo === 0;
}

/** status().join: where the verified join is (`off`: this node did not join, it replays entries). */
export interface JoinInfo {
  state: JoinPhase | 'off' | 'gave-up';
  /** The state is verified: replayed from signed entries, or joined with a quorum or an operator checkpoint. */
  verified: boolean;
  peersAsked: number;
  agreeing: number;
  /** Snapshot bytes received, of totalBytes. */
  bytes: number;
  totalBytes: number;
  /** Entries covered by the installed snapshot (claimed ones while loading). */
  entries: number;
  lastError: string | null;
  /** When (Date.now(), epoch ms) the join first reached each step; all null when it did not join. */
  marks: JoinMarks;
}

export interface JoinDriverInit {
  ledger: Ledger;
  keys: IdentityKeys;
  /** `/tabula/<net16>/join/1.0.0`. */
  protocol: string;
  /** Join when the ledger is empty (else only serve). */
  enabled: boolean;
  onChange: () => void;
  /**
   * The site's relays: their PeerId is the relay's transport key, not the archive replica's ledger
   * key that signs their votes, so their votes are not bound to the PeerId (still one per key).
   */
  isRelay?: (peer: string) => boolean;
  waitMs?: number;
  maxMs?: number;
}

type Node = Pick<Libp2p, 'handle' | 'unhandle' | 'getConnections' | 'addEventListener' | 'removeEventListener'>;

export class JoinDriver {
  /** Resolves once sync and gossip may write to the ledger (join installed, gave up, or never ran). */
  readonly gate: Promise<void>;
  private release!: () => void;
  private readonly joiner: Joiner | null;
  private node: Node | null = null;
  private client: JoinStreamClient | null = null;
  private guard: Pick<PeerGuard, 'offence' | 'book'> | null = null;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private waitTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly offAppend: () => void;
  private gaveUp = false;

  constructor(private readonly init: JoinDriverInit) {
    this.gate = new Promise((r) => (this.release = r));
    const { ledger } = init;
    const stats = ledger.stats({ digest: false });
    const empty = ledger.heads().length === 0 && stats.entries === 0 && !stats.unverified;
    // A state a join installed unverified in an earlier run is checked again as peers come.
    this.joiner = (init.enabled && empty) || stats.unverified ? this.createJoiner() : null;
    if (stats.unverified) this.joiner!.resumeUnverified(stats.entries);
    // Any entry stored before the join installs (a local write, an imported snapshot) ends it.
    this.offAppend = ledger.onAppend(() => this.giveUp());
    if (this.joiner === null || stats.unverified) this.release();
    else this.waitTimer = setTimeout(() => this.waited(), init.waitMs ?? JOIN_WAIT_MS);
  }

  /** Registers the protocol on a (new) libp2p node; a joining node also starts asking its peers. */
  async setup(node: Node, guard: Pick<PeerGuard, 'offence' | 'book'>): Promise<void> {
    this.detach();
    this.node = node;
    this.guard = guard;
    const server = new JoinStreamServer({
      networkId: this.init.ledger.networkId,
      seed: this.init.keys.seed,
      voter: toHex(this.init.keys.publicKey),
      source: ledgerJoinSource(this.init.ledger),
      onPeerRejected: (peer, err) => guard.offence(peer, err.code)
    });
    await server.register(node, this.init.protocol);
    if (!this.joining()) return;
    this.client = new JoinStreamClient(node, this.init.protocol, (peer, bytes) => this.joiner!.receive(peer, bytes));
    node.addEventListener('peer:identify', this.onIdentify);
    node.addEventListener('peer:disconnect', this.onDisconnect);
    this.tickTimer = setInterval(() => this.tick(), JOIN_TICK_MS);
    this.joiner!.start();
  }

  status(): JoinInfo {
    const verified = !this.init.ledger.stats({ digest: false }).unverified;
    if (this.joiner === null)
      return {
        state: 'off',
        verified,
        peersAsked: 0,
        agreeing: 0,
        bytes: 0,
        totalBytes: 0,
        entries: 0,
        lastError: null,
        marks: NO_MARKS
      };
    const s = this.joiner.status();
    return {
      state: this.gaveUp ? 'gave-up' : s.state,
      verified: s.loaded ? s.verified : verified && this.gaveUp,
      peersAsked: s.peersAsked,
      agreeing: s.agreeing,
      bytes: s.bytes,
      totalBytes: s.totalBytes,
      entries: s.loaded ? s.entries : s.expectedEntries,
      lastError: s.lastError,
      marks: s.marks
    };
  }

  /** Sync and gossip must wait for `gate` (a join is running and has not installed or given up). */
  get waiting(): boolean {
    return this.joiner !== null && !this.gaveUp && !this.joiner.status().loaded;
  }

  async stop(): Promise<void> {
    clearTimeout(this.waitTimer);
    this.offAppend();
    const node = this.node;
    this.detach();
    await node?.unhandle(this.init.protocol).catch(() => undefined);
    // The gate stays as it is: a stopped node must not start sync or gossip any more.
  }

  // ---- internals ----

  private createJoiner(): Joiner {
    const { ledger } = this.init;
    return new Joiner({
      networkId: ledger.networkId,
      genesis: ledger.genesis,
      operators: operatorKeys(ledger.genesis.operators),
      send: (peer, bytes) => this.client?.send(peer, bytes),
      now: () => Date.now(),
      randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
      install: async (snap, verdict) => {
        await installJoinSnapshot(ledger, snap, verdict);
        clearTimeout(this.waitTimer);
        this.release();
        this.init.onChange();
      },
      local: () => ledgerClaim(ledger),
      onVerified: () => void ledger.markVerified().then(this.init.onChange, () => undefined),
      peerScore: (peer) => this.guard?.book.score(peer) ?? 0,
      voterOf: (peer) => {
        if (this.init.isRelay?.(peer) === true) return undefined;
        const key = peerIdFromString(peer).publicKey;
        return key?.type === 'Ed25519' ? toHex(key.raw) : undefined;
      },
      onPeerRejected: (peer, err) => this.guard?.offence(peer, err.code)
    });
  }

  /** Still asking: not given up, and not settled as verified. */
  private joining(): boolean {
    const s = this.joiner?.status();
    return s !== undefined && !this.gaveUp && !(s.loaded && s.verified);
  }

  private tick(): void {
    if (!this.joining()) return this.detach();
    const before = this.joiner!.status();
    this.joiner!.tick();
    const after = this.joiner!.status();
    // Every peer asked holds nothing to join: replay at once. (A refused round waits for new
    // peers, bounded by JOIN_WAIT_MS.)
    if (after.state === 'nothing') return this.giveUp();
    if (after.state !== before.state || after.bytes !== before.bytes) this.init.onChange();
  }

  /**
   * Ends a join that has not installed a state (no install in time, a local write or an import
   * came first, or nobody holds a state): sync replays entries instead. No-op once installed.
   */
  giveUp(): void {
    if (this.joiner === null || this.joiner.status().loaded || this.gaveUp) return;
    this.gaveUp = true;
    clearTimeout(this.waitTimer);
    this.detach();
    this.release();
    this.init.onChange();
  }

  /**
   * JOIN_WAIT_MS passed: give up, unless a round is asking or downloading, or no peer serving the
   * join was reached yet (a direct link can take long; without one sync has no peer either):
   * then wait up to JOIN_MAX_MS.
   */
  private waited(): void {
    const s = this.joiner?.status();
    const busy = s?.state === 'asking' || s?.state === 'fetching';
    if (!busy && s?.rounds !== 0) return this.giveUp();
    const left = (this.init.maxMs ?? JOIN_MAX_MS) - (this.init.waitMs ?? JOIN_WAIT_MS);
    this.waitTimer = setTimeout(() => this.giveUp(), Math.max(0, left));
  }

  private detach(): void {
    clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    this.node?.removeEventListener('peer:identify', this.onIdentify);
    this.node?.removeEventListener('peer:disconnect', this.onDisconnect);
    this.client?.closeAll();
    this.client = null;
  }

  private readonly onIdentify = (ev: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols, connection } = ev.detail;
    if (!this.joining() || !protocols.includes(this.init.protocol) || connection.limits != null) return;
    this.joiner!.addPeer(peerId.toString());
    this.init.onChange();
  };

  private readonly onDisconnect = (ev: CustomEvent<PeerId>): void => {
    const peer = ev.detail.toString();
    this.client?.close(peer);
    this.joiner?.removePeer(peer);
  };
}
