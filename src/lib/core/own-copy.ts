// A second copy of this device's identity and own feed, kept outside the ledger store.
//
// Why: Chromium deletes an origin's whole IndexedDB when its LevelDB fails a checksum at open
// (seen after two kills in a row, README "Reliability", S1). Every other feed comes back from
// peers; the own feed's latest entries and the key that signs them may exist nowhere else. The
// worker keeps this copy in a file of the Origin Private File System (platform/opfs-file.ts) and
// restores from it when the store comes back without them (worker/own-copy.ts).
//
// File layout (little-endian):
//   header  "TBOC" (4 bytes) · version u8 (1) · network id (32) · seed (32) · public key (32)
//   records u32 length · canonical entry bytes (PROTOCOL.md §3), own entries in seq order
// The records form one chain: each links to the one before it (prev = its hash). A reader reads
// every record's length, decodes and links the first and the last OWN_COPY_TAIL_CHECK (64), and
// cuts from the first that fails (a write torn by a kill is at the end: one writer appends), so a
// later append never lands after garbage. Entries read back are verified again when ingested.
import { bytesEqual } from './bytes.js';
import { HASH_BYTES, OWN_COPY_TAIL_CHECK, PUBLIC_KEY_BYTES } from './constants.js';
import { publicKeyFromSeed } from './ed25519.js';
import { decodeEntry, encodeEntry, MIN_ENTRY_BYTES } from './entry.js';
import { OwnCopyError } from './errors.js';
import type { HashedEntry, IdentityKeys } from './types.js';

/** The calls of FileSystemSyncAccessHandle this module makes (an OPFS file in a worker). */
export interface CopyFile {
  getSize(): number;
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

const MAGIC = [0x54, 0x42, 0x4f, 0x43]; // "TBOC"
const VERSION = 1;
/** Bytes of the header: magic, version, network id, seed, public key. */
export const OWN_COPY_HEADER_BYTES = 4 + 1 + HASH_BYTES + 32 + PUBLIC_KEY_BYTES;
const LEN_BYTES = 4;

export interface OwnCopyOptions {
  /** 32-byte network id: a copy made for another network is not used. */
  networkId: Uint8Array;
  /** Largest record accepted when reading (the genesis' maxEntryBytes). */
  maxEntryBytes: number;
}

export interface OwnCopyStats {
  /** First and last seq held (0 and 0 when it holds no entry). */
  firstSeq: number;
  lastSeq: number;
  /** File size, bytes. */
  bytes: number;
  /** Bytes cut from the end at open: a torn or damaged tail (0 normally). */
  cutBytes: number;
}

/** The own copy in one file: identity in the header, own entries appended in seq order. */
export class OwnCopy {
  private keys: IdentityKeys | undefined;
  /** offsets[i]: where the record of seq firstSeq + i starts. */
  private offsets: number[] = [];
  private firstSeq = 0;
  private lastEntryHash: Uint8Array | undefined;
  private end = 0;
  private cut = 0;
  /** The header's key checks out but the rest of it does not: nothing else is read or written. */
  readOnly = false;

  private constructor(
    private readonly file: CopyFile,
    private readonly opts: OwnCopyOptions
  ) {}

  /**
   * Reads `file`: the header's identity (checked: the public key must be the seed's) and the
   * records after it, cutting from the first of its first and last OWN_COPY_TAIL_CHECK that does
   * not continue the chain. A missing or inconsistent header leaves the copy empty (identity
   * undefined); one of another version or network gives its key, read-only (readHeader).
   */
  static async open(file: CopyFile, opts: OwnCopyOptions): Promise<OwnCopy> {
    const copy = new OwnCopy(file, opts);
    await copy.load();
    return copy;
  }

  /** The identity the copy belongs to, if it holds one. */
  get identity(): IdentityKeys | undefined {
    return this.keys;
  }

  stats(): OwnCopyStats {
    const n = this.offsets.length;
    return {
      firstSeq: n === 0 ? 0 : this.firstSeq,
      lastSeq: n === 0 ? 0 : this.firstSeq + n - 1,
      bytes: this.end,
      cutBytes: this.cut
    };
  }

  /** Starts over for `keys`: the header only, no entries. */
  reset(keys: IdentityKeys): void {
    this.writable();
    const header = new Uint8Array(OWN_COPY_HEADER_BYTES);
    header.set(MAGIC, 0);
    header[4] = VERSION;
    header.set(this.opts.networkId, 5);
    header.set(keys.seed, 5 + HASH_BYTES);
    header.set(keys.publicKey, 5 + HASH_BYTES + 32);
    // Empty (no identity) until the header is written: a failed reset leaves no stale state behind.
    this.keys = undefined;
    this.offsets = [];
    this.firstSeq = 0;
    this.lastEntryHash = undefined;
    this.end = 0;
    this.file.truncate(0);
    this.writeAt(header, 0);
    this.file.flush();
    this.keys = { seed: keys.seed.slice(), publicKey: keys.publicKey.slice() };
    this.end = OWN_COPY_HEADER_BYTES;
  }

  /**
   * Appends own entries, durably (one write, then flush). The first must continue the copy: the
   * next seq linking to the last one, or any seq when the copy holds none. Throws OwnCopyError
   * (nothing written) when they do not continue it or are not the identity's; a short write
   * (no space) is cut back and throws OwnCopyError too.
   */
  append(entries: readonly HashedEntry[]): void {
    if (entries.length === 0) return;
    this.writable();
    const keys = this.keys;
    if (keys === undefined) throw new OwnCopyError('the own copy holds no identity: reset it first');
    const parts: Uint8Array[] = [];
    let seq = this.stats().lastSeq;
    let prev = this.lastEntryHash;
    for (const h of entries) {
      if (!bytesEqual(h.entry.author, keys.publicKey)) throw new OwnCopyError('entry of another author');
      if (prev !== undefined && (h.entry.seq !== seq + 1 || !bytesEqual(h.entry.prev, prev)))
        throw new OwnCopyError(`seq ${h.entry.seq} does not continue the own copy at seq ${seq}`);
      parts.push(encodeEntry(h.entry));
      seq = h.entry.seq;
      prev = h.hash;
    }
    const total = parts.reduce((n, p) => n + LEN_BYTES + p.length, 0);
    const buf = new Uint8Array(total);
    const view = new DataView(buf.buffer);
    const starts: number[] = [];
    let at = 0;
    for (const p of parts) {
      starts.push(this.end + at);
      view.setUint32(at, p.length, true);
      buf.set(p, at + LEN_BYTES);
      at += LEN_BYTES + p.length;
    }
    this.writeAt(buf, this.end);
    this.file.flush();
    if (this.offsets.length === 0) this.firstSeq = entries[0].entry.seq;
    this.offsets.push(...starts);
    this.end += total;
    this.lastEntryHash = prev;
  }

  /**
   * Up to `limit` entries held above `seq`, in order, and the seq to continue after. Decoded, not
   * verified (ingest verifies them). Stops at a record that no longer decodes, is not the
   * identity's, is not at its position's seq or does not link (damage the check at open does not
   * see), reported as `damaged` (its position's seq), rather than throw.
   */
  entriesAfter(seq: number, limit = Infinity): { entries: HashedEntry[]; next: number; damaged?: number } {
    const entries: HashedEntry[] = [];
    let i = Math.max(0, seq + 1 - this.firstSeq);
    // Each record must be the identity's, at its position's seq, linking to the one before it.
    let prev = i === 0 ? undefined : this.readRecord(this.offsets[i - 1]);
    for (; i < this.offsets.length && entries.length < limit; i++) {
      const h = this.readRecord(this.offsets[i]);
      if (!this.follows(h, this.firstSeq + i, i === 0 ? null : prev))
        return { entries, next: this.firstSeq + i, damaged: this.firstSeq + i };
      entries.push(h);
      prev = h;
    }
    return { entries, next: Math.max(seq, this.firstSeq + i - 1) };
  }

  /**
   * Drops the records from `seq` on (their entries failed verification when restored: damage the
   * chain check at open cannot see). Throws OwnCopyError when the record before no longer decodes.
   */
  cutFrom(seq: number): void {
    this.writable();
    const i = seq - this.firstSeq;
    if (i < 0 || i >= this.offsets.length) return;
    const before = i === 0 ? undefined : this.readRecord(this.offsets[i - 1]);
    if (i > 0 && before === undefined) throw new OwnCopyError(`seq ${seq - 1} of the own copy no longer decodes`);
    this.file.truncate(this.offsets[i]);
    this.file.flush();
    this.end = this.offsets[i];
    this.offsets = this.offsets.slice(0, i);
    this.lastEntryHash = before?.hash;
  }

  /** Hash of the last entry held, if any. */
  lastHash(): Uint8Array | undefined {
    return this.lastEntryHash?.slice();
  }

  close(): void {
    this.file.close();
  }

  private writable(): void {
    if (this.readOnly) throw new OwnCopyError('the own copy is read-only (its header is damaged or of another build)');
  }

  /** Writes all of `buf` at `at`; a short write is cut back and throws. */
  private writeAt(buf: Uint8Array, at: number): void {
    const n = this.file.write(buf, { at });
    if (n !== buf.length) {
      this.file.truncate(at);
      throw new OwnCopyError(`wrote ${n} of ${buf.length} bytes (no space?)`);
    }
  }

  private async load(): Promise<void> {
    const size = this.file.getSize();
    this.keys = await this.readHeader(size);
    if (this.keys === undefined || this.readOnly) return;
    // Every record's length, then the first and the last OWN_COPY_TAIL_CHECK records decoded and
    // linked: only one writer appends, so a kill can only tear the end (entries restored from the
    // rest are verified by the ledger all the same).
    const starts: number[] = [];
    let at = OWN_COPY_HEADER_BYTES;
    for (let len = this.recordLength(at, size); len !== undefined; len = this.recordLength(at, size)) {
      starts.push(at);
      at += LEN_BYTES + len;
    }
    const tail = Math.max(0, starts.length - OWN_COPY_TAIL_CHECK);
    // A record before the end that does not fit (damage, not a torn write): every record checked.
    const { valid, last, firstSeq } = this.linked(starts, size, tail) ?? this.linked(starts, size, 0)!;
    this.offsets = starts.slice(0, valid);
    this.firstSeq = firstSeq;
    this.lastEntryHash = last?.hash;
    this.end = valid === 0 ? OWN_COPY_HEADER_BYTES : (starts[valid] ?? at);
    if (this.end < size) {
      this.cut = size - this.end;
      this.file.truncate(this.end);
      this.file.flush();
    }
  }

  /**
   * How many of the records at `starts` form the identity's chain, checking from `from` on (and
   * the first record, and the one before `from`, which must hold its seq): undefined when that
   * record does not, so the caller checks from 0.
   */
  private linked(
    starts: readonly number[],
    size: number,
    from: number
  ): { valid: number; last: HashedEntry | undefined; firstSeq: number } | undefined {
    const first = starts.length === 0 ? undefined : this.readRecord(starts[0], size);
    if (!this.follows(first, first?.entry.seq ?? 0, null)) return { valid: 0, last: undefined, firstSeq: 0 };
    const firstSeq = first.entry.seq;
    const anchorAt = Math.max(0, from - 1);
    const anchor = anchorAt === 0 ? first : this.readRecord(starts[anchorAt], size);
    if (!this.follows(anchor, firstSeq + anchorAt, null)) return undefined;
    let last = anchor;
    let valid = anchorAt + 1;
    for (let i = valid; i < starts.length; i++) {
      const e = this.readRecord(starts[i], size);
      if (!this.follows(e, firstSeq + i, last)) break;
      last = e;
      valid = i + 1;
    }
    return { valid, last, firstSeq };
  }

  /**
   * True when `h` is the identity's entry at `seq` and links to `prev` (null: not checked; the
   * first record held, or an anchor whose predecessor is not read).
   */
  private follows(h: HashedEntry | undefined, seq: number, prev: HashedEntry | null | undefined): h is HashedEntry {
    return (
      h !== undefined &&
      bytesEqual(h.entry.author, this.keys!.publicKey) &&
      h.entry.seq === seq &&
      (prev === null || (prev !== undefined && bytesEqual(h.entry.prev, prev.hash)))
    );
  }

  /** The length of the record at `at`, if a whole record of a plausible length fits there. */
  private recordLength(at: number, size: number): number | undefined {
    if (at + LEN_BYTES > size) return undefined;
    const lenBuf = new Uint8Array(LEN_BYTES);
    if (this.file.read(lenBuf, { at }) !== LEN_BYTES) return undefined;
    const len = new DataView(lenBuf.buffer).getUint32(0, true);
    if (len < MIN_ENTRY_BYTES || len > this.opts.maxEntryBytes || at + LEN_BYTES + len > size) return undefined;
    return len;
  }

  /**
   * The header's identity when its key checks out (the public key is the seed's). A header whose
   * magic, version or network differ (damage, or another build's file) still gives its key, but
   * the copy is then read-only: its records are neither read nor cut nor written over.
   */
  private async readHeader(size: number): Promise<IdentityKeys | undefined> {
    if (size < OWN_COPY_HEADER_BYTES) return undefined;
    const head = new Uint8Array(OWN_COPY_HEADER_BYTES);
    if (this.file.read(head, { at: 0 }) !== head.length) return undefined;
    const seed = head.slice(5 + HASH_BYTES, 5 + HASH_BYTES + 32);
    const publicKey = head.slice(5 + HASH_BYTES + 32);
    if (!bytesEqual(await publicKeyFromSeed(seed), publicKey)) return undefined;
    this.readOnly =
      MAGIC.some((b, i) => head[i] !== b) ||
      head[4] !== VERSION ||
      !bytesEqual(head.subarray(5, 5 + HASH_BYTES), this.opts.networkId);
    return { seed, publicKey };
  }

  /** The entry of the record at `at`, if a whole, decodable one is there. */
  private readRecord(at: number, size = this.end): HashedEntry | undefined {
    const len = this.recordLength(at, size);
    if (len === undefined) return undefined;
    const bytes = new Uint8Array(len);
    if (this.file.read(bytes, { at: at + LEN_BYTES }) !== len) return undefined;
    try {
      return decodeEntry(bytes, this.opts.maxEntryBytes);
    } catch {
      return undefined;
    }
  }
}
