// Bans that survive a reload (src/lib/core/peers/ban-persist.ts): saved after each burst of new
// bans, restored at start with expiry applied (a ban that ended while the node was away is gone,
// its repeat-offence count stays until forgotten), bounded, and loaded as untrusted input. The
// browser side keeps them in the node's IndexedDB (Dexie meta table, fake-indexeddb here) through
// the PeerGuard the worker uses.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { PeerBook } from '../../src/lib/core/peers/score.js';
import {
  BanPersister,
  decodeSavedBans,
  metaBanStore,
  savedBansObject,
  type BanStore,
  type SavedBans
} from '../../src/lib/core/peers/ban-persist.js';
import { BAN_BASE_MS, BAN_FORGET_MS, BAN_MAX_MS, BAN_PERSIST_MAX } from '../../src/lib/core/peers/constants.js';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import { PeerGuard } from '../../src/lib/worker/peer-guard.js';

function memoryStore(): BanStore & { saved: SavedBans | undefined; saves: number } {
  const s = {
    saved: undefined as SavedBans | undefined,
    saves: 0,
    load: async () => s.saved && structuredClone(s.saved),
    save: async (x: SavedBans) => {
      s.saves++;
      s.saved = structuredClone(x);
    }
  };
  return s;
}

/** A manual timer: `fire()` runs what is scheduled. */
function manualTimer() {
  let fn: (() => void) | undefined;
  return {
    setTimer: (f: () => void) => ((fn = f), 1),
    clearTimer: () => (fn = undefined),
    pending: () => fn !== undefined,
    fire: () => {
      const f = fn;
      fn = undefined;
      f?.();
    }
  };
}

describe('persistent bans (core)', () => {
  it('a burst of bans is saved once; a new book restores them; expiry applies after the reload', async () => {
    let t = 1_000_000;
    const now = () => t;
    const store = memoryStore();
    const timer = manualTimer();
    const book = new PeerBook({ now });
    const p = new BanPersister(book, store, timer);
    expect(await p.restore()).toBe(0);
    book.offence('bad1', 'bad-signature');
    book.offence('bad2', 'wrong-network');
    book.offence('slow', 'timeout' as string); // not a ban offence
    expect(timer.pending()).toBe(true);
    timer.fire();
    await p.flush();
    expect(store.saves).toBe(1);
    expect(store.saved!.bans.map((b) => b.peer).sort()).toEqual(['bad1', 'bad2']);

    // Reload half-way through the first ban: both are in force again.
    t += BAN_BASE_MS / 2;
    const again = new PeerBook({ now });
    expect(await new BanPersister(again, store).restore()).toBe(2);
    expect(again.isBanned('bad1')).toBe(true);
    expect(again.bannedUntil('bad1')).toBe(1_000_000 + BAN_BASE_MS);

    // Reload after the ban ended (while "offline"): not banned, but a repeat offence bans longer.
    t = 1_000_000 + BAN_BASE_MS + 1;
    const later = new PeerBook({ now });
    expect(await new BanPersister(later, store).restore()).toBe(0);
    expect(later.isBanned('bad1')).toBe(false);
    expect(later.bans()).toEqual([]);
    expect(later.offence('bad1', 'bad-signature')).toMatchObject({ offences: 2, until: t + 2 * BAN_BASE_MS });

    // Long after: offences forgotten, nothing restored.
    t = 1_000_000 + BAN_FORGET_MS + 10;
    const fresh = new PeerBook({ now });
    expect(await new BanPersister(fresh, store).restore()).toBe(0);
    expect(fresh.saved(BAN_PERSIST_MAX)).toEqual([]);
  });

  it('close() saves what is pending; protected peers are not restored; the saved list is bounded', async () => {
    const t = 5_000_000;
    const store = memoryStore();
    const book = new PeerBook({ now: () => t });
    const p = new BanPersister(book, store, { ...manualTimer(), max: 3 });
    await p.restore();
    for (let i = 0; i < 5; i++) book.ban(`p${i}`, 'bad-signature');
    await p.close();
    expect(store.saves).toBe(1);
    expect(store.saved!.bans).toHaveLength(3);
    book.ban('after-close', 'bad-signature');
    await p.flush();
    expect(store.saves).toBe(1);

    const relayed = new PeerBook({ now: () => t, isProtected: (peer) => peer === 'p0' });
    expect(relayed.restore(decodeSavedBans(store.saved))).toBe(2);
    expect(relayed.isBanned('p0')).toBe(false);
  });

  it('loads untrusted input: malformed records dropped, at most max kept, never throws', () => {
    const ok = {
      peer: 'a',
      reason: 'bad-signature',
      since: 10,
      until: 10 + BAN_BASE_MS,
      offences: 1,
      lastOffenceAt: 10
    };
    expect(decodeSavedBans(savedBansObject([ok]))).toEqual([ok]);
    for (const raw of [undefined, null, 5, 'x', [], { v: 2, bans: [ok] }, { v: 1, bans: 'x' }]) {
      expect(decodeSavedBans(raw)).toEqual([]);
    }
    const bad = [
      { ...ok, peer: '' },
      { ...ok, peer: 'x'.repeat(129) },
      { ...ok, reason: 7 },
      { ...ok, since: -1 },
      { ...ok, until: 5 },
      { ...ok, until: 10 + BAN_MAX_MS + 1 },
      { ...ok, offences: 0 },
      { ...ok, offences: 1.5 },
      { ...ok, lastOffenceAt: Number.NaN },
      null,
      'a'
    ];
    expect(decodeSavedBans({ v: 1, bans: [...bad, ok] })).toEqual([ok]);
    expect(decodeSavedBans({ v: 1, bans: [ok, ok, ok] }, 2)).toHaveLength(2);
  });

  it('a failing store leaves the bans in memory and counts the failure', async () => {
    const book = new PeerBook({ now: () => 1 });
    const errors: unknown[] = [];
    const p = new BanPersister(
      book,
      { load: () => Promise.reject(new Error('no db')), save: () => Promise.reject(new Error('full')) },
      { ...manualTimer(), onError: (e) => errors.push(e) }
    );
    expect(await p.restore()).toBe(0);
    book.ban('x', 'bad-signature');
    await p.flush();
    expect(book.isBanned('x')).toBe(true);
    expect(p.stats.failures).toBe(2);
    expect(errors).toHaveLength(2);
  });
});

describe('persistent bans (browser: PeerGuard over the node IndexedDB)', () => {
  it('a ban survives closing and reopening the Dexie store; an expired one does not', async () => {
    const indexedDB = new IDBFactory();
    const name = 'bans-test';
    const open = () => DexieLedgerStore.open({ name, indexedDB, IDBKeyRange });
    let t = 2_000_000;
    const now = () => t;
    const relays = new Set(['relay']);

    let store = await open();
    const g1 = new PeerGuard((p) => relays.has(p), now);
    expect(await g1.persist(metaBanStore(store))).toBe(0);
    g1.offence('hostile', 'bad-signature');
    g1.offence('relay', 'bad-signature'); // the site's relay: never banned
    await g1.closeBans();
    await store.close();

    store = await open();
    const g2 = new PeerGuard((p) => relays.has(p), now);
    expect(await g2.persist(metaBanStore(store))).toBe(1);
    expect(g2.book.isBanned('hostile')).toBe(true);
    expect(g2.bans().map((b) => b.peer)).toEqual(['hostile']);
    expect(g2.book.isBanned('relay')).toBe(false);
    await g2.closeBans();
    await store.close();

    t += BAN_BASE_MS + 1; // the ban ended while the node was closed
    store = await open();
    const g3 = new PeerGuard((p) => relays.has(p), now);
    expect(await g3.persist(metaBanStore(store))).toBe(0);
    expect(g3.book.isBanned('hostile')).toBe(false);
    await store.close();
  });
});
