// Hostile Node libp2p peers for the fault suite (S5, S11): WebSockets clients of the real relay,
// optionally dialling from another loopback address (127.0.0.2), so the relay sees them as one
// foreign IP while the honest browsers come from 127.0.0.1. Also the hostile entries they send.
import { createRequire } from 'node:module';
import { createRelayClient, dialRelay, type ClientNode } from '../helpers/relay-client.js';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { DEFAULT_MAX_ENTRY_BYTES } from '../../src/lib/core/constants.js';
import type { IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte, yUpdate } from '../helpers/ledger-fixtures.js';

type WsCtor = new (url: string, protocols?: string | string[], opts?: { localAddress?: string }) => WebSocket;
const Ws = (createRequire(import.meta.url)('ws') as { WebSocket: WsCtor }).WebSocket;
let sourceAddress: string | undefined;
// libp2p's WebSockets transport calls `new WebSocket(uri)`: this one binds the chosen source.
globalThis.WebSocket = class extends Ws {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, sourceAddress === undefined ? {} : { localAddress: sourceAddress });
  }
} as unknown as typeof WebSocket;

/** Creates a client and dials the relay from `from` (e.g. 127.0.0.2); throws if refused. */
export async function attacker(relay: string, from: string, reserve: boolean): Promise<ClientNode> {
  const c = await createRelayClient({ reserve });
  sourceAddress = from;
  try {
    await dialRelay(c, relay);
  } finally {
    sourceAddress = undefined;
  }
  return c;
}

/** The relay's libp2p address, from the site's /api/relays. */
export async function relayAddress(origin: string): Promise<string> {
  const body = (await (await fetch(`${origin}/api/relays`)).json()) as { relays: string[] };
  const ws = body.relays.find((r) => r.includes('/ws/'));
  if (ws === undefined) throw new Error(`no WebSocket relay address in ${JSON.stringify(body)}`);
  return ws;
}

/** One value of the relay's Prometheus text (/metrics), or NaN; `name` may carry labels (`x{kind="y"}`). */
export async function relayMetric(origin: string, name: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const escaped = name.replace(/[{}()[\]\\.*+?^$|]/g, '\\$&');
  const m = new RegExp(`^${escaped}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

export const HOSTILE_KINDS = [
  'bad-signature',
  'broken-chain',
  'wrong-genesis',
  'oversized',
  'malformed',
  'forged-yjs-client',
  'garbage-yjs'
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** A hostile author: its key, and one valid first entry (a control that must get through). */
export interface HostileAuthor {
  keys: IdentityKeys;
  author: string;
  control: Uint8Array;
  make(kind: HostileKind, n: number): Promise<Uint8Array>;
  /** A validly signed seq 2 whose prev is not the control entry: a broken chain at the known head + 1. */
  brokenLink(n: number): Promise<Uint8Array>;
}

export async function hostileAuthor(keyByte: number, controlKey: string): Promise<HostileAuthor> {
  const keys = await keysFromByte(keyByte);
  const author = toHex(keys.publicKey);
  const net = networkId(defaultGenesis());
  const other = networkId({ ...defaultGenesis(), name: 'elsewhere' });
  const client = clientIdOf(author);
  const sign = async (seq: number, payload: Uint8Array, prev = new Uint8Array(32), onNet = net) =>
    encodeEntry(
      (await createEntry({ keys, seq, prev, lamport: seq, time: Date.now(), clock: seq === 1 ? 1 : 0, payload }, onNet))
        .entry
    );
  const control = await sign(1, yUpdate(controlKey, 'control', client));
  const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  return {
    keys,
    author,
    control,
    brokenLink: (n) => sign(2, yUpdate(`link-${n}`, n, client), rnd(32)),
    async make(kind, n) {
      const seq = 2 + n;
      switch (kind) {
        case 'bad-signature': {
          const b = await sign(seq, yUpdate(`bad-${n}`, n, client), rnd(32));
          b[b.length - 5] ^= 0xff;
          return b;
        }
        case 'broken-chain':
          return sign(seq + 100, yUpdate(`gap-${n}`, n, client), rnd(32));
        case 'wrong-genesis':
          return sign(1, yUpdate(`alien-${n}`, n, client), new Uint8Array(32), other);
        case 'oversized':
          return sign(seq, yUpdate(`big-${n}`, 'x'.repeat(DEFAULT_MAX_ENTRY_BYTES + 100), client), rnd(32));
        case 'malformed':
          return rnd(40 + n);
        case 'forged-yjs-client':
          // Structs under someone else's Yjs clientID: would let one author overwrite another's.
          return sign(
            seq,
            yUpdate(`forged-${n}`, n, clientIdOf('00'.repeat(31) + (n % 256).toString(16).padStart(2, '0'))),
            rnd(32)
          );
        case 'garbage-yjs':
          return sign(seq, rnd(64 + n), rnd(32));
      }
    }
  };
}

export type { ClientNode };
