// Replication lag in the worker (core/clock/lag.ts): polls the sync engine's known gaps every
// second for this node's lag, and records every finished Merkle comparison for the peers' lag.
import { LagBook, type Lag, type PeerLag } from '../core/clock/lag.js';
import type { SyncEngine } from '../core/sync/engine.js';
import type { Difference } from '../core/sync/reconcile.js';

/** How often this node's gaps are sampled, ms. */
const LAG_POLL_MS = 1000;

export class LagMonitor {
  readonly book = new LagBook();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly engine: Pick<SyncEngine, 'status' | 'tree'>,
    private readonly now: () => number = Date.now
  ) {}

  start(): void {
    this.timer = setInterval(() => this.poll(), LAG_POLL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The engine's onCompared. */
  compared(peer: string, diffs: Difference[]): void {
    this.book.observePeer(this.now(), peer, diffs, this.best);
  }

  /** This node's lag now (sampled afresh). */
  self(): Lag {
    this.poll();
    return this.book.self(this.now());
  }

  /** A peer's lag as of our last comparison with it; null before one. */
  peer(peer: string): PeerLag | null {
    return this.book.peer(this.now(), peer, this.best);
  }

  private poll(): void {
    const st = this.engine.status();
    this.book.observeSelf(this.now(), st.missing, st.missingByAuthor);
  }

  /** Best known head seq of an author: ours or the highest a compared peer holds. */
  private readonly best = (author: string): number =>
    Math.max(this.engine.tree.get(author)?.seq ?? 0, this.book.peerHead(author));
}
