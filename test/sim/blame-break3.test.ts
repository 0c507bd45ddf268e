// Framing an honest peer (issue 7 red team, round 3). engine.blameable() holds any ban-offence
// rejection of an ingest against the peer whose range answer triggered it, on the ground that
// "pending entries that the same ingest settles were verified when they arrived". But some
// payload rules are checked only when an entry is chained, against the document state (records-
// rules.ts: a delete of a record without writing its key is 'malformed-payload', a ban offence).
// An attacker signs seq 1..2 of its own feed honestly and seq 3 as a bare delete of its seq-1
// record, and publishes seq 3 alone (gossip): it verifies and waits in the victim's pending
// buffer. The victim then fetches seq 1..2 from an honest peer; that ingest releases seq 3, whose
// payload is refused, and the honest peer takes the blame. SEED=n replays a run.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { deleteOnly, keysFromByte, makeChain } from '../helpers/ledger-fixtures.js';
import { isBanOffence } from '../../src/lib/core/peers/offences.js';

const link = { loss: 0, dup: 0, latencyMin: 5, latencyMax: 30 };

async function run(seed: number, publishBareDelete: boolean) {
  const c = new Cluster({ seed, link, gossip: false, periodMs: 3000, timeoutMs: 1500 });
  const b = await c.addNode('b', 2, { scoring: true });
  const n = await c.addNode('n', 3, { scoring: true });
  const keys = await keysFromByte(77);
  const evil = toHex(keys.publicKey);
  const net = n.tl.ledger.networkId;
  const [e1, e2] = await makeChain(keys, 2, net);
  const e3 = await createEntry(
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
  // b holds the honest part; b itself refuses seq 3 when it is offered the whole chain.
  await b.tl.ledger.ingest([e1, e2].map((h) => encodeEntry(h.entry)));
  const atB = await b.tl.ledger.ingest([encodeEntry(e3.entry)]);
  // The attacker's seq 3 reaches n alone (gossip): verified, then held as pending.
  const atN = publishBareDelete ? await n.tl.ledger.ingest([encodeEntry(e3.entry)]) : null;
  c.refreshLinks();
  await c.net.run(() => (n.tl.ledger.heads().find((h) => h.author === evil)?.seq ?? 0) >= 2, 10_000);
  await c.net.run(() => false, c.net.time + 3000);
  const bans = n.rejections.filter((r) => isBanOffence(r.code));
  console.log(
    `SEED=${seed} bare delete published=${publishBareDelete}: at b seq 3 -> ${JSON.stringify(atB.rejected.map((r) => r.code))}; at n seq 3 alone -> pending ${atN?.pending}, rejected ${JSON.stringify(atN?.rejected ?? [])}; n holds seq ${n.tl.ledger.heads().find((h) => h.author === evil)?.seq}; n's ban offences ${JSON.stringify(bans)}; b banned ${n.book!.isBanned('b')}`
  );
  return { banned: n.book!.isBanned('b'), bans, c };
}

describe('sync red team 3: blame for a pending entry released by an honest answer', () => {
  it('without the published seq 3: n fetches seq 1..2 from b and bans nobody (control)', async () => {
    const seed = seeds(1, 9970)[0];
    const { banned, bans, c } = await run(seed, false);
    expect(banned, `SEED=${seed}`).toBe(false);
    expect(bans, `SEED=${seed}`).toEqual([]);
    expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
  }, 60_000);

  // Input: SEED=9970; attacker key 77 signs seq 1..2 (record writes, valid) and seq 3 (a bare
  //   Yjs delete of its seq-1 record, clock 2: verifies on arrival, refused when chained as
  //   'malformed-payload', records-rules.ts checkRecordDeletes). Honest 'b' holds seq 1..2;
  //   victim 'n' (scoring and bans on) receives seq 3 alone, then links to b.
  // Expected: n fetches seq 1..2 from b, refuses seq 3 (malformed-payload, blamed on nobody
  //   present or on the author), bans no one, converges with b.
  // Actual: seq 3 alone at n -> pending 1, rejected []; after b's answer n holds seq 2 and its
  //   ban offences are [{"peer":"b","code":"malformed-payload"}]: b is banned. The ingest of b's answer releases seq 3 from pending, its
  //   payload is refused with 'malformed-payload', blameable() picks that ban offence (it takes
  //   any ban-offence rejection in the report, whatever entry it names), and n bans honest b.
  //   One gossip message per victim bans the honest peers that serve the attacker's feed.
  // Fixed (engine.ts blameable: a ban offence counts only for an entry of the answer).
  // Suggested fix was (engine.ts blameable): hold a ban-offence rejection against the answering peer
  //   only when it names an entry of the answer itself (author = req.author, seq in the range
  //   and present in m.entries, or no author/seq when the answer's bytes did not decode); a
  //   rejection of a released pending entry is the author's fault, not the server's. Or make
  //   every payload rule that can reject an entry at chain time a non-ban code.
  it('with seq 3 published first: n still bans nobody', async () => {
    const seed = seeds(1, 9970)[0];
    const { banned, bans, c } = await run(seed, true);
    expect(banned, `SEED=${seed}`).toBe(false);
    expect(bans, `SEED=${seed}`).toEqual([]);
    expect(compareHonest(c), `SEED=${seed}`).toEqual([]);
  }, 60_000);
});
