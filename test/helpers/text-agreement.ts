// The check both surrogate-pair suites end with: an author's log taken by a fresh peer and the
// author's own store reopened give the author's state digest and its text under root `notes`.
import { expect } from 'vitest';
import { Ledger } from '../../src/lib/core/ledger.js';
import { genesis, memoryLocation, openLedger, testClock, type Location, type TestLedger } from './ledger-nodes.js';

/** Closes `a` (opened on `loc`); the peer gets key byte `peerKeyByte`. */
export async function expectPeerAndRestartAgree(
  a: TestLedger,
  loc: Location,
  peerKeyByte: number,
  text: string
): Promise<void> {
  const peer = await openLedger(memoryLocation(), peerKeyByte);
  expect((await peer.ledger.ingest(a.log)).rejected).toEqual([]);
  const digest = a.ledger.stats().stateDigest;
  expect(peer.ledger.stats().stateDigest).toBe(digest);
  expect(peer.ledger.registerType('notes', 'text').toString()).toBe(text);
  await a.ledger.close();
  const again = await Ledger.open({ genesis, keys: a.keys, store: await loc.open(), now: testClock() });
  expect(again.stats().stateDigest).toBe(digest);
  await again.close();
  await peer.ledger.close();
}
