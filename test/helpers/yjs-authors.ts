// Authors writing Yjs changes on their own documents, each change signed as the next entry of
// their feed with the deps and lamport the causal rules ask for (PROTOCOL.md §5.3): for tests
// that need real Yjs editing (texts, formats) rather than records.
import * as Y from 'yjs';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { newStateDoc } from '../../src/lib/core/state/yjs-doc.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte } from './ledger-fixtures.js';

export interface Feed {
  keys: IdentityKeys;
  doc: Y.Doc;
  seq: number;
  prev: Uint8Array;
  lamport: number;
  /** The last entry of every other feed this one's document holds (its deps). */
  seen: Map<Feed, { seq: number; lamport: number }>;
}

/** Authors editing their own documents and signing each change as the next entry of their feed. */
export class Authors {
  readonly entries: HashedEntry[] = [];
  constructor(
    private readonly networkId: Uint8Array,
    readonly feeds: Feed[]
  ) {}

  static async create(networkId: Uint8Array, keyBytes: number[]): Promise<Authors> {
    const feeds: Feed[] = [];
    for (const byte of keyBytes) {
      const keys = await keysFromByte(byte);
      const doc = newStateDoc(); // as a ledger's: Yjs' formatting cleanup off
      doc.clientID = clientIdOf(toHex(keys.publicKey));
      feeds.push({ keys, doc, seq: 0, prev: new Uint8Array(32), lamport: 0, seen: new Map() });
    }
    return new Authors(networkId, feeds);
  }

  /** `change` on f's document, signed as f's next entry (nothing when it changed nothing). */
  async write(f: Feed, change: () => void): Promise<HashedEntry | undefined> {
    const updates: Uint8Array[] = [];
    const keep = (u: Uint8Array) => updates.push(u);
    f.doc.on('update', keep);
    f.doc.transact(change);
    f.doc.off('update', keep);
    if (updates.length === 0) return undefined;
    const payload = updates[0];
    const deps = [...f.seen].map(([g, s]) => ({ author: toHex(g.keys.publicKey), ...s }));
    const lamport = 1 + Math.max(f.lamport, ...deps.map((d) => d.lamport));
    const h = await createEntry(
      {
        keys: f.keys,
        seq: f.seq + 1,
        prev: f.prev,
        lamport,
        time: 1_700_000_000_000 + this.entries.length,
        clock: Y.getState(f.doc.store, f.doc.clientID),
        payload,
        deps: deps.map(({ author, seq }) => ({ author, seq }))
      },
      this.networkId
    );
    Object.assign(f, { seq: f.seq + 1, prev: h.hash, lamport });
    this.entries.push(h);
    return h;
  }

  /** `to` takes in everything `from` holds. */
  sync(from: Feed, to: Feed): void {
    Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc)));
    const heard = new Map(from.seen).set(from, { seq: from.seq, lamport: from.lamport });
    for (const [g, s] of heard) if (g !== to && (to.seen.get(g)?.seq ?? 0) < s.seq) to.seen.set(g, s);
  }
}
