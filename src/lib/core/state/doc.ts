// The application state: one Y.Doc built only from ledger payloads.
//
// Every struct in the document carries the clientID derived from its author's key, so a payload
// is accepted only if all its structs belong to the entry's author (deletes may target anyone:
// that is how overwrites work). Garbage collection is off: overwritten values stay in the
// document, which lets conflicts name what was lost and makes them derivable again on replay.
import * as Y from 'yjs';
import { ClientIdCollisionError, MalformedPayloadError, StateUsageError } from '../errors.js';
import { MAX_ENTRY_CLOCK, MAX_PAYLOAD_BYTES, MAX_STATE_BYTES, RECORDS_TYPE_NAME } from '../constants.js';
import { voidPlaceholder } from '../void.js';
import { assertAuthorHex, clientIdOf } from './client-id.js';
import {
  canonicalDigest,
  canonicalDigestAsync,
  canonicalStateChecked,
  encodeIntegrated,
  loadedCanonicalBytes,
  maximallyMerged
} from './digest.js';
import { assertStructsOf, parsePayload } from '../payload.js';
import { isHighSurrogate, isLowSurrogate, type ParsedStruct, type ParsedUpdate, type YId } from '../yjs-update.js';
import { layered, lookupOf, StructIndex, type StructLookup } from './struct-index.js';
import { mayMisplace } from './order.js';
import { newStateDoc, withoutFormattingCleanup } from './yjs-doc.js';
import { localStringDefect, REPLACEMENT } from './local-strings.js';

/** What the state layer needs to know about the entry that carried a payload. */
export interface PayloadMeta {
  /** Author's Ed25519 public key, 64 lowercase hex characters. */
  author: string;
  seq: number;
  lamport: number;
  time: number;
}

/** Metadata an app stores with a local write (the entry will carry the same values). */
export interface WriteStamp {
  time: number;
  lamport: number;
}

/**
 * ContentType refs of the types that are Y.Map instances once applied: YMap (1) and YXmlHook (5,
 * which extends YMap in yjs 13.6). A parent of the same batch is judged by its ref, one already
 * applied by its class; both must agree (red team s23: a hook's child was accepted in a batch and
 * refused one by one).
 */
const MAP_TYPE_REFS: ReadonlySet<number> = new Set([1, 5]);

/**
 * A document loaded fresh from canonical state bytes and checked (digest.ts loadedCanonical):
 * handed from one LedgerState to another (LedgerState.release) so a verified join state is not
 * loaded a second time when the ledger installs it.
 */
export interface LoadedState {
  doc: Y.Doc;
  /** The canonical bytes the document was loaded from (and encodes to). */
  canonical: Uint8Array;
  /** Their digest (stateDigest). */
  digest: string;
}

export interface LedgerStateOptions {
  /**
   * Take over this loaded document instead of starting empty (it must hold no structs of the
   * local author's clientID). canonical() answers from it until the state changes.
   */
  preloaded?: LoadedState;
  /** Local author (hex public key). Without it the state is read-only. */
  author?: string;
  /** Stamp for the next local write; default: Date.now() and one above every lamport seen. */
  stamp?: () => WriteStamp;
  /** Largest payload applyRemote accepts (the entry layer enforces the genesis limit too). */
  maxPayloadBytes?: number;
}

/** placeOf's answer for an id inside a void range (GC). */
const VOID_PLACE = 'void';
/** Where an item sits: its parent type ("root:name" or "item:client:clock") and map key (null in a list). */
type Place = { parent: string; key: string | null };

export type SharedTypeKind = 'map' | 'array' | 'text' | 'xml';
export type SharedTypeOf<K extends SharedTypeKind> = K extends 'map'
  ? Y.Map<unknown>
  : K extends 'array'
    ? Y.Array<unknown>
    : K extends 'text'
      ? Y.Text
      : Y.XmlFragment;

export interface ApplyResult {
  /** False when the payload was a duplicate (nothing new). */
  changed: boolean;
  /** True while some received structs wait for causal predecessors from other authors. */
  pending: boolean;
}

/** Transaction origins, so observers can tell the three kinds of change apart. */
export const ORIGIN_LOCAL: unique symbol = Symbol('tabula.local');
export const ORIGIN_REMOTE: unique symbol = Symbol('tabula.remote');
export const ORIGIN_SNAPSHOT: unique symbol = Symbol('tabula.snapshot');

/** Yjs content ref of ContentType (a nested shared type). */
const TYPE_CONTENT = 7;

export class LedgerState {
  readonly doc: Y.Doc;
  readonly author: string | null;
  readonly clientID: number | null;
  private readonly stampFn: () => WriteStamp;
  private readonly maxPayloadBytes: number;
  /** clientID → author hex, from the local author and every accepted payload. */
  private readonly owners = new Map<number, string>();
  private readonly kinds = new Map<string, SharedTypeKind>();
  private readonly untracked = new Set<(payload: Uint8Array) => void>();
  private readonly untrackedDefects = new Set<(reason: string, payload: boolean) => void>();
  /** What transactLocal's transaction left that its payload would not show (local-strings.ts), or null. */
  private localDefect: string | null = null;
  private capture: Uint8Array[] | null = null;
  /** Inside transactRemote: applyRemote joins its transaction. */
  private batching = false;
  private maxLamport = 0;
  private version = 0;
  private digestCache: { version: number; digest: string; canonical: Uint8Array } | null = null;
  /** The bytes a fresh state was loaded from (loadState), while nothing else has changed it. */
  private loadedFrom: { version: number; bytes: Uint8Array } | null = null;

  /** Hands a local transaction's update to the capture or the untracked-write listeners. */
  private readonly onUpdate = (update: Uint8Array): void => {
    if (this.capture !== null) this.capture.push(update);
    else for (const cb of this.untracked) cb(update);
  };

  /**
   * Runs for each transaction just before Yjs would emit its 'update' (cleanupTransactions). Yjs
   * encodes a transaction's whole update whenever an 'update' listener exists: for a remote or
   * snapshot transaction that is a second encoding of everything it applied (a join's state of
   * megabytes), which nothing here reads. So the listener is attached only for the transactions
   * whose update is this node's change (a local write's payload or a direct change), and the version counts every transaction with
   * content (what Yjs' writeUpdateMessageFromTransaction tests).
   */
  private readonly onCleanup = (tr: Y.Transaction): void => {
    if (hasContent(tr)) this.version++;
    // Every origin but the ledger's own is a change of this node's, local or not: `Y.applyUpdate`
    // on the document (a provider, a persistence) is non-local to Yjs, yet unsigned
    // (redteam6f-applyupdate-direct).
    const wanted = tr.origin !== ORIGIN_REMOTE && tr.origin !== ORIGIN_SNAPSHOT;
    if (wanted === this.updateAttached) return;
    this.updateAttached = wanted;
    if (wanted) this.doc.on('update', this.onUpdate);
    else this.doc.off('update', this.onUpdate);
  };
  private updateAttached = false;

  private readonly onAfterTransaction = (tr: Y.Transaction): void => {
    if (tr.origin !== ORIGIN_REMOTE && tr.origin !== ORIGIN_SNAPSHOT) {
      // A local change, transactLocal's or a direct one: the same string checks (local-strings.ts).
      if (tr.origin === ORIGIN_LOCAL) {
        this.localDefect ??= localStringDefect(tr, this.doc.clientID);
        return;
      }
      if (this.untrackedDefects.size === 0) return;
      const defect = localStringDefect(tr, this.doc.clientID);
      if (defect !== null) for (const cb of this.untrackedDefects) cb(defect, hasContent(tr));
      return;
    }
    const id = this.doc.clientID;
    if (tr.afterState.get(id) !== tr.beforeState.get(id)) tr.local = true;
  };

  constructor(options: LedgerStateOptions = {}) {
    const pre = options.preloaded;
    this.doc = pre !== undefined ? withoutFormattingCleanup(pre.doc) : newStateDoc();
    if (pre !== undefined) {
      this.loadedFrom = { version: 0, bytes: pre.canonical };
      this.digestCache = { version: 0, canonical: pre.canonical, digest: pre.digest };
    }
    this.author = options.author ?? null;
    this.clientID = null;
    if (this.author !== null) {
      assertAuthorHex(this.author);
      this.clientID = clientIdOf(this.author);
      this.doc.clientID = this.clientID;
      this.owners.set(this.clientID, this.author);
    }
    this.maxPayloadBytes = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
    this.stampFn = options.stamp ?? (() => ({ time: Date.now(), lamport: this.maxLamport + 1 }));
    this.doc.on('afterTransactionCleanup', this.onCleanup);
    // Replaying our own entries (after a restart, or from a snapshot) adds structs under our
    // clientID in a remote transaction; Yjs would take that for another client using our ID and
    // silently switch to a random one. Marking such transactions local (they are: they are
    // ours) before Yjs' cleanup check keeps the deterministic clientID.
    this.doc.on('afterTransaction', this.onAfterTransaction);
  }

  /** Highest lamport seen in applied payloads and local writes. */
  get lamport(): number {
    return this.maxLamport;
  }

  /** Stamp for the next local write. */
  nextStamp(): WriteStamp {
    return this.stampFn();
  }

  /** The author whose payloads carried this clientID, if known on this node. */
  authorOf(clientID: number): string | undefined {
    return this.owners.get(clientID);
  }

  /**
   * After loadState: the compacted state does not say whose structs it holds, so owners are
   * taken from the authors it covers (its heads). A clientID with structs goes to the lowest
   * such key that maps to it (only ever one, since a second author's entries are refused
   * before they are stored; see Ledger.ingest), so replay refuses the same entries live did.
   */
  adoptOwners(authors: readonly string[]): void {
    for (const author of [...authors].sort()) {
      const client = clientIdOf(author);
      if (!this.owners.has(client) && this.doc.store.clients.has(client)) this.owners.set(client, author);
    }
  }

  /**
   * Returns the shared root type `name`, creating it on first use. Apps (records included) keep
   * their data under their own names; local changes to them must go through transactLocal.
   */
  registerType<K extends SharedTypeKind>(name: string, kind: K): SharedTypeOf<K> {
    if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
      throw new StateUsageError('type name must be 1..256 characters');
    }
    const known = this.kinds.get(name);
    if (known !== undefined && known !== kind) {
      throw new StateUsageError(`type "${name}" is already registered as ${known}`);
    }
    try {
      const type =
        kind === 'map'
          ? this.doc.getMap(name)
          : kind === 'array'
            ? this.doc.getArray(name)
            : kind === 'text'
              ? this.doc.getText(name)
              : kind === 'xml'
                ? this.doc.getXmlFragment(name)
                : null;
      if (type === null) throw new StateUsageError(`unknown type kind "${String(kind)}"`);
      this.kinds.set(name, kind);
      return type as SharedTypeOf<K>;
    } catch (e) {
      if (e instanceof StateUsageError) throw e;
      throw new StateUsageError(`type "${name}" clashes with an existing type: ${(e as Error).message}`);
    }
  }

  /**
   * Runs `fn` in one local transaction and returns exactly the update it produced (the payload
   * to sign and append), or null if nothing changed. The document already contains the change.
   * `fn` must validate before mutating: if it throws after a change, the change stays in the doc.
   * Throws MalformedPayloadError, the change staying in the doc, when it left strings its payload
   * would not show receivers (local-strings.ts): the ledger then rebuilds the state.
   */
  transactLocal(fn: (doc: Y.Doc) => void): Uint8Array | null {
    if (this.author === null) throw new StateUsageError('read-only state: no local author');
    this.assertIdle();
    const captured: Uint8Array[] = [];
    this.capture = captured;
    this.localDefect = null;
    try {
      this.doc.transact(() => fn(this.doc), ORIGIN_LOCAL);
    } finally {
      this.capture = null;
    }
    const defect = this.localDefect;
    this.localDefect = null;
    if (defect !== null) throw new MalformedPayloadError(defect);
    if (captured.length === 0) return null;
    this.maxLamport = Math.max(this.maxLamport, this.stampFn().lamport);
    return captured.length === 1 ? captured[0] : Y.mergeUpdates(captured);
  }

  /**
   * Local changes made outside transactLocal (e.g. an editor binding with its own origin) are
   * handed to these listeners as payloads; the caller must sign and append them.
   */
  onUntrackedWrite(cb: (payload: Uint8Array) => void): () => void {
    this.untracked.add(cb);
    return () => this.untracked.delete(cb);
  }

  /**
   * Called with the reason when a local change made outside transactLocal left strings its payload
   * would not show receivers (local-strings.ts: a surrogate pair split, a lone surrogate), and
   * whether it has a payload (a format changing nothing has none), which then reaches
   * onUntrackedWrite right after. The caller must undo it (rebuild the state).
   */
  onUntrackedDefect(cb: (reason: string, payload: boolean) => void): () => void {
    this.untrackedDefects.add(cb);
    return () => this.untrackedDefects.delete(cb);
  }

  /**
   * Applies a payload from the ledger (any order, duplicates allowed). Checks size, decoding and
   * authorship before touching the document.
   */
  applyRemote(payload: Uint8Array, meta: PayloadMeta): ApplyResult {
    assertAuthorHex(meta?.author);
    if (!Number.isSafeInteger(meta.lamport) || meta.lamport < 0) {
      throw new MalformedPayloadError('lamport must be a non-negative integer');
    }
    checkBytes(payload, this.maxPayloadBytes);
    const client = clientIdOf(meta.author);
    const parsed = parsePayload(payload, this.maxPayloadBytes);
    assertStructsOf(parsed, client);
    if (!this.orderCheckDue && mayMisplace(this.doc, parsed.structs)) this.orderCheckDue = true;
    const owner = this.owners.get(client);
    if (owner !== undefined && owner !== meta.author) {
      throw new ClientIdCollisionError(`clientID ${client} belongs to ${owner}, not ${meta.author}`);
    }
    if (!this.inRemoteBatch()) this.assertIdle();
    const changed = this.integrate(payload, ORIGIN_REMOTE);
    if (parsed.structs.length > 0) this.owners.set(client, meta.author);
    this.maxLamport = Math.max(this.maxLamport, meta.lamport);
    return { changed, pending: this.hasPending() };
  }

  /**
   * Whether a clientID belongs to a void feed (void.ts); the ledger wires it to its FeedSet. The
   * placement rules treat an id of such a client that is not in the document (nor in the batch)
   * as void: its placeholder is applied once its canonical part is, and Yjs then integrates
   * anything anchored there as GC.
   */
  isVoidClient: (client: number) => boolean = () => false;

  /**
   * Voids `author`'s clock space from `fromClock` on (void.ts): one GC struct up to
   * MAX_ENTRY_CLOCK. Idempotent. Throws ClientIdCollisionError if another author owns the clientID
   * and `fromClock` > 0 (from 0 the whole clientID is void: a collision voids every key of it).
   */
  applyVoid(author: string, fromClock: number): void {
    assertAuthorHex(author);
    const client = clientIdOf(author);
    if (this.hasVoid(author)) return;
    const owner = this.owners.get(client);
    // From clock 0 the whole clientID is void, whoever else maps to it (a collision, §6.2).
    if (owner !== undefined && owner !== author && fromClock > 0)
      throw new ClientIdCollisionError(`clientID ${client} belongs to ${owner}, not ${author}`);
    this.assertIdle();
    this.integrate(voidPlaceholder(client, fromClock), ORIGIN_REMOTE);
    this.owners.set(client, author);
  }

  /** True when the document holds `author`'s items below Yjs clock `clock` (integrated, not pending). */
  holdsClock(author: string, clock: number): boolean {
    return Y.getState(this.doc.store, clientIdOf(author)) >= clock;
  }

  /** True once `author`'s clock space is void (its Yjs clock reached MAX_ENTRY_CLOCK). */
  hasVoid(author: string): boolean {
    return Y.getState(this.doc.store, clientIdOf(author)) >= MAX_ENTRY_CLOCK;
  }

  /**
   * Runs `fn` (applyRemote calls) in ONE remote Yjs transaction: observers, conflict refresh and
   * the update event run once at its end instead of once per payload. Each applyRemote still
   * checks its payload before touching the document. Refused inside another transaction or observer.
   */
  transactRemote<T>(fn: () => T): T {
    this.assertIdle();
    this.batching = true;
    try {
      return this.doc.transact(fn, ORIGIN_REMOTE);
    } finally {
      this.batching = false;
      if (this.clientID !== null) this.doc.clientID = this.clientID;
    }
  }

  /** True inside transactRemote's own transaction (not in its observers, which run after it). */
  private inRemoteBatch(): boolean {
    return this.batching && this.doc._transaction !== null && this.doc._transaction.origin === ORIGIN_REMOTE;
  }

  /**
   * Throws MalformedPayloadError unless every explicit parent a payload names is a shared type:
   * an item of this payload (or of `earlier` payloads of the same batch, not yet applied) with
   * type content, or one already in the document. (The causal rules
   * have already placed every referenced id within the document or the payload.) Yjs would
   * otherwise fail half-way through integrating the update.
   */
  checkIntegrable(parsed: ParsedUpdate, earlier: StructLookup | readonly ParsedStruct[] = [], local = false): void {
    const all = layered(lookupOf(earlier), new StructIndex(parsed.structs));
    for (const st of parsed.structs) this.checkPlacement(st, all);
    this.checkPairCuts(parsed, all, local);
    for (const st of parsed.structs) {
      const p = st.parent;
      if (p === null || typeof p === 'string') continue;
      const inPayload = all.find(p);
      if (inPayload !== undefined) {
        if (inPayload.content !== TYPE_CONTENT)
          throw new MalformedPayloadError(`parent ${p.client}:${p.clock} is not a type`);
        continue;
      }
      if (p.clock >= Y.getState(this.doc.store, p.client)) {
        // Not applied yet, of a void feed (its placeholder follows its canonical part): GC too.
        if (this.isVoidClient(p.client)) continue;
        throw new MalformedPayloadError(`parent ${p.client}:${p.clock} is missing`);
      }
      const item = Y.getItem(this.doc.store, Y.createID(p.client, p.clock));
      // A void range (void.ts): Yjs integrates an item under it as GC, the same on every node.
      if (item instanceof Y.GC) continue;
      if (!(item instanceof Y.Item) || !(item.content instanceof Y.ContentType)) {
        throw new MalformedPayloadError(`parent ${p.client}:${p.clock} is not a type`);
      }
    }
  }

  /**
   * A struct's position must be well formed, so that Yjs integrates it the same way on every node
   * whatever the order: an item under a map has a key and one under a list has none; an item
   * with both an origin and a right origin sits between two items of the same parent and key;
   * an item under a map key has no right origin.
   */
  private checkPlacement(st: ParsedStruct, all: StructLookup): void {
    if (st.parent !== null) {
      const kind = typeof st.parent === 'string' ? this.rootKind(st.parent) : this.typeKind(st.parent, all);
      if (kind === 'map' && st.parentSub === null) throw new MalformedPayloadError('a map item without a key');
      if (kind === 'list' && st.parentSub !== null) throw new MalformedPayloadError('a list item with a key');
    }
    if (st.rightOrigin === null) return;
    const right = this.placeOf(st.rightOrigin, all);
    // Y.Map.set (and the UndoManager's redo of a map entry) takes the key's last item as origin and
    // nothing to its right. A map item with a right origin at or before its origin is placed by
    // what each node already holds: one node showed the crafted value, another that loaded its
    // canonical state no value at all, with equal state digests (review, 2026-12-02).
    if (right !== undefined && right !== VOID_PLACE && right.key !== null)
      throw new MalformedPayloadError('a map item with a right origin');
    if (st.origin !== null) {
      const left = this.placeOf(st.origin, all);
      // Next to a void range (void.ts) the item becomes GC on every node: no place to compare.
      if (left === VOID_PLACE || right === VOID_PLACE) return;
      if (left === undefined || right === undefined || left.parent !== right.parent || left.key !== right.key)
        throw new MalformedPayloadError('origin and right origin lie in different places');
    }
  }

  /**
   * Throws MalformedPayloadError if an end of a delete range, an origin or a right origin of the
   * payload falls inside a surrogate pair of a string item (between its high and low halves). Yjs
   * replaces both halves with U+FFFD when it splits a string there (ContentString.splice), but a
   * delete range splits only an item not deleted yet: the text a node kept depended on the order
   * it got concurrent deletes in (red team s23). `local`: the document already holds the payload's
   * change (a local write's self-check), so Yjs has replaced such a pair already: U+FFFD on both
   * sides of a struct edge counts as a cut there (a local write between two real U+FFFD is
   * refused too: stricter than receivers, never looser). transactLocal and the watch on direct
   * changes (onUntrackedDefect) catch such splits as they happen (local-strings.ts); this is the
   * same rule again where a split left a struct edge.
   */
  private checkPairCuts(parsed: ParsedUpdate, all: StructLookup, local: boolean): void {
    const at = (client: number, clock: number): void => {
      if (this.cutsPair(client, clock, all, local))
        throw new MalformedPayloadError(`cuts a surrogate pair at ${client}:${clock}`);
    };
    for (const d of parsed.deletes) {
      at(d.client, d.clock);
      at(d.client, d.clock + d.len);
    }
    for (const st of parsed.structs) {
      if (st.origin !== null) at(st.origin.client, st.origin.clock + 1);
      if (st.rightOrigin !== null) at(st.rightOrigin.client, st.rightOrigin.clock);
    }
  }

  /** Whether a cut before unit `clock` of `client` (in the document, else in `all`) splits a surrogate pair. */
  private cutsPair(client: number, clock: number, all: StructLookup, local: boolean): boolean {
    if (clock <= 0) return false;
    if (clock < Y.getState(this.doc.store, client)) {
      const item = Y.getItem(this.doc.store, Y.createID(client, clock));
      if (!(item instanceof Y.Item) || !(item.content instanceof Y.ContentString)) return false;
      const str = item.content.str;
      const off = clock - item.id.clock;
      if (off > 0) return isHighSurrogate(str.charCodeAt(off - 1)) && isLowSurrogate(str.charCodeAt(off));
      if (!local || !str.startsWith(REPLACEMENT)) return false;
      const left = Y.getItem(this.doc.store, Y.createID(client, clock - 1));
      return (
        left instanceof Y.Item && left.content instanceof Y.ContentString && left.content.str.endsWith(REPLACEMENT)
      );
    }
    const s = all.find({ client, clock });
    return s?.pairCuts !== undefined && s.pairCuts.includes(clock - s.clock);
  }

  /**
   * The kind a root type's items are judged by: 'map' for the bundled records root, 'unknown'
   * (either form) for every other. An app registers its roots locally, whenever a page first uses
   * them, so judging by registration gave one node's verdict before it and another's after
   * (redteam-s23-root-kind-timing.test.ts). Yjs keeps both forms under any root, the same on
   * every node: keyless items in its list part, keyed ones in its map part, and Doc.get keeps
   * both when it turns an undefined root into the registered class; the type's API shows only
   * its own form.
   */
  private rootKind(name: string): 'map' | 'unknown' {
    return name === RECORDS_TYPE_NAME ? 'map' : 'unknown';
  }

  /** The kind of the nested type whose item is `id` (in the document or in `all`). */
  private typeKind(id: YId, all: StructLookup): 'map' | 'list' | 'unknown' {
    if (id.clock < Y.getState(this.doc.store, id.client)) {
      const item = Y.getItem(this.doc.store, Y.createID(id.client, id.clock));
      if (!(item instanceof Y.Item) || !(item.content instanceof Y.ContentType)) return 'unknown';
      return item.content.type instanceof Y.Map ? 'map' : 'list';
    }
    const s = all.find(id);
    if (s === undefined || s.typeRef === undefined) return 'unknown';
    // The same verdict as for the applied type above: by Yjs class, not by the ref alone.
    return MAP_TYPE_REFS.has(s.typeRef) ? 'map' : 'list';
  }

  /**
   * The parent and map key (null under a list) of the item `id` (in the document, or in `all`
   * following origins), VOID_PLACE in a void range, undefined if not resolvable.
   */
  private placeOf(start: YId, all: StructLookup): Place | typeof VOID_PLACE | undefined {
    let id: YId | null = start;
    for (let hops = 0; id !== null && hops <= all.size + 1; hops++) {
      if (id.clock < Y.getState(this.doc.store, id.client)) {
        const item = Y.getItem(this.doc.store, Y.createID(id.client, id.clock));
        if (item instanceof Y.GC) return VOID_PLACE;
        if (!(item instanceof Y.Item)) return undefined;
        return { parent: this.typeName(item.parent as Y.AbstractType<unknown>), key: item.parentSub };
      }
      const here: YId = id;
      const s = all.find(here);
      if (s === undefined) return this.isVoidClient(here.client) ? VOID_PLACE : undefined;
      if (typeof s.parent === 'string') return { parent: `root:${s.parent}`, key: s.parentSub };
      if (s.parent !== null) return { parent: `item:${s.parent.client}:${s.parent.clock}`, key: s.parentSub };
      id = s.origin ?? s.rightOrigin;
    }
    return undefined;
  }

  private typeName(t: Y.AbstractType<unknown>): string {
    if (t._item !== null) return `item:${t._item.id.client}:${t._item.id.clock}`;
    for (const [name, type] of this.doc.share) if (type === t) return `root:${name}`;
    return 'root:?';
  }

  /** The whole state (pending structs included) as one update: compaction and light snapshots. */
  encodeState(): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc);
  }

  /** Merges a state produced by encodeState (idempotent). Authorship cannot be checked here. */
  loadState(bytes: Uint8Array): void {
    checkBytes(bytes, MAX_STATE_BYTES);
    const fresh = this.doc.store.clients.size === 0 && !this.hasPending();
    // Into a non-empty state, bytes that do not decode must change nothing: decode them first.
    // A fresh state is only ever loaded once and thrown away when this throws (replay, join
    // verification), so the bytes are decoded once, by the integration itself.
    if (!fresh) {
      try {
        Y.decodeUpdate(bytes);
      } catch (e) {
        throw new MalformedPayloadError(`state does not decode: ${(e as Error)?.message ?? e}`);
      }
    }
    this.assertIdle();
    this.integrate(bytes, ORIGIN_SNAPSHOT);
    this.loadedFrom = fresh ? { version: this.version, bytes } : null;
    // Merged into a state that holds more: the order can depend on what was there (order.ts).
    if (!fresh) this.orderCheckDue = true;
  }

  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc);
  }

  hasPending(): boolean {
    return this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null;
  }

  /**
   * Lowercase hex SHA-256 of the canonical integrated state: equal on any two nodes holding the
   * same structs and deletions, whatever the delivery order (see digest.ts).
   */
  digest(): string {
    return this.canonical().digest;
  }

  /**
   * The canonical integrated state (digest.ts) and its digest, cached until the state changes.
   * Right after a fresh loadState of canonical bytes, those bytes themselves (one encode to check).
   */
  canonical(): { canonical: Uint8Array; digest: string } {
    if (this.digestCache?.version !== this.version) {
      const canonical = this.canonicalBytes();
      this.digestCache = { version: this.version, canonical, digest: canonicalDigest(canonical) };
    }
    return { canonical: this.digestCache.canonical, digest: this.digestCache.digest };
  }

  /**
   * canonical(), its digest computed by WebCrypto where available (canonicalDigestAsync): the
   * same value, cached the same way; for states of megabytes (join verification).
   * `loadedDigest`: canonicalDigestAsync of the very bytes loadState loaded, started by the
   * caller before loading them (WebCrypto hashes off the main thread meanwhile); used only
   * when those bytes prove to be the canonical state, else the digest is computed here.
   */
  async canonicalAsync(loadedDigest?: Promise<string>): Promise<{ canonical: Uint8Array; digest: string }> {
    if (this.digestCache?.version !== this.version) {
      const version = this.version;
      const canonical = this.canonicalBytes();
      const ahead = loadedDigest !== undefined && canonical === this.loadedFrom?.bytes;
      const digest = await (ahead ? loadedDigest : canonicalDigestAsync(canonical));
      if (this.version !== version) return { canonical, digest }; // changed meanwhile: not cached
      this.digestCache = { version, canonical, digest };
    }
    return { canonical: this.digestCache.canonical, digest: this.digestCache.digest };
  }

  /**
   * Canonical bytes now: right after a fresh loadState of canonical bytes, those bytes (one encode).
   * Otherwise the state is rebuilt in a fresh document (digest.ts); when a payload applied since
   * the last time may have misplaced an item (order.ts mayMisplace), the order of a document
   * loaded from the result is compared with this one's: when they differ, orderDiverged() holds
   * until the state changes and onOrderDivergence runs (the ledger reloads, order-repair.ts).
   */
  private canonicalBytes(): Uint8Array {
    const loaded = this.loadedFrom?.version === this.version ? this.loadedFrom.bytes : null;
    if (loaded !== null) return loadedCanonicalBytes(this.doc, loaded);
    const check = this.orderCheckDue;
    this.orderCheckDue = false;
    // The document's own encoding when it is canonical (digest.ts maximallyMerged): only while
    // its order is known to be the canonical one (it compares neighbours).
    if (!check && !this.diverged && maximallyMerged(this.doc)) return encodeIntegrated(this.doc);
    const { canonical, sameOrder } = canonicalStateChecked(this.doc, check);
    if (!sameOrder) {
      this.divergedAt = this.version;
      this.diverged = true;
      this.onOrderDivergence();
    }
    return canonical;
  }

  /**
   * True when the last canonical computation, of the current state, found this document ordering
   * some list or map key otherwise than the canonical state does (canonicalBytes).
   */
  orderDiverged(): boolean {
    return this.divergedAt === this.version;
  }

  /** Runs (synchronously, inside canonical()) when canonicalBytes finds the order diverged. */
  onOrderDivergence: () => void = () => undefined;
  private divergedAt = -1;
  /** Some check found the order diverged: it stays so until the ledger replaces this state. */
  private diverged = false;
  /** A payload applied since the last canonical computation may have misplaced an item (order.ts mayMisplace). */
  private orderCheckDue = false;

  /** The digest as last computed by digest() (computing it if it never was): may be stale. */
  lastDigest(): string {
    return this.digestCache?.digest ?? this.digest();
  }

  /**
   * The document as loaded, for another LedgerState to take over (LedgerStateOptions.preloaded);
   * this one must not be used afterwards. Undefined unless the state was loaded fresh from
   * canonical bytes (loadState, canonical() checked them) and has not changed since.
   */
  release(): LoadedState | undefined {
    const c = this.canonical();
    if (this.loadedFrom?.version !== this.version || c.canonical !== this.loadedFrom.bytes) return undefined;
    this.doc.off('afterTransactionCleanup', this.onCleanup);
    this.doc.off('update', this.onUpdate);
    this.doc.off('afterTransaction', this.onAfterTransaction);
    return { doc: this.doc, canonical: c.canonical, digest: c.digest };
  }

  /** The digest of the preloaded document this state still holds unchanged, if any. */
  preloadedDigest(): string | undefined {
    return this.version === 0 && this.loadedFrom?.version === 0 ? this.digestCache?.digest : undefined;
  }

  destroy(): void {
    this.doc.destroy();
  }

  private integrate(update: Uint8Array, origin: symbol): boolean {
    const before = this.version;
    try {
      Y.applyUpdate(this.doc, update, origin);
    } catch (e) {
      throw new MalformedPayloadError(`update failed to integrate: ${(e as Error)?.message ?? e}`);
    } finally {
      if (this.clientID !== null) this.doc.clientID = this.clientID;
    }
    return this.version !== before;
  }

  private assertIdle(): void {
    // Also refused inside observers: Yjs would defer that transaction's update event.
    if (this.doc._transaction !== null || this.doc._transactionCleanups.length > 0) {
      throw new StateUsageError('cannot start a ledger transaction inside another transaction or observer');
    }
  }
}

function checkBytes(bytes: Uint8Array, max: number): void {
  if (!(bytes instanceof Uint8Array)) throw new MalformedPayloadError('payload must be a Uint8Array');
  if (bytes.length === 0) throw new MalformedPayloadError('empty payload');
  if (bytes.length > max) throw new MalformedPayloadError(`payload of ${bytes.length} bytes exceeds ${max}`);
}

/** A transaction that changed the document: deletes, or a client's clock moved (as Yjs decides to emit 'update'). */
function hasContent(tr: Y.Transaction): boolean {
  if (tr.deleteSet.clients.size > 0) return true;
  for (const [client, clock] of tr.afterState) if (tr.beforeState.get(client) !== clock) return true;
  return false;
}

/** True if an encoded update holds structs of `client`, or deletes aimed at it. */
export function updateTouchesClient(bytes: Uint8Array, client: number): boolean {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(bytes);
  } catch (e) {
    throw new MalformedPayloadError(`update does not decode: ${(e as Error)?.message ?? e}`);
  }
  return decoded.structs.some((s) => s.id.client === client) || decoded.ds.clients.has(client);
}
