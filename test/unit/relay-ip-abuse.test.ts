// Per-IP abuse scoring (relay/ip-abuse.ts): refusals score their IP; an abusive IP's peers fall
// below the gossipsub graylist, its reservations are revoked and its new connections refused,
// while honest peers from another IP keep their score and reservation.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ABUSE_POINTS, IpAbuse } from '../../relay/ip-abuse.js';
import { GRAYLIST_THRESHOLD } from '../../relay/gossip-guard.js';
import { parseConfig } from '../../relay/config.js';
import type { RunningRelay } from '../../relay/server.js';
import { attacker } from '../e2e/attackers.js';
import { createRelayClient, dialRelay, waitFor, type ClientNode } from '../helpers/relay-client.js';
import { relayAddr, startTestRelay } from '../helpers/relay-fixture.js';

const limits = { threshold: 5, halfLifeMs: 1000, connectionsPerSecond: 2, connectionBurst: 3, maxIps: 4 };

describe('IpAbuse', () => {
  it('scores refusals per IP; an IP is abusive from the threshold until its points decay', () => {
    let t = 0;
    const abuse = new IpAbuse(limits, () => t);
    const turned: string[] = [];
    abuse.onAbusive = (ip) => turned.push(ip);
    for (let i = 0; i < 4; i++) abuse.record('10.0.0.9', 'connection');
    expect(abuse.isAbusive('10.0.0.9')).toBe(false);
    abuse.record('10.0.0.9', 'reservation');
    expect(abuse.isAbusive('10.0.0.9')).toBe(true);
    expect(abuse.isAbusive('10.0.0.1')).toBe(false);
    expect(turned).toEqual(['10.0.0.9']);
    expect(abuse.abusiveIps()).toEqual(['10.0.0.9']);
    t = 1000; // one half-life: 2.5 points
    expect(abuse.points('10.0.0.9')).toBeCloseTo(2.5);
    expect(abuse.isAbusive('10.0.0.9')).toBe(false);
    expect(abuse.events).toMatchObject({ connection: 4, reservation: 1 });
  });

  it('a ban weighs five refusals; gossip over the rate is counted but never makes an IP abusive', () => {
    const abuse = new IpAbuse(limits, () => 0);
    abuse.record('a', 'ban');
    for (let i = 0; i < 1000; i++) abuse.record('b', 'gossip');
    expect(abuse.points('a')).toBe(ABUSE_POINTS.ban);
    expect(abuse.isAbusive('a')).toBe(true);
    expect(abuse.isAbusive('b')).toBe(false);
    expect(abuse.events.gossip).toBe(1000);
  });

  it('admits a burst of connections per IP, then the rate; each refusal scores the IP', () => {
    let t = 0;
    const abuse = new IpAbuse(limits, () => t);
    expect([1, 2, 3, 4].map(() => abuse.admitConnection('x'))).toEqual([true, true, true, false]);
    expect(abuse.points('x')).toBe(1);
    t = 500; // one token back at 2/s
    expect(abuse.admitConnection('x')).toBe(true);
    expect(abuse.admitConnection('x')).toBe(false);
    expect(abuse.admitConnection('y')).toBe(true);
  });

  it('threshold 0 turns scoring off (the rate still applies)', () => {
    const abuse = new IpAbuse({ ...limits, threshold: 0 }, () => 0);
    for (let i = 0; i < 100; i++) abuse.record('x', 'connection');
    expect(abuse.isAbusive('x')).toBe(false);
    expect([1, 2, 3, 4].map(() => abuse.admitConnection('x'))).toEqual([true, true, true, false]);
  });

  it('tracks a bounded number of IPs', () => {
    const abuse = new IpAbuse(limits, () => 0);
    for (let i = 0; i < 10; i++) abuse.record(`10.0.0.${i}`, 'connection');
    expect(abuse.size).toBe(limits.maxIps);
  });

  it('is configurable: --ip-abuse-threshold and TABULA_IP_ABUSE_THRESHOLD, 0 allowed', () => {
    expect(parseConfig(['--ip-abuse-threshold', '0'], {}).ipAbuseThreshold).toBe(0);
    expect(parseConfig([], { TABULA_IP_ABUSE_THRESHOLD: '7' }).ipAbuseThreshold).toBe(7);
    expect(() => parseConfig(['--ip-abuse-threshold', '-1'], {})).toThrow(/expected an integer/);
  });
});

describe('relay: one IP flooding with many peer ids', () => {
  const running: Array<{ stop(): void | Promise<void> }> = [];
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.stop();
  });

  it('graylists every connected attacker id, revokes their reservations and refuses new ones; the honest client keeps its score and reservation', async () => {
    // Low per-IP caps, so the flood meets refusals however slowly this machine dials.
    const r: RunningRelay = await startTestRelay({
      ipAbuseThreshold: 5,
      maxConnectionsPerIp: 4,
      maxReservationsPerIp: 2
    });
    running.push(r);
    const honest: ClientNode = await createRelayClient({ reserve: true });
    running.push(honest);
    await dialRelay(honest, relayAddr(r));
    await waitFor(() => r.node.services.relay.reservations.size === 1, 'the honest reservation');
    const attackers: ClientNode[] = [];
    let refused = 0;
    for (let i = 0; i < 25; i++) {
      try {
        const a = await attacker(relayAddr(r), '127.0.0.2', true);
        attackers.push(a);
        running.push(a);
      } catch {
        refused++;
      }
    }
    expect(refused).toBeGreaterThanOrEqual(5);
    expect(attackers.length).toBeGreaterThan(0);
    expect(r.guards.abuse.abusiveIps()).toEqual(['127.0.0.2']);
    const pubsub = r.node.services.pubsub as unknown as { getScore(p: string): number };
    await vi.waitFor(
      () => {
        for (const a of attackers) expect(pubsub.getScore(a.peerId.toString())).toBeLessThan(GRAYLIST_THRESHOLD);
      },
      { timeout: 10_000, interval: 100 }
    );
    expect(pubsub.getScore(honest.peerId.toString())).toBeGreaterThanOrEqual(0);
    // Only the honest reservation is left; a fresh id from the abusive IP is refused at once.
    await waitFor(() => r.node.services.relay.reservations.size === 1, 'attacker reservations revoked', 5000);
    expect([...r.node.services.relay.reservations.keys()].map(String)).toEqual([honest.peerId.toString()]);
    await expect(attacker(relayAddr(r), '127.0.0.2', false)).rejects.toThrow();
    const metrics = await (await fetch(`${r.url}/metrics`)).text();
    expect(metrics).toMatch(/^tabula_relay_abusive_ips 1$/m);
    expect(metrics).toMatch(new RegExp(`^tabula_relay_abusive_peers ${attackers.length}$`, 'm'));
    expect(metrics).toMatch(/^tabula_relay_abuse_events_total\{kind="connection"\} [1-9]\d*$/m);
  }, 60_000);
});
