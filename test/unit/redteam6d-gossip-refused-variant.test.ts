// Red team 6d (variantFork, src/lib/core/ledger-ingest.ts, against the gossip validator,
// src/lib/worker/entry-gossip.ts; README "Two signed entries of one author at one seq are fork
// evidence in either order also when both are refused"): the gossip validator Ignored a signed
// entry that does not link to the stored predecessor (and one the causal rules refuse) before
// the ledger saw it, so the ledger never remembered it as a variant. The same two entries given
// to Ledger.ingest (a sync answer, a snapshot, a relay's fetch) are fork evidence. So whether a
// node voided the author depended on the path the variant took, not on the entries.
//
// Input: forker E signs E#1, E#2b (links to E#1) and E#2a (seq 2, prev made up). Node G takes all
//   three through its gossip topic validator, in either order of the two variants; node S takes
//   them through Ledger.ingest one at a time (as sync delivers them), in the same order.
// Expected: G ends as S: E's feed void from 2 (E signed two entries at seq 2).
// Was (measured before the fix): S recorded the fork in both orders; G Ignored E#2a and kept E#2b
//   as E's head.
// Fixed: the validator still Ignores an unlinked or causally refused entry (never forwarded, the
//   carrier not blamed), but once its signature verified it hands it to the ledger through the
//   same bounded queue as a gap's entry. The ledger judges it as for sync: a broken chain or causal
//   refusal remembered as a variant of its seq (refused-variants.ts), or fork evidence against the
//   entry it holds there. G now records the fork in both orders, as S does.
import { describe, expect, it } from 'vitest';
import { type Message } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { toHex } from '../../src/lib/core/bytes.js';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { startEntryGossip } from '../../src/lib/worker/entry-gossip.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { fakeGossipNode } from '../helpers/fake-gossip-node.js';

const TOPIC = 'tabula/test/entries';

const fakeNode = fakeGossipNode;

const peer = { toString: () => 'relay' } as unknown as PeerId;
const msg = (data: Uint8Array): Message => ({ type: 'unsigned', topic: TOPIC, data });

for (const order of ['broken variant first', 'linking variant first'] as const) {
  describe(`redteam6d: a refused variant over gossip (${order})`, () => {
    it('is fork evidence as it is through Ledger.ingest', async () => {
      const G = await openLedger(memoryLocation(), 111, { compactEvery: 0 });
      const S = await openLedger(memoryLocation(), 112, { compactEvery: 0 });
      const net = G.ledger.networkId;
      const E = await keysFromByte(113);
      const e = toHex(E.publicKey);
      const [e1, e2b] = await makeChain(E, 2, net);
      const e2a = await createEntry(
        {
          keys: E,
          seq: 2,
          prev: new Uint8Array(32).fill(9),
          lamport: 2,
          time: e2b.entry.time + 5,
          clock: 2,
          payload: yUpdateAt('other', 'x', clientIdOf(e), 1)
        },
        net
      );
      const variants = order === 'broken variant first' ? [e2a, e2b] : [e2b, e2a];
      const fake = fakeNode();
      const g = startEntryGossip(fake.node, G.ledger, TOPIC);
      const validate = fake.topicValidators.get(TOPIC)!;
      for (const h of [e1, ...variants]) {
        await validate(peer, msg(encodeEntry(h.entry)));
        await g.settled();
      }
      for (const h of [e1, ...variants]) await S.ledger.ingest([h]);
      expect(S.ledger.isForked(e)).toBe(true);
      expect(G.ledger.isForked(e)).toBe(true);
    });
  });
}
