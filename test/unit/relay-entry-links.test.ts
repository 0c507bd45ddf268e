// The relay forwards only entries that link (relay/entry-links.ts): broken chains and entries with
// an unknown predecessor are Ignored (not forwarded, nobody penalised), even from a peer that is
// not banned yet; honest entries validated out of order still pass.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { entryLinkGuard, IGNORE_MESSAGE } from '../../relay/entry-links.js';
import type { RunningRelay } from '../../relay/server.js';
import { GRAYLIST_THRESHOLD } from '../../relay/gossip-guard.js';
import { createRelayClient, dialRelay, waitFor, type ClientNode } from '../helpers/relay-client.js';
import { relayAddr, startTestRelay } from '../helpers/relay-fixture.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const genesis = defaultGenesis();
const net = networkId(genesis);

/** `n` entries of one author (`keyByte`), chained; `tag` makes another chain of the same key. */
async function chain(keyByte: number, n: number, tag = ''): Promise<HashedEntry[]> {
  const l = await openLedger(memoryLocation(), keyByte, { genesis });
  for (let i = 0; i < n; i++) await l.ledger.put(`k${i}`, `${tag}${i}`);
  return l.log;
}

const bytes = (h: HashedEntry): Uint8Array => encodeEntry(h.entry);

describe('entryLinkGuard (no network)', () => {
  it('accepts a chain from seq 1, Ignores a gap and a broken chain, rejects junk with its code', async () => {
    const g = entryLinkGuard(net, genesis);
    const [e1, e2, e3] = await chain(11, 3);
    const other = await chain(11, 2, 'other'); // same author, another seq 1 and 2
    expect(await g.validate(bytes(e3))).toBe(IGNORE_MESSAGE); // unknown author past seq 1 (after the wait)
    expect(await g.validate(bytes(e1))).toBe(true);
    expect(await g.validate(bytes(other[1]))).toBe(IGNORE_MESSAGE); // prev is not the e1 it knows
    expect(await g.validate(bytes(e2))).toBe(true);
    expect(await g.validate(bytes(e3))).toBe(true);
    const forged = bytes(e3);
    forged[forged.length - 3] ^= 1;
    expect(await g.validate(forged)).toBe('bad-signature');
    expect(g.links.counts).toMatchObject({ links: 3, broken: 1, gaps: 1 });
  });

  it('an entry Ignored as a gap is learnt once its late predecessor passes: the next entries are forwarded again', async () => {
    const g = entryLinkGuard(net, genesis);
    const [e1, e2, e3, e4] = await chain(15, 4);
    expect(await g.validate(bytes(e1))).toBe(true);
    expect(await g.validate(bytes(e3))).toBe(IGNORE_MESSAGE); // e2 is late (after the wait)
    expect(await g.validate(bytes(e2))).toBe(true);
    expect(await g.validate(bytes(e4))).toBe(true); // links to e3, learnt when e2 passed
  });

  it('accepts honest entries whose checks finish out of order (concurrent validation)', async () => {
    const g = entryLinkGuard(net, genesis);
    const es = await chain(12, 6);
    // Validation starts newest first; each waits for its predecessor.
    const verdicts = await Promise.all([...es].reverse().map((e) => g.validate(bytes(e))));
    expect(verdicts).toEqual(Array(6).fill(true));
  });

  it('an archive relay finds predecessors in its ledger', async () => {
    const es = await chain(13, 3);
    const held = new Map(es.map((e) => [e.entry.seq, Buffer.from(e.hash).toString('hex')]));
    const g = entryLinkGuard(net, genesis, (_a, seq) => (held.has(seq) ? [held.get(seq)!] : []));
    expect(await g.validate(bytes(es[2]))).toBe(true);
  });
});

describe('relay: broken chains are not forwarded', () => {
  const running: Array<{ stop(): void | Promise<void> }> = [];
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.stop();
  });

  async function client(r: RunningRelay): Promise<ClientNode> {
    const c = await createRelayClient({ reserve: false });
    running.push(c);
    await dialRelay(c, relayAddr(r));
    return c;
  }

  it('forwards the linked entries only, and penalises nobody for the others', async () => {
    const r = await startTestRelay();
    running.push(r);
    const topic = r.node.services.pubsub.getTopics().find((t) => t.endsWith('/entries'))!;
    const [a, b] = [await client(r), await client(r)];
    for (const c of [a, b]) c.services.pubsub.subscribe(topic);
    await waitFor(
      () => [a, b].every((c) => c.services.pubsub.getSubscribers(topic).some((p) => p.equals(r.node.peerId))),
      'both clients to see the relay subscribed'
    );
    await waitFor(() => r.node.services.pubsub.getSubscribers(topic).length === 2, 'the relay to see both');
    const got: string[] = [];
    b.services.pubsub.addEventListener('message', (ev) => {
      if (ev.detail.topic === topic) got.push(Buffer.from(ev.detail.data).toString('hex'));
    });
    const [e1, e2, e3] = await chain(14, 3);
    const other = await chain(14, 3, 'other');
    const hex = (h: HashedEntry) => Buffer.from(bytes(h)).toString('hex');
    // seq 1, then a gap (seq 3 of another chain: its seq 2 is never sent), a broken chain (another
    // seq 2), then the honest seq 2 and 3.
    for (const h of [e1, other[2], other[1], e2, e3]) await a.services.pubsub.publish(topic, bytes(h));
    await waitFor(() => got.length >= 3, 'the three linked entries at b');
    const metric = async () =>
      Number(/^tabula_relay_unlinked_entries_total (\d+)$/m.exec(await (await fetch(`${r.url}/metrics`)).text())?.[1]);
    for (let t = Date.now(); (await metric()) < 2 && Date.now() - t < 5000;)
      await new Promise((res) => setTimeout(res, 50));
    expect(await metric()).toBe(2);
    expect([...got].sort()).toEqual([hex(e1), hex(e2), hex(e3)].sort());
    expect(r.guards.rejectedMessages.count).toBe(0);
    expect(r.guards.bans.total).toBe(0);
    const score = (p: ClientNode) =>
      (r.node.services.pubsub as unknown as { getScore(p: string): number }).getScore(p.peerId.toString());
    expect(score(a)).toBeGreaterThan(GRAYLIST_THRESHOLD);
    expect(score(a)).toBeGreaterThanOrEqual(0);
  });
});
