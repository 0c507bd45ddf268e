// The serving side of the verified join (PROTOCOL.md §13): answers an `ask` with a vote (its
// claim signed with the node's identity key over the joiner's nonce) and `get` requests with
// chunks of the snapshot it claimed. Snapshots are kept by heads root (JOIN_SERVE_CACHE of
// them), so a download started before the node's state moved on can still finish.
import { LedgerError } from '../errors.js';
import { bytesEqual } from '../bytes.js';
import { decodeJoinMessage, encodeJoinMessage } from './codec.js';
import type { AskMsg, Checkpoint, GetMsg, JoinClaim, JoinMsg } from './messages.js';
import { signVote } from './signing.js';
import { claimKey } from './tally.js';
import { JoinWrongNetworkError } from './errors.js';
import { JOIN_CHUNK_BYTES, JOIN_PROTOCOL_VERSION, JOIN_SERVE_CACHE } from './constants.js';

/** A snapshot a node serves: its claim, the body (snapshot.ts) and, if it has one, an operator checkpoint of it. */
export interface ServedSnapshot {
  claim: JoinClaim;
  feeds: number;
  body: Uint8Array;
  checkpoint?: Checkpoint | null;
}

/** Where a server's snapshots come from (ledger-source.ts adapts a Ledger). */
export interface JoinSource {
  /** The snapshot of the node's state now; undefined when it cannot serve one (e.g. it lacks head entries). */
  snapshot(): Promise<ServedSnapshot | undefined>;
}

export interface JoinServerOptions {
  networkId: Uint8Array;
  /** Identity seed (signs votes) and its public key, hex (the voter). */
  seed: Uint8Array;
  voter: string;
  source: JoinSource;
  send: (peer: string, bytes: Uint8Array) => void;
  /** A peer sent a malformed message or asked for another network. */
  onPeerRejected?: (peer: string, error: LedgerError) => void;
  cacheSize?: number;
}

export interface JoinServerStats {
  asks: number;
  chunks: number;
  bytesOut: number;
}

export class JoinServer {
  private readonly cache = new Map<string, ServedSnapshot>();
  readonly stats: JoinServerStats = { asks: 0, chunks: 0, bytesOut: 0 };

  constructor(private readonly o: JoinServerOptions) {}

  /** Handles one message from a joiner; never throws for the peer's faults (answers an error). */
  async receive(peer: string, bytes: Uint8Array): Promise<void> {
    let m: JoinMsg;
    try {
      m = decodeJoinMessage(bytes);
    } catch (e) {
      const err = e as LedgerError;
      this.o.onPeerRejected?.(peer, err);
      return this.error(peer, 0, err.code, err.message);
    }
    if (m.t === 'ask') return this.onAsk(peer, m);
    if (m.t === 'get') return this.onGet(peer, m);
  }

  private async onAsk(peer: string, m: AskMsg): Promise<void> {
    if (m.version !== JOIN_PROTOCOL_VERSION || !bytesEqual(m.network, this.o.networkId)) {
      const err = new JoinWrongNetworkError();
      this.o.onPeerRejected?.(peer, err);
      return this.error(peer, 0, err.code, err.message);
    }
    const snap = await this.o.source.snapshot();
    if (snap === undefined) return this.error(peer, 0, 'join-unavailable', 'no snapshot to serve');
    this.remember(snap);
    this.stats.asks++;
    const sig = await signVote(this.o.seed, this.o.networkId, m.nonce, snap.claim);
    const cp = snap.checkpoint && claimKey(snap.checkpoint) === claimKey(snap.claim) ? snap.checkpoint : null;
    this.send(peer, {
      t: 'claim',
      nonce: m.nonce,
      ...snap.claim,
      feeds: snap.feeds,
      size: snap.body.length,
      voter: this.o.voter,
      sig,
      checkpoint: cp && { signer: cp.signer, time: cp.time, sig: cp.sig }
    });
  }

  private onGet(peer: string, m: GetMsg): void {
    const snap = this.cache.get(m.root);
    if (snap === undefined) return this.error(peer, m.rid, 'join-gone', 'snapshot no longer held');
    const total = snap.body.length;
    if (m.offset >= total || m.maxBytes < 1)
      return this.error(peer, m.rid, 'join-protocol', 'range outside the snapshot');
    const end = Math.min(total, m.offset + Math.min(m.maxBytes, JOIN_CHUNK_BYTES));
    this.stats.chunks++;
    this.send(peer, { t: 'chunk', rid: m.rid, total, offset: m.offset, bytes: snap.body.subarray(m.offset, end) });
  }

  private remember(snap: ServedSnapshot): void {
    this.cache.delete(snap.claim.headsRoot);
    this.cache.set(snap.claim.headsRoot, snap);
    while (this.cache.size > (this.o.cacheSize ?? JOIN_SERVE_CACHE)) this.cache.delete(this.cache.keys().next().value!);
  }

  private error(peer: string, rid: number, code: string, message: string): void {
    this.send(peer, { t: 'error', rid, code, message });
  }

  private send(peer: string, m: JoinMsg): void {
    const bytes = encodeJoinMessage(m);
    this.stats.bytesOut += bytes.length;
    this.o.send(peer, bytes);
  }
}
