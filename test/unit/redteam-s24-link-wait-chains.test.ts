// Review (s24) of the first version of link-wait shares (f29c34b): a hostile direct peer still
// filled the gossip queue cheaply, through waits the shares did not see. ChainLinks asked for a
// share only for a wait on a predecessor never seen or on a run head already in such a wait, so
//  (a) batches whose heads named a non-head entry of a waiting run, and
//  (b) single entries sent newest first (each checked while its predecessor was being verified)
// waited up to LINKS_WAIT_MS for free, holding slots of the queue: 5 messages (a share of 2 spent)
// or 256 kept honest gossip dropped while the node stayed on the topic, ~10 messages/s.
// Fixed: any link check still waiting after GOSSIP_LINK_GRACE_MS takes its peer's share or makes
// its run a gap at once (entry-gossip.ts withGrace), whatever it waits for.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { encodeGossipMessage } from '../../src/lib/core/gossip-batch.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { startEntryGossip, type EntryGossip } from '../../src/lib/worker/entry-gossip.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { authoredEntries, fakeGossipNode, fakePeer, manualLinkTimers, topicMessage } from '../helpers/gossip-fake.js';

const TOPIC = 'tabula/test/entries';

const fakeNode = fakeGossipNode;
const peer = fakePeer;
const msg = (data: Uint8Array): Message => topicMessage(TOPIC, data);
const authored = authoredEntries;
const manualTimers = manualLinkTimers;
const batch = (hs: HashedEntry[]): Uint8Array => encodeGossipMessage(hs.map((h) => encodeEntry(h.entry)));

let me: TestLedger;
let fake: ReturnType<typeof fakeNode>;
let g: EntryGossip | undefined;

beforeEach(async () => {
  me = await openLedger(memoryLocation(), 1);
  fake = fakeNode();
});

afterEach(() => {
  g?.stop();
  g = undefined;
  vi.restoreAllMocks();
});

describe('red team s24: link waits past the grace', () => {
  it('(a) five batches behind one gap run: past the grace, one run holds the share, four are gaps; honest gossip is taken', async () => {
    const x = await authored(70, 259); // seq 1..259; seq 1 is never sent
    const honest = await authored(9, 1);
    const { timers, links } = manualTimers();
    g = startEntryGossip(fake.node, me.ledger, TOPIC, undefined, { links, linkWaits: { perPeer: 2 }, linkGraceMs: 20 });
    const v = fake.topicValidators.get(TOPIC)!;
    const stats = g.stats;
    const runs = [x.slice(1, 3), x.slice(3, 67), x.slice(67, 131), x.slice(131, 195), x.slice(195, 259)];
    const sent = runs.map((r) => v(peer('hostile'), msg(batch(r))));
    // The run after it is refused a share and becomes a gap; the ones behind it follow at once.
    await vi.waitFor(() => expect(stats).toMatchObject({ waitingOnShares: 2, unlinked: 256 }));
    expect(stats.linkWaitsRefused).toBeGreaterThanOrEqual(1);
    await g.settled();
    expect(stats.inProgress).toBe(2); // the run on the share, outside the cap
    expect(await v(peer('honest'), msg(encodeEntry(honest[0]!.entry)))).toBe(TopicValidatorResult.Accept);
    expect(stats).toMatchObject({ shed: false, accepted: 1 });
    for (const t of timers.splice(0)) t();
    await Promise.all(sent);
    await g.settled();
    expect(stats).toMatchObject({ inProgress: 0, waitingOnShares: 0, unlinked: 258 });
  });

  it('(b) single entries sent newest first: past the grace, two hold the share, the rest are gaps; honest gossip is taken', async () => {
    const x = await authored(71, 257); // seq 2..257 sent (256 messages, the cap), newest first
    const honest = await authored(9, 5);
    const { timers, links } = manualTimers();
    g = startEntryGossip(fake.node, me.ledger, TOPIC, undefined, { links, linkWaits: { perPeer: 2 }, linkGraceMs: 20 });
    const v = fake.topicValidators.get(TOPIC)!;
    const stats = g.stats;
    const sent = x
      .slice(1)
      .reverse()
      .map((h) => v(peer('hostile'), msg(encodeEntry(h.entry))));
    await vi.waitFor(() => expect(stats.waitingOnShares + stats.unlinked).toBe(256));
    await g.settled();
    expect(stats.waitingOnShares).toBeLessThanOrEqual(2);
    // Five honest messages arriving together: all taken.
    const verdicts = await Promise.all(honest.map((h, i) => v(peer(`honest${i}`), msg(encodeEntry(h.entry)))));
    expect(verdicts.every((r) => r === TopicValidatorResult.Accept)).toBe(true);
    expect(stats).toMatchObject({ dropped: 0, shed: false, accepted: 5 });
    for (const t of timers.splice(0)) t();
    await Promise.all(sent);
    await g.settled();
    expect(stats).toMatchObject({ inProgress: 0, waitingOnShares: 0, unlinked: 256 });
  });
});
