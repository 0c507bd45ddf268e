// Test harness for the state layer: nodes that write through Records and exchange payloads
// the way the entry layer would (payload + author/seq/lamport/time), in any order.
import { sha256 } from '@noble/hashes/sha2.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { LedgerState, type PayloadMeta } from '../../src/lib/core/state/doc.js';
import { Records } from '../../src/lib/core/state/records.js';

export interface Logged {
  payload: Uint8Array;
  meta: PayloadMeta;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** A deterministic fake public key (the state layer only needs 64 hex characters). */
export function authorKey(name: string): string {
  return hex(sha256(new TextEncoder().encode(`test-author:${name}`)));
}

export class TestNode {
  readonly state: LedgerState;
  readonly records: Records;
  /** This author's own entries, in seq order. */
  readonly own: Logged[] = [];
  /** Every entry this node holds (own and received), in arrival order, without duplicates. */
  readonly known: Logged[] = [];
  private readonly seen = new Set<string>();
  /** Wall clock used for the next write. */
  now = 1000;

  constructor(readonly author: string | null) {
    this.state = new LedgerState({
      author: author ?? undefined,
      stamp: () => ({ time: this.now, lamport: this.state.lamport + 1 })
    });
    this.records = new Records(this.state);
  }

  put(key: string, value: unknown): Logged {
    return this.record(this.records.put(key, value));
  }

  del(key: string): Logged | null {
    const p = this.records.delete(key);
    return p === null ? null : this.record(p);
  }

  /** Wraps a local payload as the entry layer would. */
  record(payload: Uint8Array): Logged {
    const l: Logged = {
      payload,
      meta: { author: this.author!, seq: this.own.length + 1, lamport: this.state.lamport, time: this.now }
    };
    this.own.push(l);
    this.remember(l);
    return l;
  }

  receive(l: Logged): void {
    this.state.applyRemote(l.payload, l.meta);
    this.remember(l);
  }

  /** Delivers everything this node holds to `other`. */
  syncTo(other: TestNode): void {
    for (const l of this.known) other.receive(l);
  }

  private remember(l: Logged): void {
    const id = `${l.meta.author}:${l.meta.seq}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.known.push(l);
  }
}

/** A replica rebuilt from `entries` in the given order (as after a restart or a fresh join). */
export function replicaFrom(entries: Logged[], author: string | null = null): TestNode {
  const n = new TestNode(author);
  for (const l of entries) n.receive(l);
  return n;
}

/**
 * Three author keys sorted by clientID, lowest first: among concurrent writes Yjs keeps the
 * highest clientID, so HIGH wins against MID and LOW.
 */
export function authorsByClientId(): [string, string, string] {
  const [low, mid, high] = ['a', 'b', 'c', 'd', 'e']
    .map(authorKey)
    .sort((x, y) => clientIdOf(x) - clientIdOf(y))
    .slice(0, 3);
  return [low, mid, high];
}

/** A TestNode of `author` whose clock reads `now`. */
export function nodeAt(author: string, now: number): TestNode {
  const n = new TestNode(author);
  n.now = now;
  return n;
}
