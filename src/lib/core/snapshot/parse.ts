// Import, step 1: checks each NDJSON line as it arrives (JSON, fields, order, cross-checks,
// canonical entry decoding) and hashes it for the trailer. Signatures are checked later, once
// the trailer has proved the file intact (verify.ts). Everything here is synchronous.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import type { FeedHead, ForkEvidence, Genesis, HashedEntry } from '../types.js';
import { CorruptSnapshotError, MalformedSnapshotError, SnapshotTooLargeError } from '../errors.js';
import { concatBytes, toHex } from '../bytes.js';
import { decodeEntry } from '../entry.js';
import { evidenceFlaw } from '../collision.js';
import { forkSeqOf, isVoidHeadOf, isVoidSeq, type VoidTop } from '../void.js';
import { fromBase64 } from './base64.js';
import { checkHeader } from './header.js';
import type { SnapshotHeader, SnapshotLimits } from './format.js';

const NL = new Uint8Array([0x0a]);
const HEX64 = /^[0-9a-f]{64}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface ParsedSnapshot {
  header: SnapshotHeader;
  /** Decoded, cross-checked, not yet signature-verified; per author in ascending seq. */
  entries: HashedEntry[];
  /**
   * The evidence of the header's void heads (one record per void head, at its fork seq), shaped
   * as evidence (collision.ts evidenceFlaw); its entries are not yet signature-verified.
   */
  evidence: ForkEvidence[];
  /** Light snapshots: the reassembled state and the digest the file states for it. */
  state?: { bytes: Uint8Array; digest: string };
}

type Line = Record<string, unknown>;

export class SnapshotParser {
  private header: SnapshotHeader | undefined;
  private readonly hasher = nobleSha256.create();
  private ended = false;
  private lineNo = 0;
  private readonly entries: HashedEntry[] = [];
  private readonly evidence = new Map<string, ForkEvidence>();
  private readonly lastSeq = new Map<string, number>();
  private readonly lastHash = new Map<string, string>();
  private readonly afterHash = new Map<string, string | undefined>();
  private readonly heads = new Map<string, FeedHead>();
  private readonly after = new Map<string, number>();
  private readonly stateParts: Uint8Array[] = [];
  private stateSize = -1;
  private stateFilled = 0;

  constructor(
    private readonly ourNetworkId: string,
    private readonly genesis: Genesis,
    private readonly limits: SnapshotLimits
  ) {}

  /** One line without its '\n'. */
  line(bytes: Uint8Array): void {
    this.lineNo++;
    if (this.ended) throw new CorruptSnapshotError('data after the trailer line');
    const o = this.parseJson(bytes);
    if (!this.header) {
      if (o.t !== 'header') this.bad('the first line must be the header');
      this.header = checkHeader(o, this.ourNetworkId);
      for (const h of this.header.heads) this.heads.set(h.author, h);
      for (const a of this.header.after ?? []) {
        this.after.set(a.author, a.seq);
        this.afterHash.set(a.author, a.hash);
      }
    } else if (o.t === 'end') {
      return this.end(o);
    } else if (o.t === 'entry') {
      this.entry(o);
    } else if (o.t === 'evidence') {
      this.evidenceLine(o);
    } else if (o.t === 'state') {
      this.statePiece(o);
    } else {
      this.bad(`unknown line type ${JSON.stringify(o.t)}`);
    }
    this.hasher.update(bytes);
    this.hasher.update(NL);
  }

  /** At end of input. Throws CorruptSnapshotError when the trailer never came. */
  finish(): ParsedSnapshot {
    if (!this.header || !this.ended) throw new CorruptSnapshotError('snapshot is truncated: no trailer line');
    const out: ParsedSnapshot = { header: this.header, entries: this.entries, evidence: [...this.evidence.values()] };
    if (this.header.kind === 'light')
      out.state = {
        bytes: this.stateParts.length === 1 ? this.stateParts[0] : concatBytes(...this.stateParts),
        digest: this.header.stateDigest!
      };
    return out;
  }

  private bad(msg: string, cause?: unknown): never {
    throw new MalformedSnapshotError(`line ${this.lineNo}: ${msg}`, cause === undefined ? undefined : { cause });
  }

  private parseJson(bytes: Uint8Array): Line {
    let o: unknown;
    try {
      o = JSON.parse(utf8.decode(bytes));
    } catch (e) {
      this.bad(`not UTF-8 JSON (${(e as Error).message})`, e);
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) this.bad('not a JSON object');
    return o as Line;
  }

  private end(o: Line): void {
    const header = this.header!;
    // Integrity first: a damaged file is reported as corrupt, whatever else is wrong with it.
    if (o.entries !== this.entries.length)
      throw new CorruptSnapshotError(
        `trailer counts ${String(o.entries)} entries, the file has ${this.entries.length}`
      );
    if (o.sha256 !== toHex(this.hasher.digest()))
      throw new CorruptSnapshotError('trailer hash does not match the content');
    if (header.kind === 'light' && (this.stateSize < 0 || this.stateFilled !== this.stateSize))
      this.bad('light snapshot without its complete state');
    // Entries up to every plain head the header claims: a file never holds less than it says.
    if (header.kind !== 'light')
      for (const h of header.heads) {
        if (isVoidSeq(h.seq)) continue;
        const reached = this.lastSeq.get(h.author) ?? this.after.get(h.author) ?? 0;
        if (reached !== h.seq)
          this.bad(`the entries of ${h.author.slice(0, 16)}… stop at seq ${reached}, its head is ${h.seq}`);
      }
    // A void head the file does not prove (an incremental file may rely on its "after" for it).
    for (const h of header.heads) {
      if (!isVoidSeq(h.seq) || header.kind === 'light') continue;
      if (!this.evidence.has(h.author) && (this.after.get(h.author) ?? 0) !== h.seq)
        this.bad(`void head of ${h.author.slice(0, 16)}… without its evidence`);
      // Its hash binds the canonical top k (void.ts): the file holds the feed up to k, no less.
      const top = this.topOf(h.author);
      if (top !== undefined && !isVoidHeadOf(h, top))
        this.bad(`the entries of ${h.author.slice(0, 16)}… do not reach the canonical top its void head binds`);
    }
    this.ended = true;
  }

  /**
   * The canonical top of `author`'s void feed as the file holds it: its last entry line, else
   * its `after` position (undefined when that has no hash, or is the void head itself), else none.
   */
  private topOf(author: string): VoidTop | undefined {
    const seq = this.lastSeq.get(author);
    if (seq !== undefined) return { seq, hash: this.lastHash.get(author) };
    const after = this.after.get(author) ?? 0;
    if (after === 0) return { seq: 0, hash: undefined };
    const hash = this.afterHash.get(author);
    return isVoidSeq(after) || hash === undefined ? undefined : { seq: after, hash };
  }

  private entry(o: Line): void {
    const header = this.header!;
    if (header.kind === 'light') this.bad('a light snapshot has no entry lines');
    this.countEntries(1);
    const { author, seq, hash, bytes } = o;
    if (typeof author !== 'string' || !HEX64.test(author)) this.bad('entry author must be 64 lowercase hex');
    if (typeof hash !== 'string' || !HEX64.test(hash)) this.bad('entry hash must be 64 lowercase hex');
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1)
      this.bad('entry seq must be a safe integer >= 1');
    const where = `entry ${author.slice(0, 16)}…/${seq}`;
    let h: HashedEntry;
    try {
      h = decodeEntry(fromBase64(bytes as string, 'entry bytes'), this.genesis.maxEntryBytes);
    } catch (e) {
      this.bad(`${where}: ${(e as Error).message}`, e);
    }
    // The readable fields must say what the authoritative bytes say.
    if (toHex(h.entry.author) !== author || h.entry.seq !== seq || toHex(h.hash) !== hash)
      this.bad(`${where}: author, seq or hash differs from the entry bytes`);
    const head = this.heads.get(author);
    // A void head covers its canonical part only (seqs below its fork); the rest is its evidence.
    const top = head && isVoidSeq(head.seq) ? forkSeqOf(head.seq) - 1 : head?.seq;
    if (!head || top === undefined || seq > top) this.bad(`${where}: beyond the header heads`);
    if (seq === head.seq && hash !== head.hash) this.bad(`${where}: differs from the header head`);
    if (seq <= (this.after.get(author) ?? 0)) this.bad(`${where}: at or below "after"`);
    if (seq <= (this.lastSeq.get(author) ?? 0)) this.bad(`${where}: entries of an author must ascend by seq`);
    this.lastSeq.set(author, seq);
    this.lastHash.set(author, hash);
    this.entries.push(h);
  }

  /** The entries bound (§9.5) counts entry lines and both entries of each evidence line. */
  private countEntries(more: number): void {
    if (this.entries.length + 2 * this.evidence.size + more > this.limits.maxEntries)
      throw new SnapshotTooLargeError('entries', `snapshot has more than ${this.limits.maxEntries} entries`);
  }

  private evidenceLine(o: Line): void {
    const header = this.header!;
    if (header.kind === 'light') this.bad('a light snapshot has no evidence lines');
    this.countEntries(2);
    const { author, seq, a, b } = o;
    if (typeof author !== 'string' || !HEX64.test(author)) this.bad('evidence author must be 64 lowercase hex');
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1)
      this.bad('evidence seq must be a safe integer >= 1');
    const where = `evidence ${author.slice(0, 16)}…/${seq}`;
    const head = this.heads.get(author);
    if (!head || !isVoidSeq(head.seq) || forkSeqOf(head.seq) !== seq)
      this.bad(`${where}: the header has no void head of this author at this seq`);
    if (head.seq <= (this.after.get(author) ?? 0)) this.bad(`${where}: at or below "after"`);
    if (this.evidence.has(author)) this.bad(`${where}: one evidence line per void head`);
    const entry = (v: unknown, name: string): HashedEntry => {
      try {
        return decodeEntry(fromBase64(v as string, `evidence ${name}`), this.genesis.maxEntryBytes);
      } catch (e) {
        this.bad(`${where}: ${(e as Error).message}`, e);
      }
    };
    const ev: ForkEvidence = { author, seq, a: entry(a, 'a'), b: entry(b, 'b'), detectedAt: 0 };
    const flaw = evidenceFlaw(ev);
    if (flaw !== undefined) this.bad(`${where}: not evidence (${flaw})`);
    // A collision voids the other key from seq 1 as well: the header must say so too.
    const other = toHex(ev.b.entry.author);
    const theirs = this.heads.get(other);
    if (other !== author && (!theirs || !isVoidSeq(theirs.seq) || forkSeqOf(theirs.seq) !== 1))
      this.bad(`${where}: the header does not void the colliding key ${other.slice(0, 16)}…`);
    this.evidence.set(author, ev);
  }

  private statePiece(o: Line): void {
    const header = this.header!;
    if (header.kind !== 'light') this.bad('only light snapshots have state lines');
    const { digest, size, offset, bytes } = o;
    if (digest !== header.stateDigest) this.bad('state digest differs from the header');
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      this.bad('state size must be a safe integer >= 0');
    if (size > this.limits.maxStateBytes)
      throw new SnapshotTooLargeError('state-bytes', `state of ${size} bytes exceeds ${this.limits.maxStateBytes}`);
    if (this.stateSize >= 0 && size !== this.stateSize) this.bad('state size changes between state lines');
    if (offset !== this.stateFilled) this.bad(`state piece at offset ${String(offset)}, expected ${this.stateFilled}`);
    const piece = fromBase64(bytes as string, 'state bytes');
    if (this.stateFilled + piece.length > size) this.bad('state pieces exceed the state size');
    this.stateSize = size;
    this.stateParts.push(piece);
    this.stateFilled += piece.length;
  }
}
