// Range requests made on demand (a light replica reading history it pruned, issue 9), next to
// gap fill's own requests: same `get` message, but the answer goes back to the caller instead of
// into the ledger. Request ids start at ON_DEMAND_RID_BASE so they never meet gap fill's (which
// count up from 1). Pure: the engine sends the messages and calls tick() / dropPeer().
import type { GetMsg } from './messages.js';
import { SyncTimeoutError, SyncUnavailableError } from './errors.js';

/** First request id of on-demand requests (gap fill's ids count from 1 and never get here). */
export const ON_DEMAND_RID_BASE = 2 ** 40;

interface Pending {
  peer: string;
  deadline: number;
  resolve: (entries: Uint8Array[]) => void;
  reject: (e: Error) => void;
}

/** On-demand range requests in flight, by request id. */
export class OnDemandRequests {
  private nextRid = ON_DEMAND_RID_BASE;
  private readonly inflight = new Map<number, Pending>();

  /** Opens a request to `peer`; `done` settles with the answer's entries (raw, unverified). */
  open(peer: string, req: Omit<GetMsg, 't' | 'rid'>, deadline: number): { msg: GetMsg; done: Promise<Uint8Array[]> } {
    const rid = this.nextRid++;
    const done = new Promise<Uint8Array[]>((resolve, reject) => {
      this.inflight.set(rid, { peer, deadline, resolve, reject });
    });
    return { msg: { t: 'get', rid, ...req }, done };
  }

  get size(): number {
    return this.inflight.size;
  }

  /** Whether `rid` is ours (answers with such an id never go to gap fill). */
  owns(rid: number): boolean {
    return rid >= ON_DEMAND_RID_BASE;
  }

  /** The answer to `rid` from `peer`; false if no such request is in flight for that peer. */
  answer(rid: number, peer: string, entries: Uint8Array[]): boolean {
    const p = this.take(rid, peer);
    p?.resolve(entries);
    return p !== undefined;
  }

  /** The peer refused `rid` (an error message). */
  refuse(rid: number, peer: string, code: string): boolean {
    const p = this.take(rid, peer);
    p?.reject(new SyncUnavailableError(`peer refused the range: ${code}`));
    return p !== undefined;
  }

  /** Rejects every request past its deadline with SyncTimeoutError; returns them (peer and rid). */
  expire(now: number): { peer: string; rid: number }[] {
    const out: { peer: string; rid: number }[] = [];
    for (const [rid, p] of this.inflight) {
      if (now < p.deadline) continue;
      this.inflight.delete(rid);
      out.push({ peer: p.peer, rid });
      p.reject(new SyncTimeoutError('on-demand range request timed out'));
    }
    return out;
  }

  /** The peer left: its requests fail at once. */
  dropPeer(peer: string): void {
    for (const [rid, p] of this.inflight) {
      if (p.peer !== peer) continue;
      this.inflight.delete(rid);
      p.reject(new SyncUnavailableError('peer disconnected'));
    }
  }

  close(): void {
    for (const p of this.inflight.values()) p.reject(new SyncUnavailableError('sync closed'));
    this.inflight.clear();
  }

  private take(rid: number, peer: string): Pending | undefined {
    const p = this.inflight.get(rid);
    if (p === undefined || p.peer !== peer) return undefined;
    this.inflight.delete(rid);
    return p;
  }
}
