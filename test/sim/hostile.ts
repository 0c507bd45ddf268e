// A hostile peer for the simulation: it runs a real engine (so honest nodes learn its heads and
// ask it for ranges) but answers every range request of another author with its own entries,
// and of its own feed past its first two entries with poison:
// bad signatures, broken chains, entries of another network, oversized and malformed entries,
// forged payloads (structs under another author's Yjs clientID); and now and then it replaces a
// whole sync message with garbage or an oversized blob.
import { createEntry } from '../../src/lib/core/entry.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import { SYNC_MAX_MESSAGE_BYTES } from '../../src/lib/core/sync/constants.js';
import { genesis } from '../helpers/ledger-nodes.js';
import type { TestLedger } from '../helpers/ledger-nodes.js';
import { keysFromByte, yUpdate } from '../helpers/ledger-fixtures.js';
import { toHex } from '../../src/lib/core/bytes.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import type { Rand } from '../helpers/fake-feed.js';
import { randomBytes } from '../helpers/fake-feed.js';

export const POISON_MODES = [
  'bad-signature',
  'broken-chain',
  'wrong-network',
  'oversized',
  'malformed',
  'forged'
] as const;

/** Serves only seq 1..2 of its own feed honestly; everything else is poison. */
export function hostileReplica(base: SyncReplica, tl: TestLedger, rand: Rand, stats = { poisoned: 0 }): SyncReplica {
  const me = tl.ledger.author;
  const otherNet = networkId({ ...genesis, name: 'elsewhere' });
  const sign = async (seq: number, payload: Uint8Array, net = tl.ledger.networkId) =>
    encodeEntry(
      (
        await createEntry(
          { keys: tl.keys, seq, prev: randomBytes(32, rand), lamport: seq + 100, time: 1, payload },
          net
        )
      ).entry
    );
  return {
    ...base,
    async getRange(author, from, to, maxBytes) {
      if (author === me && from <= 2) return base.getRange(author, from, Math.min(to, 2), maxBytes);
      // Asked for another author: its own entries instead (refused unread: sync-range-mismatch).
      if (author !== me) return base.getRange(me, 1, 2, maxBytes);
      const mode = POISON_MODES[stats.poisoned++ % POISON_MODES.length];
      const seq = Math.max(3, from);
      const mine = yUpdate(`h${seq}`, 'x', clientIdOf(me));
      switch (mode) {
        case 'bad-signature': {
          const real = await base.getRange(author, from, to, maxBytes);
          if (real.length === 0) return [await sign(seq, mine).then(flipLast)];
          return real.map(flipLast);
        }
        case 'broken-chain':
          return [await sign(seq, mine)];
        case 'wrong-network':
          return [await sign(seq, mine, otherNet)];
        case 'oversized':
          return [await sign(seq, yUpdate(`h${seq}`, 'x'.repeat(70_000), clientIdOf(me)))];
        case 'malformed':
          return [randomBytes(50 + Math.floor(rand() * 300), rand)];
        case 'forged':
          return [await sign(seq, yUpdate(`h${seq}`, 'forged', clientIdOf('00'.repeat(32))))];
      }
    }
  };
}

function flipLast(b: Uint8Array): Uint8Array {
  const c = b.slice();
  c[c.length - 1] ^= 0xff;
  return c;
}

/** Replaces one message in ten with random bytes and one in twenty with an oversized blob (counted in stats.sent). */
export function hostileSend(rand: Rand, stats = { sent: 0 }): (to: string, bytes: Uint8Array) => Uint8Array {
  return (_to, bytes) => {
    const n = stats.sent++;
    if (n % 20 === 7) return new Uint8Array(SYNC_MAX_MESSAGE_BYTES + 1);
    if (n % 10 === 3) return randomBytes(1 + Math.floor(rand() * 200), rand);
    return bytes;
  };
}

/**
 * An equivocating author: two signed entries at seq 1 of one fresh key (values 'A' and 'B' under
 * key 'eq'), the first ingested at node `a`, the second at node `b` of `c`. Returns the author and
 * both entries.
 */
export async function equivocate(
  c: { nodes: Map<string, { tl: TestLedger }> },
  a: string,
  b: string,
  keyByte = 99
): Promise<{ evil: string; ea: HashedEntry; eb: HashedEntry }> {
  const keys = await keysFromByte(keyByte);
  const evil = toHex(keys.publicKey);
  const net = c.nodes.get(a)!.tl.ledger.networkId;
  const fork = (v: string) =>
    createEntry(
      {
        keys,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 1,
        time: 1,
        clock: 1,
        payload: yUpdate('eq', v, clientIdOf(evil))
      },
      net
    );
  const [ea, eb] = [await fork('A'), await fork('B')];
  await c.nodes.get(a)!.tl.ledger.ingest([encodeEntry(ea.entry)]);
  await c.nodes.get(b)!.tl.ledger.ingest([encodeEntry(eb.entry)]);
  return { evil, ea, eb };
}
