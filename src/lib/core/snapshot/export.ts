// Snapshot export: NDJSON lines generated lazily (entries are read from the store page by page),
// batched into chunks and gzipped with the platform's CompressionStream, so neither the
// entries nor the file have to sit in memory whole.
import { NO_TOP_HASH, type HeadHeader } from './format.js';
import { IncompleteExportError } from '../errors.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import type { FeedHead, ForkEvidence, Genesis } from '../types.js';
import type { LedgerStore } from '../storage.js';
import { concatBytes, toHex } from '../bytes.js';
import { encodeEntry } from '../entry.js';
import { sortHeads } from '../heads-digest.js';
import { SNAPSHOT_STATE_CHUNK_BYTES } from '../constants.js';
import { forkSeqOf, isVoidSeq, type VoidTop } from '../void.js';
import { toBase64 } from './base64.js';
import { buildHeader } from './header.js';
import type { AfterHead, EndLine, EntryLine, EvidenceLine, SnapshotKind, StateLine } from './format.js';

/** What an export reads. */
export interface SnapshotSource {
  genesis: Genesis;
  store: Pick<LedgerStore, 'heads' | 'getRange'>;
  /** Public key (hex) of the exporting node. */
  exporter: string;
  /**
   * Heads the snapshot covers; default: the store's heads when the export starts. Entries above
   * them are left out, so concurrent writes during the export do not leak in.
   */
  heads?: readonly FeedHead[];
  /**
   * The application state at `heads`. Light snapshots need `bytes`; full and incremental
   * snapshots only write `digest` into the header (null when absent).
   */
  state?: { bytes?: Uint8Array; digest: string };
  /** Light: the causal headers of the head entries (see SnapshotHeader.headers). */
  headers?: () => Promise<HeadHeader[]>;
  /**
   * The fork and collision evidence the node holds (Ledger.forks). Full and incremental: a void
   * head (void.ts) is exported as its canonical part (seq 1..s-1) plus its evidence record at s.
   */
  forks?: () => readonly ForkEvidence[];
  /**
   * The canonical top k of each void head (void.ts; Ledger.voidTop): its feed is exported up to k.
   * Default: s - 1 (a full store that holds the whole canonical part).
   */
  voidTop?: (author: string) => VoidTop | undefined;
}

export interface ExportOptions {
  /** Default 'full'. */
  kind?: SnapshotKind;
  /** Incremental: leave out entries at or below these seqs (e.g. an earlier snapshot's heads). */
  after?: readonly AfterHead[];
  /** Header "created"; default now. */
  created?: Date;
  /** Entries read from the store per call. */
  pageSize?: number;
}

const utf8 = new TextEncoder();
const NL = 0x0a;
/** Lines are joined into chunks of about this size before compression. */
const CHUNK_BYTES = 64 * 1024;

function lineBytes(value: object): Uint8Array {
  const json = utf8.encode(JSON.stringify(value));
  const out = new Uint8Array(json.length + 1);
  out.set(json);
  out[json.length] = NL;
  return out;
}

/** The uncompressed NDJSON lines of a snapshot, each ending in '\n', trailer last. */
export async function* snapshotLines(source: SnapshotSource, opts: ExportOptions = {}): AsyncGenerator<Uint8Array> {
  const kind = opts.kind ?? 'full';
  if (kind === 'light' && !source.state?.bytes) throw new TypeError('a light snapshot needs source.state.bytes');
  if (kind === 'incremental' && !opts.after) throw new TypeError('an incremental snapshot needs opts.after');
  const heads = sortHeads(source.heads ?? (await source.store.heads()));
  const header = buildHeader({
    kind,
    genesis: source.genesis,
    heads,
    stateDigest: source.state?.digest ?? null,
    created: opts.created ?? new Date(),
    exporter: source.exporter,
    after: opts.after,
    headers: kind === 'light' ? await (source.headers ?? (() => storedHeaders(source, heads)))() : undefined
  });
  const hasher = nobleSha256.create();
  const emit = (value: object): Uint8Array => {
    const b = lineBytes(value);
    hasher.update(b);
    return b;
  };
  yield emit(header);

  let entries = 0;
  if (kind === 'light') {
    const state = source.state!.bytes!;
    let offset = 0;
    do {
      const piece = state.subarray(offset, offset + SNAPSHOT_STATE_CHUNK_BYTES);
      const line: StateLine = {
        t: 'state',
        digest: source.state!.digest,
        size: state.length,
        offset,
        bytes: toBase64(piece)
      };
      yield emit(line);
      offset += piece.length;
    } while (offset < state.length);
  } else {
    const from = new Map((opts.after ?? []).map((a) => [a.author, a.seq]));
    const pageSize = Math.max(1, opts.pageSize ?? 512);
    for (const head of heads) {
      const after = from.get(head.author) ?? 0;
      // A void feed: its canonical part, then the evidence that voids it (as sync serves it).
      const last = lastSeqOf(source, head);
      for await (const line of feedLines(source, head, after + 1, last, pageSize)) {
        yield emit(line);
        entries++;
      }
      if (isVoidSeq(head.seq) && after < head.seq) yield emit(evidenceLine(source, head));
    }
  }
  const end: EndLine = { t: 'end', entries, sha256: toHex(hasher.digest()) };
  yield lineBytes(end);
}

/** Entry lines of `head.author` from seq `first` to `last`; IncompleteExportError at a hole. */
async function* feedLines(
  source: SnapshotSource,
  head: FeedHead,
  first: number,
  last: number,
  pageSize: number
): AsyncGenerator<EntryLine> {
  for (let next = first; next <= last;) {
    const page = await source.store.getRange(head.author, next, last, pageSize);
    // Never leave out silently what the header claims: a missing entry (pruned or lost) fails the export.
    if (page.length === 0 || page[0].entry.seq !== next)
      throw new IncompleteExportError(
        `the store lacks entry ${next} of ${head.author.slice(0, 16)}… (head ${head.seq}); export a light snapshot instead`
      );
    for (const [i, h] of page.entries()) {
      if (h.entry.seq !== next + i)
        throw new IncompleteExportError(`the store lacks entry ${next + i} of ${head.author.slice(0, 16)}…`);
      yield {
        t: 'entry',
        author: head.author,
        seq: h.entry.seq,
        hash: toHex(h.hash),
        bytes: toBase64(encodeEntry(h.entry))
      };
    }
    next = page[page.length - 1].entry.seq + 1;
  }
}

/** The evidence line of a void head: the record of its author at its fork seq. */
function evidenceLine(source: SnapshotSource, head: FeedHead): EvidenceLine {
  const s = forkSeqOf(head.seq);
  const ev = source.forks?.().find((f) => f.author === head.author && f.seq === s);
  if (ev === undefined)
    throw new IncompleteExportError(`no fork evidence of ${head.author.slice(0, 16)}… at seq ${s} (its void head)`);
  return {
    t: 'evidence',
    author: head.author,
    seq: s,
    a: toBase64(encodeEntry(ev.a.entry)),
    b: toBase64(encodeEntry(ev.b.entry))
  };
}

/** Joins small pieces into chunks of about CHUNK_BYTES. */
async function* batched(lines: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  const flush = (): Uint8Array => {
    const out = new Uint8Array(size);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    parts = [];
    size = 0;
    return out;
  };
  for await (const l of lines) {
    parts.push(l);
    size += l.length;
    if (size >= CHUNK_BYTES) yield flush();
  }
  if (size > 0) yield flush();
}

/** A pull-based stream over an async iterable: nothing is produced ahead of the reader. */
export function iterableStream(it: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iter = it[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const r = await iter.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      async cancel() {
        await iter.return?.();
      }
    },
    { highWaterMark: 0 }
  );
}

/** The snapshot file: gzip of snapshotLines. Read it, or collect it with collectBytes/collectBlob. */
export function exportSnapshot(source: SnapshotSource, opts: ExportOptions = {}): ReadableStream<Uint8Array> {
  if (typeof CompressionStream === 'undefined')
    throw new TypeError('CompressionStream is not available on this platform');
  return iterableStream(batched(snapshotLines(source, opts))).pipeThrough(
    new CompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>
  );
}

export async function collectBytes(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return concatBytes(...parts);
}

/** For downloads: a gzip Blob of the whole snapshot. */
export async function collectBlob(stream: ReadableStream<Uint8Array>): Promise<Blob> {
  return new Blob([(await collectBytes(stream)) as BlobPart], { type: 'application/gzip' });
}

/** The last seq of `head`'s feed a snapshot holds: the head, or a void head's canonical top k. */
function lastSeqOf(source: SnapshotSource, head: FeedHead): number {
  if (!isVoidSeq(head.seq)) return head.seq;
  return source.voidTop?.(head.author)?.seq ?? forkSeqOf(head.seq) - 1;
}

/** The causal headers of the head entries, read from the store (light snapshots without `source.headers`). */
async function storedHeaders(source: SnapshotSource, heads: readonly FeedHead[]): Promise<HeadHeader[]> {
  const out: HeadHeader[] = [];
  for (const h of heads) {
    // A void head's header is that of its canonical top entry k (0 and 0 when k = 0), naming k.
    const seq = lastSeqOf(source, h);
    const top = isVoidSeq(h.seq) ? { top: seq, topHash: NO_TOP_HASH } : {};
    if (seq === 0) {
      out.push({ author: h.author, seq: h.seq, lamport: 0, clock: 0, ...top });
      continue;
    }
    const [e] = await source.store.getRange(h.author, seq, seq, 1);
    if (e === undefined || e.entry.seq !== seq)
      throw new TypeError(`the store holds no entry for head ${h.author.slice(0, 16)}…:${seq}`);
    if (isVoidSeq(h.seq)) top.topHash = toHex(e.hash);
    out.push({ author: h.author, seq: h.seq, lamport: e.entry.lamport, clock: e.entry.clock, ...top });
  }
  return out;
}
