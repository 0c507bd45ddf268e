// A set of record keys kept in code-unit order (compareKeys), for Records.list(limit): a B+ tree
// (the `sorted-btree` package), so a key added or removed costs O(log n) and the first `limit`
// keys are read in O(log n + limit), whatever the number of keys.
//
// It replaced a sorted array brought up to date at each list(): with keys arriving during a
// catch-up, every list() merged the changes into the whole array, O(n) a call (7.8 ms at 40,000
// keys after 250 new ones, Node; the page re-reads the first 500 every 250 ms while records
// change: ~3-4% of a tab worker's samples in S10's catch-up, growing with the ledger).
import { bulkLoad } from 'sorted-btree/extended/bulkLoad.js';
import type BTree from 'sorted-btree';
import { compareKeys } from './conflicts.js';

/** Keys per tree node at most (the package's default). */
const NODE_KEYS = 32;

/** Keys in code-unit order; O(log n) add and delete, ordered iteration from the smallest. */
export class SortedKeys {
  private readonly tree: BTree<string, undefined>;

  /**
   * Built from distinct `keys` by sorting them once and bulk-loading the tree in one pass
   * (inserting them one by one made the first list() of 100k keys slower than the full sort it
   * replaced: a review's measurement). `compare` must be code-unit order (a test counts its
   * calls through its own).
   */
  constructor(keys: Iterable<string> = [], compare: (a: string, b: string) => number = compareKeys) {
    const sorted = [...keys].sort(compare);
    this.tree = bulkLoad<string, undefined>(sorted, new Array<undefined>(sorted.length), NODE_KEYS, compare);
  }

  /** Adds `key` (a no-op when held). */
  add(key: string): void {
    this.tree.set(key, undefined);
  }

  /** Removes `key` (a no-op when absent). */
  delete(key: string): void {
    this.tree.delete(key);
  }

  /** The keys in code-unit order, from the smallest; lazily (stop early for the first few). */
  keys(): IterableIterator<string> {
    return this.tree.keys();
  }
}
