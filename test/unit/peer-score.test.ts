// Peer scores and bans (src/lib/core/peers): EMA maths, RTT term, ban lengths and their growth,
// forgetting, protection of relays, bounded memory; discovery announcements bound to their signer.
import { describe, expect, it } from 'vitest';
import { PeerBook } from '../../src/lib/core/peers/score.js';
import {
  BAN_BASE_MS,
  BAN_FORGET_MS,
  BAN_MAX_MS,
  PEER_RTT_WEIGHT,
  PEER_SCORE_ALPHA
} from '../../src/lib/core/peers/constants.js';
import { FORGED_ANNOUNCEMENT, isBanOffence } from '../../src/lib/core/peers/offences.js';
import {
  checkAnnouncement,
  decodeAnnouncement,
  peerIdOfPublicKeyProto
} from '../../src/lib/core/peers/announcement.js';
import { peerIdOfAuthor } from '../../src/lib/core/peer-id.js';
import { toHex } from '../../src/lib/core/bytes.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('peer score', () => {
  it('is an exponential moving average of outcome values, 0 for a new peer', () => {
    const c = clock();
    const book = new PeerBook({ now: c.now });
    expect(book.score('a')).toBe(0);
    book.record('a', 'useful');
    expect(book.score('a')).toBeCloseTo(PEER_SCORE_ALPHA, 12);
    book.record('a', 'useful');
    expect(book.score('a')).toBeCloseTo(PEER_SCORE_ALPHA + (1 - PEER_SCORE_ALPHA) * PEER_SCORE_ALPHA, 12);
    // Converges towards the value of the repeated outcome.
    for (let i = 0; i < 100; i++) book.record('b', 'timeout');
    expect(book.score('b')).toBeCloseTo(-1, 6);
    for (let i = 0; i < 100; i++) book.record('c', 'late');
    expect(book.score('c')).toBeCloseTo(-0.5, 6);
    expect(book.info('c')?.counts).toEqual({ useful: 0, empty: 0, late: 100, timeout: 0, invalid: 0 });
  });

  it('subtracts an RTT term capped at PEER_RTT_WEIGHT', () => {
    const book = new PeerBook({ now: clock().now });
    book.setRtt('near', 20);
    book.setRtt('far', 5_000);
    expect(book.score('near')).toBeCloseTo(-PEER_RTT_WEIGHT * 0.02, 12);
    expect(book.score('far')).toBeCloseTo(-PEER_RTT_WEIGHT, 12);
    book.setRtt('near', Number.NaN); // ignored
    expect(book.score('near')).toBeCloseTo(-PEER_RTT_WEIGHT * 0.02, 12);
  });

  it('ranks useful, fast peers first and leaves banned peers out', () => {
    const book = new PeerBook({ now: clock().now });
    for (let i = 0; i < 5; i++) book.record('useful', 'useful');
    book.record('slow', 'useful');
    book.setRtt('slow', 400);
    book.record('fast', 'useful');
    book.setRtt('fast', 10);
    book.record('timeouts', 'timeout');
    book.offence('liar', 'bad-signature');
    expect(book.rank(['timeouts', 'liar', 'slow', 'new', 'fast', 'useful'])).toEqual([
      'useful',
      'fast',
      'slow',
      'new',
      'timeouts'
    ]);
  });
});

describe('bans', () => {
  it('bans for ban offences only, and only for BAN_BASE_MS the first time', () => {
    const c = clock();
    const book = new PeerBook({ now: c.now });
    expect(book.offence('p', 'causality')).toBeNull();
    expect(book.offence('p', 'sync-protocol')).toBeNull();
    expect(book.offence('p', 'broken-chain')).toBeNull();
    expect(book.isBanned('p')).toBe(false);
    expect(book.score('p')).toBeLessThan(-0.4);
    const ban = book.offence('p', 'bad-signature');
    expect(ban).toEqual({ peer: 'p', reason: 'bad-signature', since: c.t, until: c.t + BAN_BASE_MS, offences: 1 });
    expect(book.isBanned('p')).toBe(true);
    c.t += BAN_BASE_MS - 1;
    expect(book.bannedUntil('p')).toBe(ban!.until);
    c.t += 1;
    expect(book.isBanned('p')).toBe(false);
    expect(book.bans()).toEqual([]);
  });

  it('doubles the ban for each repeat offence, up to BAN_MAX_MS, and forgets after BAN_FORGET_MS', () => {
    const c = clock();
    const book = new PeerBook({ now: c.now });
    const lengths: number[] = [];
    for (let i = 0; i < 10; i++) {
      const ban = book.offence('p', 'malformed-entry')!;
      lengths.push(ban.until - ban.since);
      c.t = ban.until; // offends again right after the ban ends
    }
    expect(lengths.slice(0, 6)).toEqual([1, 2, 4, 8, 16, 32].map((k) => k * BAN_BASE_MS));
    expect(lengths.slice(6)).toEqual(Array(4).fill(BAN_MAX_MS));
    c.t += BAN_FORGET_MS + 1;
    const fresh = book.offence('p', 'malformed-entry')!;
    expect(fresh.until - fresh.since).toBe(BAN_BASE_MS);
    expect(fresh.offences).toBe(1);
    expect(book.bansTotal).toBe(11);
  });

  it('offences during a ban neither lengthen it nor count as repeats', () => {
    const c = clock();
    const book = new PeerBook({ now: c.now });
    const first = book.offence('p', 'bad-signature')!;
    for (let i = 0; i < 9; i++) {
      c.t += 1000;
      expect(book.offence('p', 'malformed-entry')).toEqual(first);
    }
    expect(book.bannedUntil('p')).toBe(first.until);
    expect(book.bansTotal).toBe(1);
    expect(book.info('p')?.counts.invalid).toBe(10);
    c.t = first.until;
    expect(book.offence('p', 'bad-signature')?.offences).toBe(2);
  });

  it('never bans protected peers (relays); their offences only lower the score', () => {
    const book = new PeerBook({ now: clock().now, isProtected: (p) => p === 'relay' });
    expect(book.offence('relay', 'bad-signature')).toBeNull();
    expect(book.ban('relay', 'bad-signature')).toBeNull();
    expect(book.isBanned('relay')).toBe(false);
    expect(book.score('relay')).toBeLessThan(0);
  });

  it('lists bans most recent first, bounded', () => {
    const c = clock();
    const book = new PeerBook({ now: c.now });
    for (let i = 0; i < 5; i++) {
      book.offence(`p${i}`, 'wrong-network');
      c.t += 1;
    }
    expect(book.bans(3).map((b) => b.peer)).toEqual(['p4', 'p3', 'p2']);
  });

  it('keeps memory bounded: unbanned peers go first (least recent), then the ban ending soonest', () => {
    const c = clock();
    const book = new PeerBook({ now: c.now, maxPeers: 4 });
    book.offence('bad1', 'bad-signature');
    c.t += 10;
    book.offence('bad2', 'bad-signature');
    book.record('old', 'useful');
    book.record('recent', 'useful');
    book.record('old', 'useful'); // touched again: now more recent than 'recent'
    book.record('new1', 'useful'); // evicts 'recent'
    expect(book.size).toBe(4);
    expect(book.info('recent')).toBeUndefined();
    expect(book.info('old')).toBeDefined();
    book.record('new2', 'useful'); // evicts 'old'
    book.record('new3', 'useful'); // evicts 'new1'
    expect(book.isBanned('bad1') && book.isBanned('bad2')).toBe(true);
    // Fill with bans: the one ending soonest (bad1) goes.
    const only = new PeerBook({ now: c.now, maxPeers: 2 });
    only.offence('b1', 'bad-signature');
    c.t += 10;
    only.offence('b2', 'bad-signature');
    only.offence('b3', 'bad-signature');
    expect(only.isBanned('b1')).toBe(false);
    expect(only.isBanned('b2') && only.isBanned('b3')).toBe(true);
    // Under an attacker minting 100,000 ids the book never grows past its cap.
    const big = new PeerBook({ now: c.now, maxPeers: 1000 });
    for (let i = 0; i < 100_000; i++) big.record(`x${i}`, 'invalid');
    expect(big.size).toBe(1000);
  });

  it('ban offences are exactly the data no honest node sends', () => {
    for (const code of [
      'bad-signature',
      'wrong-network',
      'oversized-entry',
      'malformed-entry',
      'malformed-payload',
      'sync-malformed',
      'sync-oversized',
      'sync-wrong-network',
      FORGED_ANNOUNCEMENT
    ])
      expect(isBanOffence(code), code).toBe(true);
    for (const code of ['causality', 'broken-chain', 'sync-protocol', 'sync-timeout', 'invalid', undefined])
      expect(isBanOffence(code), String(code)).toBe(false);
  });
});

/** The Peer protobuf pubsub-peer-discovery sends: 1 = public key, 2 = addrs. */
function announcement(publicKeyProto: Uint8Array, addrs: Uint8Array[] = []): Uint8Array {
  const field = (n: number, b: Uint8Array) => [(n << 3) | 2, b.length, ...b];
  return Uint8Array.from([...field(1, publicKeyProto), ...addrs.flatMap((a) => field(2, a))]);
}
const edKey = (byte: number) => Uint8Array.from([0x08, 0x01, 0x12, 0x20, ...new Uint8Array(32).fill(byte)]);

describe('discovery announcements', () => {
  it('derive the same PeerId as libp2p does for an Ed25519 key', () => {
    expect(peerIdOfPublicKeyProto(edKey(7))).toBe(peerIdOfAuthor(toHex(new Uint8Array(32).fill(7))));
    expect(peerIdOfPublicKeyProto(Uint8Array.from([0x08, 0x02, 0x12, 0x01, 0]))).toBeNull();
  });

  it('are accepted only from the peer they announce', () => {
    const me = peerIdOfAuthor(toHex(new Uint8Array(32).fill(1)));
    const other = peerIdOfAuthor(toHex(new Uint8Array(32).fill(2)));
    const bytes = announcement(edKey(1), [Uint8Array.from([4, 127, 0, 0, 1])]);
    expect(decodeAnnouncement(bytes).addrs).toHaveLength(1);
    expect(checkAnnouncement(bytes, me)).toBe('ok');
    expect(checkAnnouncement(bytes, other)).toBe(FORGED_ANNOUNCEMENT);
    expect(checkAnnouncement(bytes, undefined)).toBe(FORGED_ANNOUNCEMENT);
    expect(checkAnnouncement(Uint8Array.from([0x0a, 0x05, 1]), me)).toBe('malformed');
    expect(checkAnnouncement(announcement(Uint8Array.from([0x08, 0x02])), me)).toBe('unsupported-key');
    expect(checkAnnouncement(new Uint8Array(5000), me)).toBe('malformed');
  });
});

describe('dashboard formatting of scores and bans', () => {
  it('shows signed scores and the time left in a ban', async () => {
    const { formatBan, formatScore } = await import('../../src/lib/components/peer-score-format.js');
    expect([formatScore(null), formatScore(undefined), formatScore(0.734), formatScore(-1), formatScore(0)]).toEqual([
      '—',
      '—',
      '+0.73',
      '-1.00',
      '+0.00'
    ]);
    expect(formatBan(null, 0)).toBe('—');
    expect(formatBan(1000, 1000)).toBe('—');
    expect(formatBan(35_000, 0)).toBe('banned 35 s');
    expect(formatBan(BAN_BASE_MS * 4, 0)).toBe('banned 4 min');
  });
});
