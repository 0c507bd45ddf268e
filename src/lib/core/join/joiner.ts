// The joining side of the verified join (PROTOCOL.md §13): asks up to JOIN_PEERS peers (best
// score first) for their signed claims, tallies one vote per author key, downloads the snapshot
// of the winning claim from the peers serving it (best first), recomputes everything from the
// bytes (verify.ts) and hands the verified snapshot to the driver to install.
//
// Outcomes of a round:
// - a claim backed by a valid operator checkpoint: download it at once; verified on its own;
// - JOIN_PEERS or more asked and >= 2/3 of them (distinct keys) agree: verified;
// - fewer peers available, all of them needed (>= 2/3) agree: installed, marked unverified; a
//   re-verification round runs once JOIN_PEERS peers are connected (JOIN_GATHER_MS after the
//   install if they connected during the download; and every JOIN_RETRY_MS);
// - peers that hold no state (an empty claim) or cannot serve one (`join-unavailable`) abstain:
//   they are left out of the count, which can only lower a verdict (to unverified), never raise
//   it; when every peer asked abstains the join ends in 'nothing' (the driver then replays);
// - otherwise refused: the peers asked are set aside and the next best ones are asked; with no
//   one left the joiner waits (state 'waiting'): a new peer starts a round JOIN_GATHER_MS later,
//   and after JOIN_RETRY_MS every connected peer may be asked again.
// A snapshot that fails verification is blamed on the peer that served it (onPeerRejected) and
// the next peer of the same claim serves it; when none is left the round is refused.
//
// Pure, like the sync engine: transport, clock and randomness are injected; the driver calls
// addPeer/removePeer on connection events, receive() per message and tick() every ~250 ms.
import type { Genesis } from '../types.js';
import { LedgerError } from '../errors.js';
import { bytesEqual } from '../bytes.js';
import { decodeJoinMessage, encodeJoinMessage } from './codec.js';
import type { Checkpoint, ChunkMsg, ClaimMsg, JoinClaim, JoinErrorMsg, JoinMsg } from './messages.js';
import { checkpointHolds, voteHolds } from './signing.js';
import { claimKey, tally, type Vote } from './tally.js';
import { verifyJoinSnapshot, type VerifiedSnapshot } from './verify.js';
import { JoinBadVoteError, JoinOversizedError, JoinProtocolError } from './errors.js';
import {
  JOIN_ASK_TIMEOUT_MS,
  JOIN_CHUNK_BYTES,
  JOIN_GATHER_MS,
  JOIN_MAX_INFLIGHT,
  JOIN_MAX_SNAPSHOT_BYTES,
  JOIN_MIN_SNAPSHOT_BYTES,
  JOIN_NONCE_BYTES,
  JOIN_PEERS,
  JOIN_PROTOCOL_VERSION,
  JOIN_REQUEST_TIMEOUT_MS,
  JOIN_RETRY_MS
} from './constants.js';

/** `nothing`: every peer asked answered that it holds no state to serve (empty, or join-unavailable). */
export type JoinPhase = 'idle' | 'asking' | 'fetching' | 'verified' | 'unverified' | 'waiting' | 'nothing';

/** How a snapshot (or the loaded state, on re-verification) was accepted. */
export interface JoinVerdict {
  verified: boolean;
  /** 'checkpoint': an operator signed it; 'quorum': >= 2/3 of JOIN_PEERS+ peers; 'few-peers': all of fewer peers (unverified). */
  by: 'checkpoint' | 'quorum' | 'few-peers';
  asked: number;
  /** Distinct voter keys agreeing. */
  agreeing: number;
  claim: JoinClaim;
  checkpoint: Checkpoint | null;
}

export interface JoinStatus {
  state: JoinPhase;
  /** The loaded state is verified (quorum or operator checkpoint). */
  verified: boolean;
  /** A snapshot was installed (verified or not). */
  loaded: boolean;
  /** Peers asked in the last round, and distinct keys agreeing on its best claim. */
  peersAsked: number;
  agreeing: number;
  /** Snapshot bytes received in the current (or last) download, and its size. */
  bytes: number;
  totalBytes: number;
  /** Entries covered by the installed snapshot (0 before), and those the download claims. */
  entries: number;
  expectedEntries: number;
  rounds: number;
  /** Rounds refused (no quorum, or no peer of the winning claim served matching bytes). */
  refused: number;
  lastError: string | null;
  /** When (JoinerOptions.now) the join first reached each step. */
  marks: JoinMarks;
}

/** When the join first reached each step (JoinerOptions.now; null until reached), for timing joins. */
export interface JoinMarks {
  /** The first join round sent its asks. */
  askedAt: number | null;
  /** A round's votes were tallied into a verdict: the download started. */
  agreedAt: number | null;
  /** Every byte of a snapshot received: its verification started. */
  downloadedAt: number | null;
  /** The snapshot checked (signatures, heads root, state digest): its install started. */
  checkedAt: number | null;
  /** The snapshot installed: the state is visible (verified or not). */
  installedAt: number | null;
  /** The loaded state verified (quorum or operator checkpoint), at install or on a re-verification. */
  verifiedAt: number | null;
}

/** Marks of a join that reached no step yet. */
export function noJoinMarks(): JoinMarks {
  return { askedAt: null, agreedAt: null, downloadedAt: null, checkedAt: null, installedAt: null, verifiedAt: null };
}

export interface JoinerOptions {
  networkId: Uint8Array;
  genesis: Genesis;
  /** Keys whose checkpoints verify a snapshot alone (the genesis operators; raw 32-byte keys). */
  operators: readonly Uint8Array[];
  send: (peer: string, bytes: Uint8Array) => void;
  now: () => number;
  randomBytes: (n: number) => Uint8Array;
  /** Installs a verified snapshot (e.g. Ledger.mergeLightSnapshot, marked unverified unless verdict.verified). */
  install: (snapshot: VerifiedSnapshot, verdict: JoinVerdict) => Promise<void>;
  /** The local (root, digest, entries) now, for re-verifying an unverified state; absent: never re-verified. */
  local?: () => JoinClaim;
  /** A re-verification found the loaded state held by a quorum (or an operator checkpoint). */
  onVerified?: (verdict: JoinVerdict) => void;
  /** Peer score (higher is better); peers are asked best first. */
  peerScore?: (peer: string) => number;
  /** The identity key (hex) a peer's votes must carry (its PeerId's key); absent: any key. */
  voterOf?: (peer: string) => string | undefined;
  /** A peer sent a bad vote, bytes not matching its claim, or a malformed message. */
  onPeerRejected?: (peer: string, error: LedgerError) => void;
  peers?: number;
  askTimeoutMs?: number;
  requestTimeoutMs?: number;
  retryMs?: number;
  gatherMs?: number;
  chunkBytes?: number;
  maxInflight?: number;
  maxSnapshotBytes?: number;
}

interface Ask {
  nonce: Uint8Array;
  deadline: number;
  done: boolean;
  /** Answered that it holds no state to serve (empty claim or `join-unavailable`): not counted. */
  abstained: boolean;
  vote: Vote | null;
  checkpoint: Checkpoint | null;
}

interface Round {
  id: number;
  mode: 'join' | 'reverify';
  asks: Map<string, Ask>;
}

interface Download {
  claim: JoinClaim;
  verdict: JoinVerdict;
  /** Peers serving the claim with the size each announced, best first; `idx` is the current one. */
  sources: { peer: string; size: number }[];
  idx: number;
  buf: Uint8Array;
  next: number;
  received: number;
  inflight: Map<number, { offset: number; len: number; deadline: number }>;
  verifying: boolean;
  /** Peers of the round, set aside when the round is refused. */
  asked: string[];
}

export class Joiner {
  private readonly connected = new Set<string>();
  private readonly tried = new Set<string>();
  private round: Round | null = null;
  private download: Download | null = null;
  private phase: JoinPhase = 'idle';
  private loaded = false;
  private verified = false;
  private nextRoundAt = Infinity;
  private rid = 0;
  private roundIds = 0;
  private readonly st = {
    peersAsked: 0,
    agreeing: 0,
    entries: 0,
    refused: 0,
    rounds: 0,
    lastError: null as string | null
  };
  private readonly marks: JoinMarks = noJoinMarks();

  constructor(private readonly o: JoinerOptions) {}

  // ---- driver calls ----

  /** Starts joining with the peers connected so far (more may be added later). */
  start(): void {
    if (this.phase === 'idle') this.startRound('join');
  }

  /**
   * Instead of joining: the ledger holds an unverified state installed before (by a join in an
   * earlier run of the node, covering `entries`); it is checked again as peers come, as right
   * after an unverified install. No-op unless idle.
   */
  resumeUnverified(entries: number): void {
    if (this.phase !== 'idle') return;
    this.loaded = true;
    this.verified = false;
    this.phase = 'unverified';
    this.st.entries = entries;
    this.nextRoundAt = this.reverifyAt();
  }

  addPeer(peer: string): void {
    // Only a peer not connected yet arms a round: the driver calls this on every identify, and a
    // peer identifying again and again made an unverified node run a round every 0.5-5 s.
    if (this.connected.has(peer)) return;
    this.connected.add(peer);
    if (this.round || this.download) return;
    // A new peer: a round soon, once the peers connecting with it had a moment to arrive.
    const soon = this.o.now() + (this.o.gatherMs ?? JOIN_GATHER_MS);
    const join = this.phase === 'waiting' && !this.tried.has(peer);
    const reverify = this.phase === 'unverified' && this.connected.size >= this.peerCount();
    if (join || reverify) this.nextRoundAt = Math.min(this.nextRoundAt, soon);
  }

  removePeer(peer: string): void {
    this.connected.delete(peer);
    const a = this.round?.asks.get(peer);
    if (a && !a.done) {
      a.done = true;
      this.maybeFinish();
    }
    const d = this.download;
    if (d && !d.verifying && d.sources[d.idx]?.peer === peer) this.nextSource(null);
  }

  /** Timeouts and retries. Call every ~250 ms. */
  tick(): void {
    const now = this.o.now();
    if (this.round) {
      for (const a of this.round.asks.values()) if (!a.done && now >= a.deadline) a.done = true;
      this.maybeFinish();
    }
    const d = this.download;
    if (d && !d.verifying) {
      for (const r of d.inflight.values()) {
        if (now < r.deadline) continue;
        this.st.lastError = 'chunk request timed out';
        return this.nextSource(null);
      }
    }
    if (!this.round && !this.download && now >= this.nextRoundAt) {
      if (this.phase === 'waiting') {
        if (![...this.connected].some((p) => !this.tried.has(p))) this.tried.clear(); // everyone may be asked again
        this.startRound('join');
      } else if (this.phase === 'unverified') this.startRound('reverify');
    }
  }

  /** Handles one message from a peer. Peer faults never throw (they go to onPeerRejected). */
  async receive(peer: string, bytes: Uint8Array): Promise<void> {
    let m: JoinMsg;
    try {
      m = decodeJoinMessage(bytes);
    } catch (e) {
      return this.reject(peer, e as LedgerError);
    }
    if (m.t === 'claim') return this.onClaim(peer, m);
    if (m.t === 'chunk') return this.onChunk(peer, m);
    if (m.t === 'error') return this.onError(peer, m);
    // ask / get: the joiner serves nothing (a node serves with JoinServer).
  }

  status(): JoinStatus {
    const d = this.download;
    return {
      state: this.phase,
      verified: this.verified,
      loaded: this.loaded,
      peersAsked: this.st.peersAsked,
      agreeing: this.st.agreeing,
      bytes: d?.received ?? this.lastBytes,
      totalBytes: d?.buf.length ?? this.lastBytes,
      entries: this.st.entries,
      expectedEntries: d?.claim.entries ?? this.st.entries,
      rounds: this.st.rounds,
      refused: this.st.refused,
      lastError: this.st.lastError,
      marks: { ...this.marks }
    };
  }

  private lastBytes = 0;

  // ---- rounds ----

  private peerCount(): number {
    return this.o.peers ?? JOIN_PEERS;
  }

  private ranked(peers: string[]): string[] {
    const score = this.o.peerScore ?? (() => 0);
    return peers
      .map((p) => ({ p, s: score(p) }))
      .sort((a, b) => b.s - a.s || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0))
      .map(({ p }) => p);
  }

  private startRound(mode: 'join' | 'reverify'): void {
    const pool = mode === 'join' ? [...this.connected].filter((p) => !this.tried.has(p)) : [...this.connected];
    const pick = this.ranked(pool).slice(0, this.peerCount());
    this.nextRoundAt = this.o.now() + (this.o.retryMs ?? JOIN_RETRY_MS);
    if (pick.length === 0) {
      if (!this.loaded) this.phase = 'waiting';
      return;
    }
    const deadline = this.o.now() + (this.o.askTimeoutMs ?? JOIN_ASK_TIMEOUT_MS);
    const round: Round = { id: ++this.roundIds, mode, asks: new Map() };
    this.round = round;
    this.st.rounds++;
    if (mode === 'join') {
      this.phase = 'asking';
      this.marks.askedAt ??= this.o.now();
    }
    for (const peer of pick) {
      const nonce = this.o.randomBytes(JOIN_NONCE_BYTES);
      round.asks.set(peer, { nonce, deadline, done: false, abstained: false, vote: null, checkpoint: null });
      this.sendTo(peer, { t: 'ask', version: JOIN_PROTOCOL_VERSION, network: this.o.networkId, nonce });
    }
  }

  private async onClaim(peer: string, m: ClaimMsg): Promise<void> {
    const round = this.round;
    const a = round?.asks.get(peer);
    if (!round || !a || a.done || !bytesEqual(a.nonce, m.nonce)) return; // late, stale or unasked
    if (m.entries === 0) return this.abstain(a); // nothing to join from this peer
    const claim: JoinClaim = { headsRoot: m.headsRoot, stateDigest: m.stateDigest, entries: m.entries };
    const expected = this.o.voterOf?.(peer);
    const sigOk = await voteHolds(this.o.networkId, m.nonce, claim, m.voter, m.sig);
    const cp = m.checkpoint ? { ...claim, ...m.checkpoint } : null;
    const cpOk = cp !== null && (await checkpointHolds(this.o.networkId, cp, this.o.operators));
    if (this.round !== round || a.done) return;
    a.done = true;
    if (!sigOk || (expected !== undefined && expected !== m.voter)) {
      this.reject(peer, new JoinBadVoteError(sigOk ? 'vote signed by a key other than the peer' : undefined));
    } else if (m.size > (this.o.maxSnapshotBytes ?? JOIN_MAX_SNAPSHOT_BYTES)) {
      this.reject(peer, new JoinOversizedError(`claimed snapshot of ${m.size} bytes`));
    } else if (m.size < JOIN_MIN_SNAPSHOT_BYTES) {
      this.reject(peer, new JoinProtocolError(`claimed snapshot of ${m.size} bytes`));
    } else {
      a.vote = { peer, voter: m.voter, claim, size: m.size };
      a.checkpoint = cpOk ? cp : null;
      // An operator checkpoint settles a join at once: no need to wait for the others.
      if (cpOk && round.mode === 'join') return this.finishRound();
    }
    this.maybeFinish();
  }

  private abstain(a: Ask): void {
    a.done = true;
    a.abstained = true;
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.round && [...this.round.asks.values()].every((a) => a.done)) this.finishRound();
  }

  private finishRound(): void {
    const round = this.round!;
    this.round = null;
    const asks = [...round.asks.entries()];
    const votes = asks.flatMap(([, a]) => (a.vote ? [a.vote] : []));
    const counted = asks.filter(([, a]) => !a.abstained).length;
    if (counted === 0 && round.mode === 'join' && !this.loaded) return this.nothing(asks.length);
    const t = tally(counted, votes);
    const cp = asks
      .map(([, a]) => a.checkpoint)
      .filter((c): c is Checkpoint => c !== null)
      .sort((x, y) => y.time - x.time || y.entries - x.entries)[0];
    this.st.peersAsked = t.asked;
    this.st.agreeing = t.best?.voters ?? 0;
    const asked = asks.map(([p]) => p);
    const base = { asked: t.asked, agreeing: this.st.agreeing, checkpoint: null };
    let verdict: JoinVerdict | null = null;
    if (cp) verdict = { ...base, verified: true, by: 'checkpoint', claim: cp, checkpoint: cp };
    else if (t.quorum && t.asked >= this.peerCount())
      verdict = { ...base, verified: true, by: 'quorum', claim: t.best!.claim };
    else if (t.quorum) verdict = { ...base, verified: false, by: 'few-peers', claim: t.best!.claim };
    if (round.mode === 'reverify') return this.reverified(verdict);
    if (verdict === null) return this.refuse(asked, `no claim reached ${t.needed} of ${t.asked} peers`);
    const key = claimKey(verdict.claim);
    const sources = votes.filter((v) => claimKey(v.claim) === key).map((v) => ({ peer: v.peer, size: v.size }));
    if (cp) sources.sort((x, y) => (x.peer === cpPeer(asks, cp) ? -1 : y.peer === cpPeer(asks, cp) ? 1 : 0));
    this.startDownload(verdict, sources, asked);
  }

  private reverified(verdict: JoinVerdict | null): void {
    const local = this.o.local?.();
    if (verdict?.verified && local && claimKey(local) === claimKey(verdict.claim)) {
      this.verified = true;
      this.phase = 'verified';
      this.marks.verifiedAt ??= this.o.now();
      this.nextRoundAt = Infinity;
      this.o.onVerified?.(verdict);
      return;
    }
    this.st.lastError = verdict?.verified ? 'the verified majority holds another state' : 'no verified majority yet';
  }

  /** Every peer asked abstained: no state to join; the driver falls back to replaying entries. */
  private nothing(asked: number): void {
    this.st.peersAsked = asked;
    this.st.agreeing = 0;
    this.st.lastError = 'no peer asked holds a state to join';
    this.phase = 'nothing';
    this.nextRoundAt = Infinity;
  }

  private refuse(asked: string[], why: string): void {
    this.st.refused++;
    this.st.lastError = why;
    for (const p of asked) this.tried.add(p);
    if (!this.loaded) this.phase = 'waiting';
    this.startRound('join');
  }

  // ---- download ----

  private startDownload(verdict: JoinVerdict, sources: { peer: string; size: number }[], asked: string[]): void {
    this.phase = 'fetching';
    this.marks.agreedAt ??= this.o.now();
    this.download = {
      claim: verdict.claim,
      verdict,
      sources,
      idx: -1,
      buf: new Uint8Array(0),
      next: 0,
      received: 0,
      inflight: new Map(),
      verifying: false,
      asked
    };
    this.nextSource(null);
  }

  /** Moves the download to the next peer serving the claim (blaming the current one if `blame`). */
  private nextSource(blame: LedgerError | null): void {
    const d = this.download!;
    const current = d.sources[d.idx]?.peer;
    if (blame && current !== undefined) this.reject(current, blame);
    d.idx++;
    while (d.idx < d.sources.length && !this.connected.has(d.sources[d.idx].peer)) d.idx++;
    if (d.idx >= d.sources.length) {
      this.download = null;
      return this.refuse(d.asked, blame ? blame.message : 'no peer of the winning claim served it');
    }
    d.buf = new Uint8Array(d.sources[d.idx].size);
    d.next = 0;
    d.received = 0;
    d.inflight.clear();
    this.pump();
  }

  private pump(): void {
    const d = this.download!;
    const peer = d.sources[d.idx].peer;
    const chunk = Math.min(this.o.chunkBytes ?? JOIN_CHUNK_BYTES, JOIN_CHUNK_BYTES);
    while (d.inflight.size < (this.o.maxInflight ?? JOIN_MAX_INFLIGHT) && d.next < d.buf.length) {
      const rid = ++this.rid;
      const len = Math.min(chunk, d.buf.length - d.next);
      const deadline = this.o.now() + (this.o.requestTimeoutMs ?? JOIN_REQUEST_TIMEOUT_MS);
      d.inflight.set(rid, { offset: d.next, len, deadline });
      this.sendTo(peer, { t: 'get', rid, root: d.claim.headsRoot, offset: d.next, maxBytes: len });
      d.next += len;
    }
  }

  private async onChunk(peer: string, m: ChunkMsg): Promise<void> {
    const d = this.download;
    if (!d || d.verifying || d.sources[d.idx]?.peer !== peer) return;
    const req = d.inflight.get(m.rid);
    if (!req) return; // late or unasked
    if (m.offset !== req.offset || m.total !== d.buf.length || m.bytes.length !== req.len) {
      return this.nextSource(new JoinProtocolError('chunk does not answer its request'));
    }
    d.inflight.delete(m.rid);
    d.buf.set(m.bytes, m.offset);
    d.received += m.bytes.length;
    if (d.received < d.buf.length) return this.pump();
    d.verifying = true;
    this.marks.downloadedAt ??= this.o.now();
    await this.verifyAndInstall(d);
  }

  private async verifyAndInstall(d: Download): Promise<void> {
    let snap: VerifiedSnapshot;
    try {
      snap = await verifyJoinSnapshot(d.buf, d.claim, {
        networkId: this.o.networkId,
        genesis: this.o.genesis,
        maxBytes: this.o.maxSnapshotBytes
      });
    } catch (e) {
      d.verifying = false;
      return this.nextSource(e as LedgerError);
    }
    this.download = null;
    this.lastBytes = d.buf.length;
    this.marks.checkedAt ??= this.o.now();
    try {
      await this.o.install(snap, d.verdict);
    } catch (e) {
      this.st.lastError = `install failed: ${(e as Error)?.message ?? String(e)}`;
      this.phase = this.loaded ? this.phase : 'waiting';
      return;
    }
    this.loaded = true;
    this.verified = d.verdict.verified;
    this.st.entries = snap.entries;
    this.phase = this.verified ? 'verified' : 'unverified';
    this.marks.installedAt ??= this.o.now();
    if (this.verified) this.marks.verifiedAt ??= this.o.now();
    this.nextRoundAt = this.verified ? Infinity : this.reverifyAt();
  }

  /**
   * When an unverified install is checked again: soon if enough peers connected meanwhile (addPeer
   * arms nothing during a download: peers linking while the snapshot came in would otherwise wait
   * a whole JOIN_RETRY_MS, 35 s from page open in bench row 5), else after JOIN_RETRY_MS.
   */
  private reverifyAt(): number {
    const now = this.o.now();
    const retry = now + (this.o.retryMs ?? JOIN_RETRY_MS);
    if (this.connected.size < this.peerCount()) return retry;
    return Math.min(retry, now + (this.o.gatherMs ?? JOIN_GATHER_MS));
  }

  private onError(peer: string, m: JoinErrorMsg): void {
    const d = this.download;
    if (m.rid !== 0 && d && !d.verifying && d.sources[d.idx]?.peer === peer && d.inflight.has(m.rid)) {
      this.st.lastError = `peer error ${m.code}`;
      return this.nextSource(null);
    }
    const a = this.round?.asks.get(peer);
    if (m.rid === 0 && a && !a.done) {
      if (m.code === 'join-unavailable') return this.abstain(a);
      a.done = true;
      this.maybeFinish();
    }
  }

  private reject(peer: string, e: LedgerError): void {
    this.st.lastError = `${peer}: ${e.code}`;
    this.o.onPeerRejected?.(peer, e);
  }

  private sendTo(peer: string, m: JoinMsg): void {
    this.o.send(peer, encodeJoinMessage(m));
  }
}

/** The peer whose ask carried checkpoint `cp`. */
function cpPeer(asks: [string, Ask][], cp: Checkpoint): string | undefined {
  return asks.find(([, a]) => a.checkpoint === cp)?.[0];
}
