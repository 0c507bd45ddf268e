// Peer scoring and bans in the simulation: honest nodes run the PeerBook the worker runs
// (src/lib/core/peers); a hostile peer serving poison is banned within 10 invalid answers, its
// links stay closed while the ban lasts, repeat bans grow, and honest sync carries on; a silent
// peer is never banned but ranks below the honest ones.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { compareHonest, seeds } from './scenario.js';
import { hostileReplica, hostileSend } from './hostile.js';
import { mulberry32 } from '../helpers/fake-feed.js';
import { isBanOffence } from '../../src/lib/core/peers/offences.js';
import { BAN_BASE_MS, BAN_FACTOR } from '../../src/lib/core/peers/constants.js';

const lossy = { loss: 0.05, dup: 0.05, latencyMin: 2, latencyMax: 60 };

describe('sync simulation: peer scoring and bans', () => {
  it('a hostile peer is banned within 10 invalid answers while honest traffic flows on; repeat bans grow; a silent peer ranks last', async () => {
    for (const seed of seeds(3, 5000)) {
      const r = mulberry32(seed);
      const c = new Cluster({ seed, link: lossy, gossip: false });
      const honest = ['h0', 'h1', 'h2', 'h3'];
      for (const [i, id] of honest.entries()) await c.addNode(id, i + 1, { scoring: true });
      const evil = await c.addNode('evil', 66, {
        honest: false,
        wrapReplica: (base, tl) => hostileReplica(base, tl, r),
        wrapSend: hostileSend(r, { sent: 0 })
      });
      for (let i = 0; i < 10; i++) await evil.tl.ledger.put(`e${i}`, i);
      // Takes part in exchanges but never answers a range request (`entries`, type byte 6).
      const mute = await c.addNode('mute', 88, { honest: false, wrapSend: (_to, b) => (b[0] === 6 ? null : b) });
      for (let i = 0; i < 3; i++) await mute.tl.ledger.put(`m${i}`, i);
      c.refreshLinks();
      // Redials: every second, links that may talk (and are not banned) open again.
      const redial = (): void => {
        c.refreshLinks();
        c.net.schedule(1000, redial);
      };
      c.net.schedule(1000, redial);
      for (let i = 0; i < 30; i++) {
        const who = honest[Math.floor(r() * 4)];
        c.net.schedule(r() * 2000, () => c.write(who, `k${i % 5}`, i));
      }
      await c.net.run(() => false, 2500);
      expect(await c.settle(120_000), `SEED=${seed}`).toBe(true);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);

      const nodes = honest.map((id) => c.nodes.get(id)!);
      let worst = 0;
      for (const n of nodes) {
        const fromEvil = n.rejections.filter((x) => x.peer === 'evil');
        if (fromEvil.length === 0) continue;
        const first = fromEvil.findIndex((x) => isBanOffence(x.code)) + 1;
        worst = Math.max(worst, first);
        expect(first, `SEED=${seed} ${n.id}: invalid answers before the ban`).toBeGreaterThan(0);
        expect(first, `SEED=${seed} ${n.id}`).toBeLessThanOrEqual(10);
        expect(n.book!.isBanned('evil'), `SEED=${seed} ${n.id}`).toBe(true);
        expect(n.links.has('evil'), `SEED=${seed} ${n.id}: link closed while banned`).toBe(false);
      }
      expect(worst, `SEED=${seed}: some honest node met the poison`).toBeGreaterThan(0);
      // Nobody honest was banned by anyone, and the mute peer is never banned.
      for (const n of nodes) {
        for (const p of [...honest, 'mute']) expect(n.book!.isBanned(p), `SEED=${seed} ${n.id} bans ${p}`).toBe(false);
      }

      // Honest traffic flows on after the bans.
      for (let i = 0; i < 20; i++) c.net.schedule(r() * 2000, () => c.write(honest[i % 4], `later${i}`, i));
      await c.net.run(() => false, c.net.time + 2500);
      expect(await c.settle(120_000), `SEED=${seed}`).toBe(true);
      expect(compareHonest(c), `SEED=${seed}`).toEqual([]);

      // Gap fill ranks honest peers above the silent one (it times out) at every honest node.
      for (const n of nodes) {
        const ranked = n.book!.rank([...honest.filter((p) => p !== n.id), 'mute', 'evil']);
        expect(ranked.includes('evil'), `SEED=${seed} ${n.id}`).toBe(false);
        expect(ranked.at(-1), `SEED=${seed} ${n.id}: ${ranked.map((p) => `${p}=${n.book!.score(p).toFixed(2)}`)}`).toBe(
          'mute'
        );
      }

      // Bans end, the hostile peer comes back, offends again and is banned for longer.
      await c.net.run(() => false, c.net.time + BAN_BASE_MS * (1 + BAN_FACTOR) + 30_000);
      const lengths = nodes
        .map((n) => n.book!.bans().find((b) => b.peer === 'evil'))
        .filter((b) => b !== undefined)
        .map((b) => ({ offences: b.offences, ms: b.until - b.since }));
      console.log(
        `sim bans SEED=${seed}: banned after <= ${worst} invalid answer(s); bans in force ${JSON.stringify(lengths)}`
      );
      expect(
        lengths.some((b) => b.offences >= 2 && b.ms === BAN_BASE_MS * BAN_FACTOR ** (b.offences - 1)),
        `SEED=${seed}`
      ).toBe(true);
    }
  }, 600_000);
});
