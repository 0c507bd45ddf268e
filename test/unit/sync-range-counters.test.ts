// Per-peer counters of our gap-fill range requests (PeerSyncStatus: rangesAsked, rangesTimedOut,
// rangesRefused, rangesLate, answersUnasked, and answersHandledMs: the time spent ingesting the peer's answers): a catch-up that stalls says why (S10: simulated nodes received
// ~10 entries/s from each tab during the load with 4 ranges always in flight, and nothing told
// whether the requests timed out, were refused or were merely slow). Two real ledgers and sync
// engines in-process; the server's answers are held back, then delivered late; an error answer
// ("sync-busy") is injected for one request.
import { describe, expect, it } from 'vitest';
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import { GAP_REQUEST_TIMEOUT_MS, SYNC_TIMED_OUT_REMEMBERED } from '../../src/lib/core/sync/constants.js';
import { PeerSession } from '../../src/lib/core/sync/session.js';
import { ON_DEMAND_RID_BASE } from '../../src/lib/core/sync/on-demand.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

type Msg = { to: 'a' | 'b'; bytes: Uint8Array };

describe('sync: per-peer counters of range requests', () => {
  it('counts ranges asked, timed out, answered late and refused with an error', async () => {
    const server = await openLedger(memoryLocation(), 91, { compactEvery: 0 });
    const client = await openLedger(memoryLocation(), 92, { compactEvery: 0 });
    for (let i = 0; i < 150; i++) await server.ledger.put(`k${i}`, i);
    let t = 1_000_000;
    const queue: Msg[] = [];
    // Each ingest on the client takes 100 ms of its clock (answersHandledMs counts it).
    let ingests = 0;
    const make = (tl: typeof server, other: 'a' | 'b') =>
      new SyncEngine({
        replica:
          tl === client
            ? (() => {
                const r = ledgerReplica(tl.ledger);
                return {
                  ...r,
                  ingest: (b: Uint8Array[]) => {
                    ingests++;
                    t += 100;
                    return r.ingest(b);
                  }
                };
              })()
            : ledgerReplica(tl.ledger),
        send: (_peer, bytes) => queue.push({ to: other, bytes }),
        now: () => t,
        randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n))
      });
    // a: the client (catching up), b: the server.
    const engines = { a: make(client, 'b'), b: make(server, 'a') };
    engines.a.addPeer('b', { initiator: true });
    engines.b.addPeer('a', { initiator: false });
    const held: Msg[] = [];
    const gets: number[] = [];
    /** Delivers queued messages; the server's `entries` answers are held back while `hold`. */
    const pump = async (hold: boolean): Promise<void> => {
      for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
        const msg = decodeSyncMessage(m.bytes);
        if (m.to === 'b' && msg.t === 'get') gets.push(msg.rid);
        if (hold && m.to === 'a' && msg.t === 'entries') held.push(m);
        else await engines[m.to].receive(m.to === 'a' ? 'b' : 'a', m.bytes);
      }
    };
    const peerB = () => engines.a.status().peers.find((p) => p.peer === 'b')!;

    await pump(true);
    const asked = peerB().rangesAsked;
    expect(asked).toBeGreaterThan(0);
    expect(asked).toBe(gets.length);
    expect(held.length).toBe(asked);
    expect(peerB()).toMatchObject({ rangesTimedOut: 0, rangesLate: 0, rangesRefused: 0, entriesIn: 0 });

    // No answer within the timeout: each request in flight times out.
    t += GAP_REQUEST_TIMEOUT_MS + 1;
    engines.a.tick();
    expect(peerB().rangesTimedOut).toBe(asked);
    const late = held.splice(0);
    // Answers to requests never made: unasked, not ingested (also in the rid space of on-demand
    // reads, a light replica's, where none is in flight).
    const made = decodeSyncMessage(late[0]!.bytes);
    if (made.t !== 'entries') throw new Error('held an answer that is not entries');
    await engines.a.receive('b', encodeSyncMessage({ ...made, rid: 987_654 }));
    await engines.a.receive('b', encodeSyncMessage({ ...made, rid: ON_DEMAND_RID_BASE + 7 }));
    expect(peerB()).toMatchObject({ rangesLate: 0, answersUnasked: 2, entriesIn: 0 });

    // The next request (after the backoff) is answered with an error: refused.
    t += 120_000;
    engines.a.tick();
    const before = gets.length;
    for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
      const msg = decodeSyncMessage(m.bytes);
      if (m.to === 'b' && msg.t === 'get') {
        gets.push(msg.rid);
        const busy = {
          t: 'error' as const,
          rid: msg.rid,
          xid: 0,
          code: 'sync-busy',
          message: 'too many range requests'
        };
        await engines.a.receive('b', encodeSyncMessage(busy));
      } else await engines[m.to].receive(m.to === 'a' ? 'b' : 'a', m.bytes);
    }
    expect(gets.length).toBeGreaterThan(before);
    expect(peerB().rangesRefused).toBe(gets.length - before);
    expect(peerB().rangesAsked).toBe(gets.length);

    // The timed-out answers arrive now: late, and ingested all the same (a plain range of what
    // was asked); the same answer a second time is unasked and not ingested again.
    const ingestsBefore = ingests;
    for (const m of late) await engines.a.receive('b', m.bytes);
    const lateEntries = late.reduce((n, m) => {
      const msg = decodeSyncMessage(m.bytes);
      return n + (msg.t === 'entries' ? msg.entries.length : 0);
    }, 0);
    expect(lateEntries).toBeGreaterThan(0);
    expect(peerB()).toMatchObject({ rangesLate: asked, answersUnasked: 2, entriesIn: lateEntries });
    expect(client.ledger.stats().entries).toBe(lateEntries);
    expect(ingests - ingestsBefore).toBe(late.length);
    await engines.a.receive('b', late[0]!.bytes);
    expect(peerB()).toMatchObject({ rangesLate: asked, answersUnasked: 3, entriesIn: lateEntries });
    expect(ingests - ingestsBefore).toBe(late.length);

    // Answered in time from now on: the client catches up; nothing more times out.
    const timedOut = peerB().rangesTimedOut;
    for (let i = 0; i < 50 && client.ledger.stats().entries < 150; i++) {
      t += 120_000;
      engines.a.tick();
      await pump(false);
    }
    expect(client.ledger.stats().entries).toBe(150);
    expect(peerB().entriesIn).toBe(150);
    expect(peerB().rangesTimedOut).toBe(timedOut);
    expect(peerB().rangesAsked).toBe(gets.length);
    // Every answer ingested (late or in time) took 100 ms of the client's clock.
    expect(ingests).toBeGreaterThan(0);
    expect(peerB().answersHandledMs).toBe(100 * ingests);
    engines.a.close();
    engines.b.close();
  });

  it('remembers the last SYNC_TIMED_OUT_REMEMBERED timeouts: older ones answered count as unasked', () => {
    const s = new PeerSession('p', true, new Uint8Array(16), 0);
    const n = SYNC_TIMED_OUT_REMEMBERED + 10;
    const req = (rid: number) => ({
      rid,
      peer: 'p',
      author: 'a'.repeat(64),
      from: 1,
      to: 9,
      maxBytes: 1024,
      priority: 'tail' as const,
      sentAt: 0
    });
    for (let rid = 1; rid <= n; rid++) s.rangeTimedOut(req(rid));
    expect(s.answerToNoRequest(1)).toBeUndefined(); // forgotten: one of the 10 oldest
    expect(s.answerToNoRequest(n)).toEqual(req(n)); // remembered, with the range it asked
    expect(s.answerToNoRequest(n)).toBeUndefined(); // the same answer twice: the second is unasked
    expect({ timedOut: s.rangesTimedOut, late: s.rangesLate, unasked: s.answersUnasked }).toEqual({
      timedOut: n,
      late: 1,
      unasked: 2
    });
    // An on-demand read that timed out: not a catch-up range, but its answer is late, not unasked.
    s.rememberTimedOut(ON_DEMAND_RID_BASE + 1);
    expect(s.answerToNoRequest(ON_DEMAND_RID_BASE + 1)).toBeUndefined(); // late, nothing to ingest
    expect({ timedOut: s.rangesTimedOut, late: s.rangesLate, unasked: s.answersUnasked }).toEqual({
      timedOut: n,
      late: 2,
      unasked: 2
    });
  });
});
