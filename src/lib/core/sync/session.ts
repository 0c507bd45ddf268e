// Per-peer protocol state of the sync engine: the peer's hello, open Merkle exchanges in both
// directions, range requests being served, and the counters status() reports.
import type { HelloMsg } from './messages.js';
import type { GapRequest } from './gap-fill.js';
import type { Exchange } from './reconcile.js';
import { SYNC_TIMED_OUT_REMEMBERED } from './constants.js';

export interface PeerSyncStatus {
  peer: string;
  role: 'full' | 'light' | null;
  /** Refused (wrong network or protocol): nothing more is read from it. */
  rejected: boolean;
  /** Last completed Merkle exchange, ms (null: none yet). */
  lastSyncAt: number | null;
  /** Last time our heads root equalled the peer's, ms. */
  lastEqualAt: number | null;
  entriesIn: number;
  entriesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Invalid entries this peer sent. */
  invalidIn: number;
  rangesInFlight: number;
  /**
   * Our gap-fill range requests to this peer: sent, timed out without an answer (gap-fill's
   * timeout, GAP_REQUEST_TIMEOUT_MS of the peer's time), answered with an error (e.g. "sync-busy"),
   * and answers that came after their request had timed out (late: a plain range of what was
   * asked is still ingested and counted in entriesIn, SyncEngine; on-demand reads of a light
   * replica count here too, though not in rangesAsked/rangesTimedOut, and are not ingested). Why
   * catch-up from a peer stalls. Counted per session: they start again from 0 when the peer
   * reconnects.
   */
  rangesAsked: number;
  rangesTimedOut: number;
  rangesRefused: number;
  rangesLate: number;
  /**
   * `entries` messages from this peer that answered no request of ours: never asked for, answered
   * twice, or late beyond the last SYNC_TIMED_OUT_REMEMBERED timeouts. Not ingested. An honest
   * peer sends none; a misbehaving one can send them at will (they are counted, not trusted).
   */
  answersUnasked: number;
  /**
   * Wall-clock ms this node has spent handling this peer's answers to our range requests (their
   * ingest, waits included), ms: while it runs, nothing more of this peer is read and its other
   * requests do not time out (peer-wait.ts).
   */
  answersHandledMs: number;
  exchangesCompleted: number;
  exchangesFailed: number;
}

export class PeerSession {
  hello: HelloMsg | null = null;
  private coverage: Map<string, number> | undefined;
  rejected = false;
  /** Exchanges this side started (by xid) and ones the peer started. */
  readonly mine = new Map<number, Exchange>();
  readonly theirs = new Map<number, Exchange>();
  nextXid = 1;
  helloSentAt = 0;
  /** When a 'sync-no-hello' error last made us say hello again (null: never). */
  helloResentAt: number | null = null;
  /** The peer's root when last known equal or announced (null: differs or unknown). */
  peerRoot: Uint8Array | null = null;
  serving = 0;
  nextSyncAt: number;
  lastSyncAt: number | null = null;
  lastEqualAt: number | null = null;
  entriesIn = 0;
  entriesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  invalidIn = 0;
  rangesAsked = 0;
  rangesTimedOut = 0;
  rangesRefused = 0;
  rangesLate = 0;
  answersUnasked = 0;
  /**
   * Our requests to this peer that timed out, by rid, oldest first (at most
   * SYNC_TIMED_OUT_REMEMBERED): the catch-up range asked, or null for an on-demand read.
   */
  private readonly timedOut = new Map<number, GapRequest | null>();
  exchangesCompleted = 0;
  exchangesFailed = 0;
  /** Both roots of exchanges the peer began (by exchange), and of the last one that completed. */
  readonly beganWith = new WeakMap<Exchange, { theirs: string; ours: string }>();
  lastServed: { theirs: string; ours: string; at: number } | null = null;
  /**
   * Compare bytes sent in exchanges this peer began, as a leaky bucket (engine.ts: a peer may
   * make us send about one full listing of our heads per period, whatever roots its begins state).
   */
  private compareDebt = 0;
  private compareDebtAt = 0;
  /** Messages of this peer being handled now, since when, and the handling time before that, ms. */
  private handling = 0;
  private handlingSince = 0;
  private handledMs = 0;

  constructor(
    readonly peer: string,
    /** The side that starts the first exchange when hellos show different roots. */
    readonly initiator: boolean,
    /** My hello salt for this session (keys the exchanges the peer starts). */
    readonly salt: Uint8Array,
    now: number
  ) {
    this.nextSyncAt = now;
  }

  setHello(m: HelloMsg): void {
    this.hello = m;
    this.peerRoot = m.root;
    this.coverage = undefined;
  }

  /** A message of this peer is being handled from `now` (ms) until the matching handled(). */
  handle(now: number): void {
    if (this.handling++ === 0) this.handlingSince = now;
  }

  handled(now: number): void {
    if (--this.handling === 0) this.handledMs += Math.max(0, now - this.handlingSince);
  }

  /**
   * Ms this node has spent handling this peer's answers to our requests (their ingest), a
   * monotonic counter including the message in hand. A driver that reads each peer's messages in
   * order (the worker's stream loop) reads nothing more of this peer meanwhile.
   */
  busyMs(now: number): number {
    return this.handledMs + (this.handling > 0 ? Math.max(0, now - this.handlingSince) : 0);
  }

  /** Compare bytes owed now: those sent, less `budget` per `periodMs` since. */
  compareOwed(now: number, budget: number, periodMs: number): number {
    return Math.max(0, this.compareDebt - ((now - this.compareDebtAt) / periodMs) * budget);
  }

  /** `bytes` of compare steps sent in an exchange this peer began. */
  chargeCompare(now: number, bytes: number, budget: number, periodMs: number): void {
    this.compareDebt = this.compareOwed(now, budget, periodMs) + bytes;
    this.compareDebtAt = now;
  }

  /** Lowest seq the peer holds of `author` (Infinity: none), from its hello. */
  holdsFrom(author: string): number {
    const h = this.hello;
    if (!h) return Infinity;
    this.coverage ??= new Map(h.coverage.map((c) => [c.author, c.from]));
    const from = this.coverage.get(author);
    return from === undefined ? 1 : Math.max(1, from);
  }

  /** Our catch-up range request `req` to this peer timed out: counted, and remembered. */
  rangeTimedOut(req: GapRequest): void {
    this.rangesTimedOut++;
    this.rememberTimedOut(req.rid, req);
  }

  /**
   * Our request `rid` to this peer timed out: an answer to it later is late, not unasked. `req`:
   * the catch-up range it asked (a late answer of it may still be ingested), none for on-demand.
   */
  rememberTimedOut(rid: number, req: GapRequest | null = null): void {
    this.timedOut.set(rid, req);
    if (this.timedOut.size > SYNC_TIMED_OUT_REMEMBERED) this.timedOut.delete(this.timedOut.keys().next().value!);
  }

  /**
   * An `entries` message answered no request in flight: counts it as late or as unasked. Returns
   * the timed-out catch-up range it answers (once: a second answer to it is unasked), if any.
   */
  answerToNoRequest(rid: number): GapRequest | undefined {
    const req = this.timedOut.get(rid);
    if (req === undefined && !this.timedOut.has(rid)) {
      this.answersUnasked++;
      return undefined;
    }
    this.timedOut.delete(rid);
    this.rangesLate++;
    return req ?? undefined;
  }

  status(rangesInFlight: number, now: number): PeerSyncStatus {
    return {
      peer: this.peer,
      role: this.hello?.role ?? null,
      rejected: this.rejected,
      lastSyncAt: this.lastSyncAt,
      lastEqualAt: this.lastEqualAt,
      entriesIn: this.entriesIn,
      entriesOut: this.entriesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      invalidIn: this.invalidIn,
      rangesInFlight,
      rangesAsked: this.rangesAsked,
      rangesTimedOut: this.rangesTimedOut,
      rangesRefused: this.rangesRefused,
      rangesLate: this.rangesLate,
      answersUnasked: this.answersUnasked,
      answersHandledMs: Math.round(this.busyMs(now)),
      exchangesCompleted: this.exchangesCompleted,
      exchangesFailed: this.exchangesFailed
    };
  }
}
