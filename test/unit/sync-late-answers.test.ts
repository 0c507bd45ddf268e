// A catch-up range answered after its request timed out (a peer starved of CPU answers late) is
// still ingested when it is a plain range of what was asked (SyncEngine.ingestLate): before, the
// serving, the transfer and the entries were thrown away and asked again. The peer is held to the
// same rules as in time: a wrong range, an oversized answer or an invalid entry counts against it,
// and nothing of a wrong answer is stored. Two real ledgers and sync engines in-process.
import { describe, expect, it } from 'vitest';
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { EntriesMsg } from '../../src/lib/core/sync/messages.js';
import { GAP_REQUEST_TIMEOUT_MS } from '../../src/lib/core/sync/constants.js';
import { decodeEntry } from '../../src/lib/core/entry.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

type Msg = { to: 'a' | 'b'; bytes: Uint8Array };

/** A client (a) whose catch-up requests to a server (b) of 40 entries all time out; their answers held. */
async function timedOutAnswers(keyByte: number) {
  const server = await openLedger(memoryLocation(), keyByte, { compactEvery: 0 });
  const client = await openLedger(memoryLocation(), keyByte + 1, { compactEvery: 0 });
  for (let i = 0; i < 40; i++) await server.ledger.put(`k${i}`, i);
  let t = 1_000_000;
  const queue: Msg[] = [];
  const rejections: string[] = [];
  const outcomes: string[] = [];
  let ingests = 0;
  const base = ledgerReplica(client.ledger);
  const a = new SyncEngine({
    replica: { ...base, ingest: (b: Uint8Array[]) => (ingests++, base.ingest(b)) },
    send: (_p, bytes) => queue.push({ to: 'b', bytes }),
    now: () => t,
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    onPeerRejected: (_p, e) => rejections.push(e.name),
    onPeerOutcome: (_p, o) => outcomes.push(o)
  });
  const b = new SyncEngine({
    replica: ledgerReplica(server.ledger),
    send: (_p, bytes) => queue.push({ to: 'a', bytes }),
    now: () => t,
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n))
  });
  a.addPeer('b', { initiator: true });
  b.addPeer('a', { initiator: false });
  const held: EntriesMsg[] = [];
  for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
    const msg = decodeSyncMessage(m.bytes);
    if (m.to === 'a' && msg.t === 'entries') held.push(msg);
    else await (m.to === 'a' ? a : b).receive(m.to === 'a' ? 'b' : 'a', m.bytes);
  }
  expect(held.length).toBeGreaterThan(0);
  t += GAP_REQUEST_TIMEOUT_MS + 1;
  a.tick();
  queue.length = 0; // the re-asks go nowhere
  const peerB = () => a.status().peers.find((p) => p.peer === 'b')!;
  expect(peerB().rangesTimedOut).toBe(held.length);
  const deliver = (m: EntriesMsg) => a.receive('b', encodeSyncMessage(m));
  /** After the backoff the client asks again: the server's answers to that, not yet delivered. */
  const reask = async (): Promise<EntriesMsg[]> => {
    t += 1_000;
    a.tick();
    const answers: EntriesMsg[] = [];
    for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
      const msg = decodeSyncMessage(m.bytes);
      if (m.to === 'a' && msg.t === 'entries') answers.push(msg);
      else if (m.to === 'b') await b.receive('a', m.bytes);
    }
    return answers;
  };
  outcomes.length = 0;
  return {
    client,
    held,
    deliver,
    peerB,
    rejections,
    outcomes,
    reask,
    ingests: () => ingests,
    close: () => (a.close(), b.close())
  };
}

describe('sync: late answers to catch-up ranges', () => {
  it('a late plain range is ingested (rangesLate counted); the same answer again is unasked', async () => {
    const x = await timedOutAnswers(101);
    const [first] = x.held;
    await x.deliver(first!);
    expect(x.client.ledger.stats().entries).toBe(first!.entries.length);
    expect(x.peerB()).toMatchObject({ rangesLate: 1, answersUnasked: 0, entriesIn: first!.entries.length });
    expect(x.outcomes).toEqual(['late', 'useful']); // the peer's score sees it served
    await x.deliver(first!);
    expect(x.peerB()).toMatchObject({ rangesLate: 1, answersUnasked: 1, entriesIn: first!.entries.length });
    expect(x.ingests()).toBe(1);
    expect(x.rejections).toEqual([]);
    x.close();
  });

  it('a late answer that is not the range asked (its first entry dropped) is refused and blamed; nothing stored', async () => {
    const x = await timedOutAnswers(103);
    const first = x.held[0]!;
    expect(first.entries.length).toBeGreaterThan(1);
    await x.deliver({ ...first, entries: first.entries.slice(1) });
    expect(x.rejections).toEqual(['SyncRangeMismatchError']);
    expect(x.client.ledger.stats()).toMatchObject({ entries: 0, pending: 0 });
    expect(x.ingests()).toBe(0);
    x.close();
  });

  it('a late answer with a forged signature is refused by the ledger and blamed on the peer; the entries before it are kept', async () => {
    const x = await timedOutAnswers(105);
    const first = x.held[0]!;
    const n = first.entries.length;
    expect(n).toBeGreaterThan(2);
    const forged = first.entries.map((e, i) => {
      if (i !== 2) return e;
      const c = e.slice();
      c[c.length - 1] ^= 0x01; // the signature is the last 64 bytes (PROTOCOL.md §3)
      return c;
    });
    await x.deliver({ ...first, entries: forged });
    expect(x.rejections).toHaveLength(1);
    expect(x.rejections[0]).toBe('InvalidEntriesError');
    expect(x.client.ledger.stats().entries).toBeLessThan(n);
    x.close();
  });

  it('a late answer of what the client already holds is not ingested again', async () => {
    const x = await timedOutAnswers(107);
    const first = x.held[0]!;
    // The same range reached the client another way meanwhile (gossip, another peer).
    await x.client.ledger.ingest(first.entries.map((bytes) => decodeEntry(bytes, 1 << 20)));
    expect(x.client.ledger.stats().entries).toBe(first.entries.length);
    await x.deliver(first);
    expect(x.ingests()).toBe(0);
    expect(x.peerB()).toMatchObject({ rangesLate: 1, entriesIn: 0 });
    expect(x.rejections).toEqual([]);
    x.close();
  });

  it('the range asked again after the timeout, answered in time once the late answer filled it: its server is not scored for it', async () => {
    const x = await timedOutAnswers(109);
    const first = x.held[0]!;
    const again = (await x.reask()).find((m) => decodeFrom(m) === decodeFrom(first));
    expect(again).toBeDefined();
    await x.deliver(first); // late: ingested
    x.outcomes.length = 0;
    await x.deliver(again!); // in time, every entry held by now
    expect(x.outcomes).toEqual([]); // neither useful nor 'empty'
    expect(x.peerB()).toMatchObject({ entriesIn: first.entries.length });
    x.close();
  });
});

/** The first seq of a range answer (the range it answers). */
function decodeFrom(m: EntriesMsg): number {
  return decodeEntry(m.entries[0]!, 1 << 20).entry.seq;
}
