// Framing an honest peer, again (issue 7 red team, round 4). Round 3's fix (engine.ts
// blameable) holds a ban offence against the answering peer only "for an entry of the answer
// itself", but it recognises such an entry by its key `author:seq` alone, not by its hash. An
// equivocating author signs two entries at seq 3: a valid record write (served by honest 'b',
// which holds seq 1..3) and a bare delete of its seq-1 record (verifies on arrival, refused as
// 'malformed-payload' when chained, records-rules.ts). It gossips the bad variant alone to the
// victim 'n', where it waits in the pending buffer. n then fetches seq 1..3 from b: the ingest
// chains seq 1..2, which releases the bad seq 3 from pending; it is refused with
// 'malformed-payload' naming `evil:3`, and b's answer also holds an entry with key `evil:3` (the
// good variant), so blameable() counts the offence against b and n bans honest b.
// Second case, no gossip to the victim at all: an honest server that saw the bad variant first
// holds evidence [bad, good] and serves it as the protocol says; the victim chains the bad
// variant of the evidence, refuses it as 'malformed-payload' and bans the server.
// SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { deleteOnly, keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { isBanOffence } from '../../src/lib/core/peers/offences.js';
import { isVoidSeq } from '../../src/lib/core/void.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };

async function run(seed: number, gossipBadVariant: boolean) {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: 1500 });
  const b = await c.addNode('b', 2, { scoring: true });
  const n = await c.addNode('n', 3, { scoring: true });
  const keys = await keysFromByte(78);
  const evil = toHex(keys.publicKey);
  const net = n.tl.ledger.networkId;
  const [e1, e2, e3] = await makeChain(keys, 3, net);
  const bad3 = await createEntry(
    {
      keys,
      seq: 3,
      prev: e2.hash,
      lamport: 3,
      time: 1_700_000_000_003,
      clock: 2,
      payload: deleteOnly(clientIdOf(evil), 0, 1)
    },
    net
  );
  await b.tl.ledger.ingest([e1, e2, e3].map((h) => encodeEntry(h.entry)));
  const atN = gossipBadVariant ? await n.tl.ledger.ingest([encodeEntry(bad3.entry)]) : null;
  c.refreshLinks();
  await c.net.run(() => false, c.net.time + 8000);
  const bans = n.rejections.filter((r) => isBanOffence(r.code));
  const seq = n.tl.ledger.heads().find((h) => h.author === evil)?.seq;
  console.log(
    `SEED=${seed} bad seq-3 variant gossiped=${gossipBadVariant}: at n alone -> pending ${atN?.pending}; n holds seq ${seq}; forks at n ${n.tl.ledger.forks().length}; n's ban offences ${JSON.stringify(bans)}; b banned ${n.book!.isBanned('b')}`
  );
  return { banned: n.book!.isBanned('b'), bans, seq };
}

describe('sync red team 4: blame by author:seq frames the server of the other variant', () => {
  it('control: without the bad variant, n fetches seq 1..3 from b and bans nobody', async () => {
    const seed = seeds(1, 9980)[0];
    const { banned, bans, seq } = await run(seed, false);
    expect(banned, `SEED=${seed}`).toBe(false);
    expect(bans, `SEED=${seed}`).toEqual([]);
    expect(seq, `SEED=${seed}`).toBe(3);
  }, 30_000);

  // Input: SEED=9980; author key 78 signs seq 1..3 (valid record writes; honest 'b' holds them)
  //   and a second seq 3 (a bare delete of its seq-1 record, clock 2: verifies on arrival,
  //   'malformed-payload' when chained). Victim 'n' (scoring and bans on) gets the bad seq 3
  //   alone (gossip: pending), then links to b.
  // Expected: n fetches seq 1..3 from b, refuses the bad variant (blamed on nobody present),
  //   records the fork and bans no one: b served only valid entries.
  // Actual: bad seq 3 alone at n -> pending 1; after b's answer n's feed of the author is void
  //   (1 fork recorded, as it should), but n's ban offences are
  //   [{"peer":"b","code":"malformed-payload"}] and b is banned: the released pending variant
  //   and b's good variant share the key evil:3. One gossip message per victim bans every
  //   honest server of the equivocator's feed.
  // Suggested fix (engine.ts blameable): recognise an entry of the answer by its hash (or its
  //   exact bytes), not by author:seq; the ledger's Rejection would need to carry the entry
  //   hash (ledger-ingest.ts rejectionOf), or blameable() compares the index of the rejected
  //   entry in the answer.
  it('with the bad variant gossiped first: n still bans nobody', async () => {
    const seed = seeds(1, 9980)[0];
    const { banned, bans } = await run(seed, true);
    expect(bans, `SEED=${seed}`).toEqual([]);
    expect(banned, `SEED=${seed}`).toBe(false);
  }, 30_000);

  // Input: SEED=9981; the same author's entries. Honest 'b' gets seq 1..2, then the bad seq 3
  //   (refused when chained: 'malformed-payload', remembered as a refused variant), then the
  //   good seq 3: fork evidence, b's feed of the author is void from 3 (as it should be).
  //   Victim 'n' already holds seq 1..2 and links to b.
  // Expected: n fetches the evidence from b, voids the feed too, and bans no one (b serves
  //   exactly the evidence the protocol says to serve, ledger-replica.ts getRange).
  // Actual: at b the bad seq 3 is refused ('malformed-payload'), the good one then gives fork
  //   evidence whose pair starts with the bad variant. n (head 2) asks b for seq 3..: b serves
  //   [bad 3, good 3] (shape 'evidence'); n chains the bad one (it links to seq 2), refuses it
  //   as 'malformed-payload' -- an entry of the answer itself, so blameable() holds it against
  //   b -- and bans b, while voiding the feed correctly. No gossip to the victim is needed:
  //   every node catching up on that author from b (from below seq 3) bans honest b.
  // Suggested fix: as above; a variant that arrives as part of fork EVIDENCE (answer shape
  //   'evidence') is proof against its author, never an offence of the server.
  it('an honest server of the evidence pair (bad variant first) is not banned', async () => {
    const seed = seeds(1, 9981)[0];
    const { banned, bans, voided } = await evidenceRun(seed);
    expect(voided, `SEED=${seed}`).toBe(true);
    expect(bans, `SEED=${seed}`).toEqual([]);
    expect(banned, `SEED=${seed}`).toBe(false);
  }, 30_000);
});

async function evidenceRun(seed: number) {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: 1500 });
  const b = await c.addNode('b', 2, { scoring: true });
  const n = await c.addNode('n', 3, { scoring: true });
  const keys = await keysFromByte(79);
  const evil = toHex(keys.publicKey);
  const net = n.tl.ledger.networkId;
  const [e1, e2, e3] = await makeChain(keys, 3, net);
  const bad3 = await createEntry(
    {
      keys,
      seq: 3,
      prev: e2.hash,
      lamport: 3,
      time: 1_700_000_000_003,
      clock: 2,
      payload: deleteOnly(clientIdOf(evil), 0, 1)
    },
    net
  );
  await b.tl.ledger.ingest([e1, e2].map((h) => encodeEntry(h.entry)));
  const atB1 = await b.tl.ledger.ingest([encodeEntry(bad3.entry)]);
  const atB2 = await b.tl.ledger.ingest([encodeEntry(e3.entry)]);
  await n.tl.ledger.ingest([e1, e2].map((h) => encodeEntry(h.entry)));
  const ev = b.tl.ledger.forks().find((f) => f.author === evil);
  c.refreshLinks();
  await c.net.run(() => false, c.net.time + 8000);
  const bans = n.rejections.filter((r) => isBanOffence(r.code));
  const seq = n.tl.ledger.heads().find((h) => h.author === evil)?.seq ?? 0;
  console.log(
    `SEED=${seed} evidence at b: bad seq 3 -> ${JSON.stringify(atB1.rejected.map((r) => r.code))}, good seq 3 -> forks ${atB2.forks}; b's pair starts with the ${ev && ev.a.hash.every((x, i) => x === bad3.hash[i]) ? 'bad' : 'good'} variant; n's head seq ${seq} (void ${isVoidSeq(seq)}); n's ban offences ${JSON.stringify(bans)}; b banned ${n.book!.isBanned('b')}`
  );
  return { banned: n.book!.isBanned('b'), bans, voided: isVoidSeq(seq) };
}
