// Join ranking by peer score (issue 9: "gap fill and join prefer the best peers"): the worker's
// JoinDriver hands the Joiner the PeerGuard's score, and a join round asks the JOIN_PEERS best
// scored peers, best first; the worst scored peers are not asked. A fake libp2p node records
// which peers the driver opens join streams to, and in which order.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import { PeerBook } from '../../src/lib/core/peers/score.js';
import { JOIN_PEERS, JOIN_PROTOCOL_ID } from '../../src/lib/core/join/constants.js';
import { shortNetworkId } from '../../src/lib/core/topics.js';
import { JoinDriver } from '../../src/lib/worker/join-driver.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

type Listener = (ev: { detail: unknown }) => void;

/** The parts of libp2p the driver uses; `opened` lists the peers it opened join streams to, in order. */
function fakeNode() {
  const listeners = new Map<string, Listener[]>();
  const opened: string[] = [];
  return {
    opened,
    emit: (type: string, detail: unknown) => listeners.get(type)?.forEach((l) => l({ detail })),
    handle: async () => undefined,
    unhandle: async () => undefined,
    getConnections: (peer?: PeerId) =>
      peer === undefined
        ? []
        : [
            {
              status: 'open',
              limits: undefined,
              remotePeer: peer,
              newStream: async () => {
                opened.push(peer.toString());
                throw new Error('no streams in this test');
              }
            }
          ],
    addEventListener: (type: string, l: Listener) => listeners.set(type, [...(listeners.get(type) ?? []), l]),
    removeEventListener: (type: string, l: Listener) =>
      listeners.set(
        type,
        (listeners.get(type) ?? []).filter((x) => x !== l)
      )
  };
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

describe('join ranking by peer score', () => {
  it('the worker join asks the best scored peers first and leaves the worst out', async () => {
    const peers: string[] = [];
    for (let i = 0; i < 5; i++) {
      peers.push(
        peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(i + 1))).toString()
      );
    }
    const book = new PeerBook({ now: Date.now });
    const [p0, p1, p2, p3, p4] = peers;
    for (let i = 0; i < 5; i++) book.record(p0, 'useful'); // ~0.67
    for (let i = 0; i < 3; i++) book.record(p1, 'timeout'); // ~-0.49
    book.record(p2, 'useful'); // 0.2
    book.record(p3, 'useful');
    book.record(p3, 'useful');
    book.setRtt(p3, 100); // 0.36 - 0.025
    // p4: never scored, 0
    const expected = [p0, p3, p2];
    expect(book.rank(peers).slice(0, JOIN_PEERS)).toEqual(expected);
    // Without the scores the ties-by-id order would ask other peers: the test can fail.
    expect([...peers].sort().slice(0, JOIN_PEERS)).not.toEqual(expected);

    const tl = await openLedger(memoryLocation(), 30);
    const protocol = JOIN_PROTOCOL_ID(shortNetworkId(tl.ledger.networkIdHex));
    const driver = new JoinDriver({
      ledger: tl.ledger,
      keys: tl.keys,
      protocol,
      enabled: true,
      onChange: () => undefined,
      waitMs: 60_000
    });
    stops.push(() => driver.stop());
    const node = fakeNode();
    await driver.setup(node as never, { offence: () => null, book });
    // Identified in an order unrelated to the scores (worst first).
    for (const p of [p1, p4, p2, p3, p0]) {
      node.emit('peer:identify', {
        peerId: peerIdFromString(p),
        protocols: [protocol],
        connection: { limits: undefined }
      });
    }
    await vi.waitFor(() => expect(node.opened.length).toBe(JOIN_PEERS), { timeout: 5_000, interval: 20 });
    expect(node.opened).toEqual(expected);
  });
});
