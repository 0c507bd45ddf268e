// Order-independent digest of a document's integrated state.
//
// Y.encodeStateAsUpdate is not canonical: struct boundaries depend on delivery order (Yjs merges
// and splits items as they arrive) and pending updates are appended in arrival order. We write
// the integrated structs (no pending) into a fresh document in one transaction; its cleanup
// tries to merge every adjacent pair, so the fresh store holds the maximal merge of the same
// logical units whatever the original layout was. Its encoding (clients sorted, delete set
// sorted and merged) is canonical; the digest is SHA-256 over a tag and those bytes.
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { platformSha256, sha256 } from '../hash.js';
import { bytesEqual, concatBytes, toHex } from '../bytes.js';
import { STATE_DIGEST_TAG } from '../constants.js';
import { sameOrder } from './order.js';
import { newStateDoc } from './yjs-doc.js';

// (stateDigest and loadedCanonical below give equal digests for equal integrated states.)

const TAG = new TextEncoder().encode(STATE_DIGEST_TAG);

/** V1 update of every integrated struct and the delete set; pending structs are left out. */
export function encodeIntegrated(doc: Y.Doc): Uint8Array {
  const enc = new Y.UpdateEncoderV1();
  writeIntegrated(enc, doc);
  return enc.toUint8Array();
}

/**
 * encodeIntegrated(doc) equals `bytes`, checked without building the encoding as a separate
 * array: it is written into one buffer of `bytes`' size (an encoder would otherwise grow by
 * doubling, then copy everything once more into its result: ~3x the state in short-lived
 * buffers for a join's state of megabytes). An encoding that outgrows it still works (the
 * encoder chains more buffers) and compares unequal or equal all the same.
 */
export function encodesTo(doc: Y.Doc, bytes: Uint8Array): boolean {
  const enc = new Y.UpdateEncoderV1();
  const rest = enc.restEncoder;
  rest.cbuf = new Uint8Array(Math.max(bytes.length, 64));
  writeIntegrated(enc, doc);
  const out = rest.bufs.length === 0 ? rest.cbuf.subarray(0, rest.cpos) : encoding.toUint8Array(rest);
  return bytesEqual(out, bytes);
}

function writeIntegrated(enc: Y.UpdateEncoderV1, doc: Y.Doc): void {
  const clients = [...doc.store.clients.entries()]
    .filter(([, structs]) => structs.length > 0)
    .sort((a, b) => b[0] - a[0]);
  encoding.writeVarUint(enc.restEncoder, clients.length);
  for (const [client, structs] of clients) {
    encoding.writeVarUint(enc.restEncoder, structs.length);
    enc.writeClient(client);
    encoding.writeVarUint(enc.restEncoder, structs[0].id.clock);
    for (const s of structs) s.write(enc, 0);
  }
  writeDeleteSet(enc, Y.createDeleteSetFromStructStore(doc.store));
}

/** Same layout as Yjs' internal writeDeleteSet (clients sorted descending). */
function writeDeleteSet(enc: Y.UpdateEncoderV1, ds: ReturnType<typeof Y.createDeleteSet>): void {
  const clients = [...ds.clients.entries()].sort((a, b) => b[0] - a[0]);
  encoding.writeVarUint(enc.restEncoder, clients.length);
  for (const [client, items] of clients) {
    enc.resetDsCurVal();
    encoding.writeVarUint(enc.restEncoder, client);
    encoding.writeVarUint(enc.restEncoder, items.length);
    for (const item of items) {
      enc.writeDsClock(item.clock);
      enc.writeDsLen(item.len);
    }
  }
}

/**
 * False when Yjs might merge two neighbouring structs of one client in a fresh document holding
 * `doc`'s integrated structs; true only when it certainly merges none, so the fresh document
 * would hold these very structs and encodeIntegrated(doc) is already canonical, provided the
 * fresh document orders everything as `doc` does (neighbours are compared; a crafted list
 * placement can break that, order.ts, so LedgerState takes this path only when no payload since
 * its last order check may have misplaced an item). Conservative: it checks only conditions that
 * Item.mergeWith and GC.mergeWith (yjs 13.6, with tryToMergeWithLefts) require (constructor,
 * deleted, consecutive ids, origin = left's last id, adjacency, right origins, content type); a
 * pair passing them all is taken as mergeable. Neighbours in a client's array have consecutive
 * clocks by construction. Also false when a map entry is stale (staleMapValue), which a fresh
 * document deletes. test/unit/digest-merged-fast-path.test.ts compares it with the rebuild.
 */
export function maximallyMerged(doc: Y.Doc): boolean {
  for (const structs of doc.store.clients.values()) {
    if (structs.length > 0 && staleMapValue(structs[0])) return false;
    for (let i = 1; i < structs.length; i++) {
      if (staleMapValue(structs[i]) || mayMerge(structs[i - 1], structs[i])) return false;
    }
  }
  return true;
}

/**
 * A map entry that is neither the key's current value (it has a right neighbour) nor deleted.
 * Integration never leaves one (an entry integrated with a right neighbour deletes itself, and
 * one integrated last deletes its left neighbour: Item.integrate, yjs 13.6), but splitting
 * can: a hostile payload writes one struct of two units as a key's value, then inserts an entry
 * after its first unit; the split's left half keeps its undeleted flag. A fresh document
 * integrates the halves one by one and deletes it, so this document's own encoding is not the
 * canonical one (fuzzer, SEED=1901023467: nodes holding one state reported two digests).
 */
function staleMapValue(s: Y.Item | Y.GC): boolean {
  return s instanceof Y.Item && s.parentSub !== null && !s.deleted && s.right !== null;
}

function mayMerge(left: Y.Item | Y.GC, right: Y.Item | Y.GC): boolean {
  if (left.constructor !== right.constructor) return false;
  if (!(left instanceof Y.Item) || !(right instanceof Y.Item)) return true; // two GC structs always merge
  return (
    left.deleted === right.deleted &&
    left.id.clock + left.length === right.id.clock &&
    Y.compareIDs(right.origin, left.lastId) &&
    left.right === right &&
    Y.compareIDs(left.rightOrigin, right.rightOrigin) &&
    left.content.constructor === right.content.constructor
  );
}

/** Canonical bytes of the integrated state (see the file comment), always by the rebuild. */
export function canonicalState(doc: Y.Doc): Uint8Array {
  return canonicalStateChecked(doc, false).canonical;
}

/**
 * canonicalState, and (`check`) whether a document loaded from those canonical bytes (what a join,
 * or a restart from a compaction, shows) orders every type as `doc` does (order.ts sameOrder; true
 * when not checked). A crafted list placement can make a document integrated live differ from
 * it while the canonical bytes, hence digests, agree. The check costs one more integration.
 */
export function canonicalStateChecked(doc: Y.Doc, check = true): { canonical: Uint8Array; sameOrder: boolean } {
  const fresh = newStateDoc();
  let canonical: Uint8Array;
  try {
    Y.applyUpdate(fresh, encodeIntegrated(doc));
    canonical = encodeIntegrated(fresh);
  } finally {
    fresh.destroy();
  }
  if (!check) return { canonical, sameOrder: true };
  // Not `fresh`: Yjs places such an item by how its neighbours are split, and `fresh` was split
  // as `doc` was; only the canonical bytes are the same on every node.
  const loaded = newStateDoc();
  try {
    Y.applyUpdate(loaded, canonical);
    return { canonical, sameOrder: sameOrder(doc, loaded) };
  } finally {
    loaded.destroy();
  }
}

/** Lowercase hex SHA-256 of the canonical state. */
export function stateDigest(doc: Y.Doc): string {
  return canonicalDigest(canonicalState(doc));
}

/**
 * The canonical state and digest of `doc`, a FRESH document into which exactly `bytes` was
 * loaded. When `bytes` is already canonical (what compactions and join snapshots carry), the
 * canonical state is `bytes` itself: encodeIntegrated(doc) equals it, checked with one encode
 * instead of rebuilding the state in another document. (Rebuilding would load the same bytes
 * into a fresh document again, so the result is the same.) Otherwise the full path.
 */
export function loadedCanonical(doc: Y.Doc, bytes: Uint8Array): { canonical: Uint8Array; digest: string } {
  const canonical = loadedCanonicalBytes(doc, bytes);
  return { canonical, digest: canonicalDigest(canonical) };
}

/** loadedCanonical's canonical bytes alone (`bytes` itself when they are canonical). */
export function loadedCanonicalBytes(doc: Y.Doc, bytes: Uint8Array): Uint8Array {
  return encodesTo(doc, bytes) ? bytes : canonicalState(doc);
}

/**
 * canonicalDigest by WebCrypto where the platform has it (browsers, workers, Node >= 19: native
 * SHA-256, several times faster than the pure-JS one on a state of megabytes); the same value.
 * Synchronous where a platform SHA-256 is installed (Node: node:crypto, hash.ts setSha256), which
 * is native too and needs no round trip through a thread pool (2.9 against 3.9-4.1 ms for 5 MB here,
 * bench/node-crypto.ts).
 */
export async function canonicalDigestAsync(canonical: Uint8Array): Promise<string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (subtle === undefined || platformSha256()) return canonicalDigest(canonical);
  return toHex(new Uint8Array(await subtle.digest('SHA-256', concatBytes(TAG, canonical) as Uint8Array<ArrayBuffer>)));
}

/** stateDigest from canonical bytes already computed (canonicalState's output). */
export function canonicalDigest(canonical: Uint8Array): string {
  return toHex(sha256(concatBytes(TAG, canonical)));
}
