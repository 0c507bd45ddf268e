// ChainLinks (core/chain-links.ts): gossip forwards only entries that link to what the node knows.
import { describe, expect, it, vi } from 'vitest';
import { ChainLinks } from '../../src/lib/core/chain-links.js';

const ZERO = '0'.repeat(64);
const h = (n: number): string => n.toString(16).padStart(64, '0');

/** A manual timer: fire() runs every timer due. */
function manualTimers() {
  const timers = new Set<{ fn: () => void }>();
  return {
    setTimer: (fn: () => void) => {
      const t = { fn };
      timers.add(t);
      return t;
    },
    clearTimer: (t: unknown) => void timers.delete(t as { fn: () => void }),
    fire: () => {
      for (const t of [...timers]) {
        timers.delete(t);
        t.fn();
      }
    },
    get pending() {
      return timers.size;
    }
  };
}

describe('ChainLinks', () => {
  it('seq 1 links only with a zero prev', async () => {
    const l = new ChainLinks({ waitMs: 0 });
    expect(await l.check('a', 1, ZERO)).toBe('links');
    expect(await l.check('a', 1, h(7))).toBe('broken');
  });

  it('an entry links to the learnt entry at seq - 1; another prev is a broken chain; an unknown predecessor is a gap', async () => {
    const l = new ChainLinks({ waitMs: 0 });
    l.learn('a', 1, h(1));
    expect(await l.check('a', 2, h(1))).toBe('links');
    expect(await l.check('a', 2, h(9))).toBe('broken');
    // Beyond the known head + 1, and an author never seen: nothing to link to.
    expect(await l.check('a', 5, h(4))).toBe('gap');
    expect(await l.check('b', 2, h(1))).toBe('gap');
    expect(l.counts).toMatchObject({ links: 1, broken: 1, gaps: 2 });
  });

  it('an entry arriving before its predecessor waits for it, and is a gap when it does not come', async () => {
    const t = manualTimers();
    const l = new ChainLinks({ waitMs: 500, setTimer: t.setTimer, clearTimer: t.clearTimer });
    l.learn('a', 1, h(1));
    const early = l.check('a', 3, h(2));
    const never = l.check('a', 9, h(8));
    await vi.waitFor(() => expect(l.waiting).toBe(2));
    l.learn('a', 2, h(2));
    expect(await early).toBe('links');
    t.fire();
    expect(await never).toBe('gap');
    expect(l.waiting).toBe(0);
    expect(t.pending).toBe(0);
    expect(l.counts.waited).toBe(1);
  });

  it('a successor waits for the verdict on a predecessor being judged, however long it takes, and no timer', async () => {
    const t = manualTimers();
    const l = new ChainLinks({ waitMs: 500, setTimer: t.setTimer, clearTimer: t.clearTimer });
    l.learn('a', 1, h(1));
    const judged2 = l.begin('a', 2, h(2));
    const judged3 = l.begin('a', 3, h(3));
    expect(l.judging).toBe(2);
    const c3 = l.check('a', 3, h(2));
    const c4 = l.check('a', 4, h(3));
    t.fire(); // no timer is involved: the checks wait for the verdicts
    expect(t.pending).toBe(0);
    judged2(true);
    expect(await c3).toBe('links');
    judged3(false); // refused: not learnt
    expect(await c4).toBe('gap');
    expect(l.judging).toBe(0);
    judged2(false); // a second call changes nothing
    expect(await l.check('a', 3, h(2))).toBe('links');
  });

  it('a successor of an entry already judged and not learnt is a gap at once, with no timer; learning that entry later makes it link', async () => {
    const t = manualTimers();
    const l = new ChainLinks({ waitMs: 500, setTimer: t.setTimer, clearTimer: t.clearTimer });
    l.learn('a', 1, h(1));
    // seq 3 arrived, its seq 2 never did: judged a gap (after its wait) and not learnt.
    const judged3 = l.begin('a', 3, h(3));
    const c3 = l.check('a', 3, h(2));
    await vi.waitFor(() => expect(l.waiting).toBe(1));
    t.fire();
    expect(await c3).toBe('gap');
    judged3(false);
    // Its successors no longer wait (each wait held a validation slot): gaps at once.
    expect(await l.check('a', 4, h(3))).toBe('gap');
    expect(t.pending).toBe(0);
    expect(l.waiting).toBe(0);
    expect(l.counts).toMatchObject({ afterUnlinked: 1, waited: 0 });
    // Another hash at seq 3 was never judged: still waited for.
    const other = l.check('a', 4, h(0x33));
    await vi.waitFor(() => expect(l.waiting).toBe(1));
    t.fire();
    expect(await other).toBe('gap');
    // Once seq 3 is learnt (e.g. the ledger stored it after sync filled seq 2), seq 4 links.
    l.learn('a', 2, h(2));
    l.learn('a', 3, h(3));
    expect(await l.check('a', 4, h(3))).toBe('links');
  });

  it('remembers a bounded number of unlinked entries (the oldest forgotten first)', async () => {
    const t = manualTimers();
    const l = new ChainLinks({ waitMs: 500, maxUnlinked: 2, setTimer: t.setTimer, clearTimer: t.clearTimer });
    for (const a of ['a', 'b', 'c']) l.begin(a, 5, h(5))(false);
    expect(await l.check('b', 6, h(5))).toBe('gap');
    expect(await l.check('c', 6, h(5))).toBe('gap');
    expect(t.pending).toBe(0);
    const forgotten = l.check('a', 6, h(5)); // a's mark was the oldest: waited for again
    await vi.waitFor(() => expect(l.waiting).toBe(1));
    t.fire();
    expect(await forgotten).toBe('gap');
  });

  it('a parked gap entry is learnt once its predecessor is, so the chain links again; a parked entry with another prev is not', async () => {
    const l = new ChainLinks({ waitMs: 0, maxParked: 2 });
    l.learn('a', 1, h(1));
    expect(await l.check('a', 3, h(2))).toBe('gap');
    l.park('a', 3, h(3), h(2));
    l.park('a', 4, h(0x44), h(0x99)); // prev names no entry that will come
    expect(l.parkedEntries).toBe(2);
    l.learn('a', 2, h(2)); // the late predecessor
    expect(await l.check('a', 4, h(3))).toBe('links');
    expect(await l.check('a', 5, h(0x44))).toBe('gap');
    expect(l.parkedEntries).toBe(1);
    // Bounded: the oldest parked entries go first.
    l.park('b', 5, h(5), h(4));
    l.park('c', 5, h(5), h(4));
    expect(l.parkedEntries).toBe(2);
    l.learn('a', 3, h(0x99));
    expect(await l.check('a', 5, h(0x44))).toBe('gap'); // a:4 was evicted
  });

  it('bounds the entries waiting at once: beyond the bound an unknown predecessor is a gap at once', async () => {
    const t = manualTimers();
    const l = new ChainLinks({ waitMs: 500, maxWaiting: 2, setTimer: t.setTimer, clearTimer: t.clearTimer });
    const waiting = [l.check('a', 2, h(1)), l.check('b', 2, h(1))];
    await vi.waitFor(() => expect(l.waiting).toBe(2));
    expect(await l.check('c', 2, h(1))).toBe('gap');
    expect(l.waiting).toBe(2);
    t.fire();
    expect(await Promise.all(waiting)).toEqual(['gap', 'gap']);
  });

  it('asks the lookup (a ledger) for entries it does not remember', async () => {
    const l = new ChainLinks({ waitMs: 0, lookup: (a, seq) => (a === 'a' && seq === 41 ? [h(41)] : []) });
    expect(await l.check('a', 42, h(41))).toBe('links');
    expect(await l.check('a', 42, h(40))).toBe('broken');
    expect(await l.check('a', 43, h(42))).toBe('gap');
  });

  it('keeps an entry and its fork twin at one seq, so both branches link', async () => {
    const l = new ChainLinks({ waitMs: 0 });
    l.learn('a', 1, h(1));
    l.learn('a', 2, h(2));
    l.learn('a', 2, h(0x22)); // the twin
    expect(await l.check('a', 3, h(2))).toBe('links');
    expect(await l.check('a', 3, h(0x22))).toBe('links');
    // A third hash at one seq is not remembered (hashesPerSeq = 2).
    l.learn('a', 2, h(0x222));
    expect(await l.check('a', 3, h(0x222))).toBe('broken');
  });

  it('remembers a window of recent seqs per author and a bounded number of authors (least recently used first)', async () => {
    const l = new ChainLinks({ waitMs: 0, windowSeqs: 2, maxAuthors: 2 });
    for (let s = 1; s <= 4; s++) l.learn('a', s, h(s));
    expect(await l.check('a', 5, h(4))).toBe('links');
    expect(await l.check('a', 4, h(3))).toBe('links');
    expect(await l.check('a', 3, h(2))).toBe('gap'); // seq 2 left the window
    l.learn('b', 1, h(1));
    l.learn('a', 4, h(4)); // a used more recently than b
    l.learn('c', 1, h(1)); // evicts b
    expect(l.size).toBe(2);
    expect(await l.check('b', 2, h(1))).toBe('gap');
    expect(await l.check('c', 2, h(1))).toBe('links');
  });
});
