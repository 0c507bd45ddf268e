// Red team (s28): RecordsTable's conflict badge keeps ONE conflict per key (the last in the list,
// `byKey.set` in a loop) and marks the record only if that one's winner is the current value.
// A key can have several conflicts (one per branching point): when a conflict inside a losing
// branch comes after the one whose winner is the current value, the badge is missing.
// Fixed: the lookup is dashboard-model.ts conflictsByKey + wonConflict (every conflict of the key).
import { describe, expect, it } from 'vitest';
import type { Conflict } from '../../src/lib/core/types.js';
import { authorsByClientId, nodeAt } from '../helpers/ledger-state.js';
import { conflictsByKey, wonConflict } from '../../src/lib/components/dashboard-model.js';

const [LOW, MID, HIGH] = authorsByClientId();

const node = nodeAt;

/** RecordsTable.svelte's lookup. */
function conflictOf(conflicts: Conflict[], r: { key: string; author: string; time: number }): Conflict | undefined {
  return wonConflict(conflictsByKey(conflicts), r);
}

describe('redteam s28: conflict badge with several conflicts on one key', () => {
  it('marks a record whose value won a conflict even when the key has a later-listed conflict', () => {
    const low = node(LOW, 10);
    const mid = node(MID, 20);
    const high = node(HIGH, 30);
    const c1 = low.put('k', 'low 1');
    mid.receive(c1);
    const x = low.put('k', 'low 2'); // after c1
    const y = mid.put('k', 'mid'); // after c1, concurrent with x
    const c2 = high.put('k', 'high'); // concurrent with all of them: wins at the root
    for (const p of [c1, x, y]) high.receive(p);
    low.receive(y);
    low.receive(c2);

    const conflicts = high.records.conflicts();
    const entry = high.records.entry('k')!;
    expect(entry.author).toBe(HIGH); // the current value won a conflict...
    expect(conflicts.some((c) => c.winner === entry.author && c.times[0] === entry.time)).toBe(true);
    // ...so the row is marked
    expect(conflictOf(conflicts, { key: 'k', author: entry.author, time: entry.time })).toBeDefined();
  });
});
