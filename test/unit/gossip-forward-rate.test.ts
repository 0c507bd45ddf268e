// An honest node that forwards other peers' entries ahead of them stays under the relay's
// per-peer gossip rate (relay/limits.ts GOSSIP_LIMITS: 300/s, bursts of 600). A relay charges a
// message to the peer it first heard it from (rateLimitValidator takes the propagation source),
// so a node bridging relays that are not meshed, or carrying a WebRTC neighbour that has no relay
// link, pays for its neighbours' entries as well as its own. Before entry gossip paced its
// forwards (GOSSIP_FORWARD_RATE), a writer at its paced 200/s plus a neighbour's 200/s forwarded
// through it came to 400/s at the relay: from the 7th second on the relay refused and struck it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TopicValidatorResult, type Message, type TopicValidatorFn } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { PeerRateLimiter } from '../../relay/gossip-guard.js';
import { GOSSIP_LIMITS } from '../../relay/limits.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import type { AppendOrigin } from '../../src/lib/core/ledger.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { startEntryGossip, type GossipNode } from '../../src/lib/worker/entry-gossip.js';
import { GossipOutbox, type AppendSource } from '../../src/lib/worker/gossip-outbox.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const TOPIC = 'tabula/test/entries';
const SECONDS = 10;
const NEIGHBOUR_RATE = 200; // the neighbour's own outbox pace (GOSSIP_OUTBOX_RATE)

afterEach(() => void vi.useRealTimers());

async function authored(keyByte: number, n: number): Promise<HashedEntry[]> {
  const t = await openLedger(memoryLocation(), keyByte);
  for (let i = 0; i < n; i++) await t.ledger.put(`k${i}`, i);
  return t.log;
}

function replay(log: HashedEntry[]): AppendSource & { emitAll(): void } {
  let cb: ((h: HashedEntry, origin: AppendOrigin) => void) | undefined;
  return {
    onAppend(f) {
      cb = f;
      return () => (cb = undefined);
    },
    emitAll() {
      for (const h of log) cb?.(h, 'local');
    }
  };
}

describe('gossip forward rate', () => {
  it("a writer that also forwards a neighbour's paced entries is never refused by its relay", async () => {
    const neighbours = await authored(2, NEIGHBOUR_RATE * SECONDS);
    const own = await authored(3, 2_000);
    const me = await openLedger(memoryLocation(), 1);
    vi.useFakeTimers();
    // The relay's limiter as relay/node.ts builds it; everything below is charged to this node.
    const relay = new PeerRateLimiter({
      rate: GOSSIP_LIMITS.messagesPerSecond,
      burst: GOSSIP_LIMITS.messagesPerSecond * GOSSIP_LIMITS.burstSeconds,
      strikeHalfLifeMs: GOSSIP_LIMITS.strikeHalfLifeMs,
      maxStrikes: GOSSIP_LIMITS.maxStrikes
    });
    const validators = new Map<string, TopicValidatorFn>();
    const node = {
      services: {
        pubsub: {
          topicValidators: validators,
          subscribe: () => undefined,
          unsubscribe: () => undefined,
          publish: async () => ({ recipients: [] })
        }
      }
    } as unknown as GossipNode;
    const gossip = startEntryGossip(node, me.ledger, TOPIC);
    const validate = validators.get(TOPIC)!;
    // Its own burst of 2,000 writes, through the paced outbox.
    const source = replay(own);
    const outbox = new GossipOutbox(source);
    outbox.attach(
      {
        publish: async () => (relay.take('me'), { recipients: [1] }),
        getSubscribers: () => [1],
        addEventListener: () => undefined,
        removeEventListener: () => undefined
      },
      TOPIC
    );
    source.emitAll();
    // The neighbour's entries arrive at its paced rate; each one Accepted is forwarded to the relay.
    const from = { toString: () => 'neighbour' } as unknown as PeerId;
    const perTick = NEIGHBOUR_RATE / 10;
    for (let tick = 0; tick < SECONDS * 10; tick++) {
      for (const h of neighbours.slice(tick * perTick, (tick + 1) * perTick)) {
        const m: Message = { type: 'unsigned', topic: TOPIC, data: encodeEntry(h.entry) };
        if ((await validate(from, m)) === TopicValidatorResult.Accept) relay.take('me');
      }
      await vi.advanceTimersByTimeAsync(100);
    }
    await vi.advanceTimersByTimeAsync(1_000);
    await gossip.settled();
    expect(relay.refused).toBe(0);
    expect(relay.strikes('me')).toBe(0);
    expect(outbox.stats).toMatchObject({ published: 2_000, dropped: 0 });
    // Every one of the neighbour's entries is stored here; those over the forward rate were not forwarded.
    expect(gossip.stats.accepted + gossip.stats.unforwarded).toBe(neighbours.length);
    expect(gossip.stats.unforwarded).toBeGreaterThan(0);
    const author = toHex(neighbours[0]!.entry.author);
    expect(me.ledger.heads().find((h) => h.author === author)?.seq).toBe(neighbours.length);
    outbox.stop();
    gossip.stop();
  }, 60_000);
});
