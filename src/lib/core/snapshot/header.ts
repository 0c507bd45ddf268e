// Snapshot header: building it on export and checking every field on import. The genesis
// bytes are authoritative: the importer recomputes the network id from them.
import type { FeedHead, Genesis } from '../types.js';
import { ForeignSnapshotError, MalformedSnapshotError } from '../errors.js';
import { bytesEqual, toHex } from '../bytes.js';
import { sha256 } from '../hash.js';
import { decodeGenesis, encodeGenesis } from '../genesis.js';
import { checkHeads, headsRoot, sortHeads } from '../heads-digest.js';
import { MAX_ENTRY_CLOCK, SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from '../constants.js';
import { forkSeqOf, isVoidHeadOf, isVoidSeq, isVoidShape } from '../void.js';
import { NO_TOP_HASH } from './format.js';
import { fromBase64, toBase64 } from './base64.js';
import { SNAPSHOT_KINDS, type AfterHead, type HeadHeader, type SnapshotHeader, type SnapshotKind } from './format.js';

const HEX64 = /^[0-9a-f]{64}$/;

export interface HeaderInput {
  kind: SnapshotKind;
  genesis: Genesis;
  heads: readonly FeedHead[];
  stateDigest: string | null;
  created: Date;
  exporter: string;
  after?: readonly AfterHead[];
  headers?: readonly HeadHeader[];
}

export function buildHeader(h: HeaderInput): SnapshotHeader {
  const genesisBytes = encodeGenesis(h.genesis);
  const heads = sortHeads(h.heads);
  const header: SnapshotHeader = {
    t: 'header',
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    kind: h.kind,
    networkId: toHex(sha256(genesisBytes)),
    genesis: {
      v: h.genesis.v,
      name: h.genesis.name,
      createdAt: h.genesis.createdAt,
      maxEntryBytes: h.genesis.maxEntryBytes,
      operators: [...h.genesis.operators].sort()
    },
    genesisBytes: toBase64(genesisBytes),
    heads,
    headsRoot: headsRoot(heads),
    stateDigest: h.stateDigest,
    created: h.created.toISOString(),
    exporter: h.exporter
  };
  if (h.kind === 'incremental') header.after = sortAfter(h.after ?? []);
  if (h.kind === 'light') {
    const byAuthor = new Map((h.headers ?? []).map((x) => [`${x.author}:${x.seq}`, x]));
    header.headers = heads.map((hd) => {
      const x = byAuthor.get(`${hd.author}:${hd.seq}`);
      if (x === undefined) throw new TypeError(`no header for head ${hd.author}:${hd.seq}`);
      const out: HeadHeader = { author: hd.author, seq: hd.seq, lamport: x.lamport, clock: x.clock };
      // A void head's header names the canonical top its hash binds (void.ts).
      if (isVoidSeq(hd.seq)) Object.assign(out, { top: x.top ?? 0, topHash: x.topHash ?? NO_TOP_HASH });
      return out;
    });
  }
  return header;
}

export function sortAfter(after: readonly AfterHead[]): AfterHead[] {
  return after
    .map((a) =>
      a.hash === undefined ? { author: a.author, seq: a.seq } : { author: a.author, seq: a.seq, hash: a.hash }
    )
    .sort((a, b) => (a.author < b.author ? -1 : a.author > b.author ? 1 : 0));
}

function bad(msg: string, cause?: unknown): never {
  throw new MalformedSnapshotError(`header: ${msg}`, cause === undefined ? undefined : { cause });
}

function strictlySortedByAuthor(list: ReadonlyArray<{ author: string }>): boolean {
  for (let i = 1; i < list.length; i++) if (!(list[i - 1].author < list[i].author)) return false;
  return true;
}

/**
 * Checks a parsed header line against the format and against our network. Throws
 * ForeignSnapshotError when its genesis is another network's, MalformedSnapshotError otherwise.
 */
export function checkHeader(o: Record<string, unknown>, ourNetworkId: string): SnapshotHeader {
  if (o.format !== SNAPSHOT_FORMAT) bad(`format is not "${SNAPSHOT_FORMAT}"`);
  // Version 1 files (void heads of v1, void.ts) are read when they hold no void head.
  if (o.version !== SNAPSHOT_VERSION && o.version !== 1) bad(`unsupported version ${String(o.version)}`);
  if (typeof o.kind !== 'string' || !SNAPSHOT_KINDS.includes(o.kind as SnapshotKind)) bad('unknown kind');
  if (typeof o.networkId !== 'string' || !HEX64.test(o.networkId)) bad('networkId must be 64 lowercase hex');

  let genesisBytes: Uint8Array;
  let genesis: Genesis;
  try {
    genesisBytes = fromBase64(o.genesisBytes as string, 'genesisBytes');
    genesis = decodeGenesis(genesisBytes);
  } catch (e) {
    bad(`genesisBytes: ${(e as Error).message}`, e);
  }
  if (toHex(sha256(genesisBytes)) !== o.networkId) bad('networkId is not the SHA-256 of genesisBytes');
  if (o.networkId !== ourNetworkId)
    throw new ForeignSnapshotError(
      `snapshot is for network ${o.networkId.slice(0, 16)}… (${genesis.name}), ours is ${ourNetworkId.slice(0, 16)}…`
    );
  try {
    if (!bytesEqual(encodeGenesis(o.genesis as Genesis), genesisBytes)) bad('genesis JSON differs from genesisBytes');
  } catch (e) {
    if (e instanceof MalformedSnapshotError) throw e;
    bad(`genesis JSON: ${(e as Error).message}`, e);
  }

  const heads = o.heads as FeedHead[];
  if (!Array.isArray(heads)) bad('heads must be an array');
  try {
    checkHeads(heads);
  } catch (e) {
    bad((e as Error).message, e);
  }
  if (!strictlySortedByAuthor(heads)) bad('heads must be sorted by author');
  // A head above every real seq is a void head (void.ts): its hash binds its author, fork seq and
  // canonical top, checked against the light headers or (full, incremental) the file's entries.
  for (const h of heads)
    if (isVoidSeq(h.seq) && (!isVoidShape(h) || o.version === 1))
      bad(`head of ${h.author.slice(0, 16)}… is not a void head`);
  if (o.headsRoot !== headsRoot(heads)) bad('headsRoot does not match heads');

  if (
    o.stateDigest !== null &&
    (typeof o.stateDigest !== 'string' || o.stateDigest.length === 0 || o.stateDigest.length > 256)
  )
    bad('stateDigest must be null or a non-empty string');
  if (o.kind === 'light' && o.stateDigest === null) bad('a light snapshot needs a stateDigest');
  if (typeof o.created !== 'string' || Number.isNaN(Date.parse(o.created))) bad('created must be an ISO time');
  if (typeof o.exporter !== 'string' || !HEX64.test(o.exporter)) bad('exporter must be 64 lowercase hex');

  const header: SnapshotHeader = {
    t: 'header',
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    kind: o.kind as SnapshotKind,
    networkId: o.networkId,
    genesis,
    genesisBytes: o.genesisBytes as string,
    heads: sortHeads(heads),
    headsRoot: o.headsRoot as string,
    stateDigest: o.stateDigest as string | null,
    created: o.created,
    exporter: o.exporter
  };
  if (o.kind === 'incremental') header.after = checkAfter(o.after);
  else if (o.after !== undefined) bad('only incremental snapshots have "after"');
  if (o.kind === 'light') header.headers = checkHeadHeaders(o.headers, header.heads);
  else if (o.headers !== undefined) bad('only light snapshots have "headers"');
  return header;
}

function checkAfter(v: unknown): AfterHead[] {
  if (!Array.isArray(v)) bad('an incremental snapshot needs an "after" array');
  const out: AfterHead[] = [];
  for (const a of v as unknown[]) {
    const x = a as Record<string, unknown>;
    if (x === null || typeof x !== 'object') bad('after: item must be an object');
    if (typeof x.author !== 'string' || !HEX64.test(x.author)) bad('after: author must be 64 lowercase hex');
    if (!Number.isSafeInteger(x.seq) || (x.seq as number) < 0) bad('after: seq must be a safe integer >= 0');
    if (x.hash !== undefined && (typeof x.hash !== 'string' || !HEX64.test(x.hash))) bad('after: bad hash');
    out.push(
      x.hash === undefined
        ? { author: x.author, seq: x.seq as number }
        : { author: x.author, seq: x.seq as number, hash: x.hash as string }
    );
  }
  if (!strictlySortedByAuthor(out)) bad('after must be sorted by author, each author once');
  return out;
}

/**
 * Light headers: one {author, seq, lamport, clock} per head, in the order of heads. A head entry's
 * lamport is at least its seq. A void head's header also names its canonical top (`top` = k,
 * `topHash` = hash of entry k, 64 zeros when k = 0), which its hash must bind (void.ts); the
 * header is that of entry k (0 and 0 when k = 0), so its lamport is at least k (PROTOCOL.md §9.2).
 */
function checkHeadHeaders(v: unknown, heads: readonly FeedHead[]): HeadHeader[] {
  if (!Array.isArray(v) || v.length !== heads.length) bad('a light snapshot needs one header per head');
  return heads.map((hd, i) => {
    const x = (v as Record<string, unknown>[])[i];
    if (x === null || typeof x !== 'object') bad(`header ${i} does not match its head`);
    const voided = isVoidSeq(hd.seq);
    const top = voided ? voidTopOf(x, forkSeqOf(hd.seq)) : undefined;
    if (voided && (top === undefined || !isVoidHeadOf(hd, top)))
      bad(`header ${i} does not name the canonical top its void head binds`);
    const last = top?.seq ?? hd.seq;
    const ok =
      x.author === hd.author &&
      x.seq === hd.seq &&
      Number.isSafeInteger(x.lamport) &&
      (x.lamport as number) >= last &&
      Number.isSafeInteger(x.clock) &&
      (x.clock as number) >= 0 &&
      (x.clock as number) <= MAX_ENTRY_CLOCK &&
      (last > 0 || (x.lamport === 0 && x.clock === 0)) &&
      Object.keys(x).length === (voided ? 6 : 4);
    if (!ok) bad(`header ${i} does not match its head`);
    const out: HeadHeader = { author: hd.author, seq: hd.seq, lamport: x.lamport as number, clock: x.clock as number };
    if (top !== undefined) Object.assign(out, { top: top.seq, topHash: top.hash ?? NO_TOP_HASH });
    return out;
  });
}

/** The canonical top `{top, topHash}` of a void head's light header names (k < s), or undefined. */
function voidTopOf(x: Record<string, unknown>, s: number): { seq: number; hash: string | undefined } | undefined {
  const k = x.top;
  const hash = x.topHash;
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 0 || k >= s) return undefined;
  if (typeof hash !== 'string' || !HEX64.test(hash)) return undefined;
  if (k === 0) return hash === NO_TOP_HASH ? { seq: 0, hash: undefined } : undefined;
  return { seq: k, hash };
}
