// Keeps the page's record objects across re-reads: a record whose write is the same as in the
// previous read (same key, author, lamport, time and value) is the previous object, so the keyed
// Records table (Svelte compares each row's item by identity) re-renders only the rows that
// changed. Re-rendering all 500 shown rows on every re-read (every 250 ms while entries arrive)
// made main-thread long tasks on a device catching up (bench row 7).
import type { RecordEntry } from '../core/state/records.js';

/** `next`, with each record unchanged since `prev` replaced by its object in `prev`. */
export function reuseUnchanged(prev: readonly RecordEntry[], next: RecordEntry[]): RecordEntry[] {
  if (prev.length === 0) return next;
  const before = new Map(prev.map((r) => [r.key, r]));
  return next.map((r) => {
    const p = before.get(r.key);
    return p !== undefined && sameWrite(p, r) ? p : r;
  });
}

function sameWrite(a: RecordEntry, b: RecordEntry): boolean {
  if (a.author !== b.author || a.lamport !== b.lamport || a.time !== b.time) return false;
  if (a.value === b.value) return true;
  return (
    typeof a.value === 'object' && typeof b.value === 'object' && JSON.stringify(a.value) === JSON.stringify(b.value)
  );
}
