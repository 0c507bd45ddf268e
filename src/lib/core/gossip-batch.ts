// What a message on the entries topic carries (PROTOCOL.md §2.6): one entry's canonical encoding
// (§3), or a batch of consecutive entries of one feed. A batch is what an author's node publishes
// when several of its entries are waiting (a write burst, a backlog after a slow publish): one
// gossipsub message, so one gossipsub signature, one signature check at every receiver, one
// message id in every seen cache and IHAVE, one frame per link, instead of one per entry.
//
// Batch layout: u8 0xb1 (no entry format uses it), varuint n (2 ..= GOSSIP_BATCH_MAX_ENTRIES),
// then n × varbytes (an entry's canonical encoding). The entries are of one author, with
// consecutive seqs in ascending order, and each one's `prev` is the hash of the one before it
// (they form a run of the feed). Nothing follows. The whole message is at most the genesis's
// maxEntryBytes, like a single entry, so the relay's frame cap and every receiver's size check
// stay the same. Decoding is bounded: the size first, the count before any entry, each length
// against what is left.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { ENTRY_FORMAT_V2, GOSSIP_BATCH_FORMAT, GOSSIP_BATCH_MAX_ENTRIES } from './constants.js';
import { decodeEntry } from './entry.js';
import { bytesEqual } from './bytes.js';
import { MalformedEntryError, OversizedEntryError } from './errors.js';
import type { HashedEntry } from './types.js';

/** A decoded message: its entries in feed order, each with its canonical bytes (a view into the message). */
export interface GossipEntries {
  entries: HashedEntry[];
  encoded: Uint8Array[];
}

/** Bytes a batch of these encoded entries takes (its header and length prefixes included). */
export function batchBytes(encoded: readonly Uint8Array[]): number {
  let n = 1 + varUintBytes(encoded.length);
  for (const e of encoded) n += varUintBytes(e.byteLength) + e.byteLength;
  return n;
}

/**
 * The message for `encoded` entries (canonical encodings, a run of one feed in seq order): the
 * entry itself when there is one, else a batch. Throws MalformedEntryError for none or more than
 * GOSSIP_BATCH_MAX_ENTRIES. Does not check the run (the receiver does).
 */
export function encodeGossipMessage(encoded: readonly Uint8Array[]): Uint8Array {
  if (encoded.length === 0 || encoded.length > GOSSIP_BATCH_MAX_ENTRIES)
    throw new MalformedEntryError(`a gossip message carries 1 to ${GOSSIP_BATCH_MAX_ENTRIES} entries`);
  if (encoded.length === 1) return encoded[0];
  const enc = encoding.createEncoder();
  encoding.writeUint8(enc, GOSSIP_BATCH_FORMAT);
  encoding.writeVarUint(enc, encoded.length);
  for (const e of encoded) encoding.writeVarUint8Array(enc, e);
  return encoding.toUint8Array(enc);
}

/**
 * Decodes a message of the entries topic: one entry or a batch. `maxBytes`: the largest message
 * (and entry) accepted, checked before anything is parsed. Throws OversizedEntryError over it,
 * MalformedEntryError for anything else that is not a canonical entry or a well-formed batch
 * (unknown first byte, a count out of 2 ..= GOSSIP_BATCH_MAX_ENTRIES, a length overrunning the
 * message, trailing bytes, entries not a run of one feed). Does not verify signatures.
 */
export function decodeGossipMessage(data: Uint8Array, maxBytes: number): GossipEntries {
  if (!(data instanceof Uint8Array)) throw new MalformedEntryError('message must be bytes');
  if (data.length > maxBytes) throw new OversizedEntryError(`message is ${data.length} bytes, limit ${maxBytes}`);
  if (data.length === 0 || data[0] !== GOSSIP_BATCH_FORMAT) {
    if (data.length > 0 && data[0] !== ENTRY_FORMAT_V2)
      throw new MalformedEntryError(`unknown message format ${data[0]}`);
    return { entries: [decodeEntry(data, maxBytes)], encoded: [data] };
  }
  const encoded = splitBatch(data);
  const entries = encoded.map((e) => decodeEntry(e, maxBytes));
  checkRun(entries);
  return { entries, encoded };
}

/**
 * The entries' canonical bytes in a message already judged well-formed (a validator Accepted
 * it): views into `data`, without decoding the entries. Bounded like decodeGossipMessage; throws
 * MalformedEntryError on a malformed batch.
 */
export function splitGossipMessage(data: Uint8Array): Uint8Array[] {
  return data.length > 0 && data[0] === GOSSIP_BATCH_FORMAT ? splitBatch(data) : [data];
}

/**
 * Entries a message claims: a batch's count (1 to GOSSIP_BATCH_MAX_ENTRIES, whatever it says),
 * else 1. Safe on hostile bytes (the relay's rate limit runs it before any content check): never
 * below 1, so junk claiming no entries still costs its sender. Reads at most 11 bytes.
 */
export function gossipMessageEntries(data: Uint8Array): number {
  if (data.length === 0 || data[0] !== GOSSIP_BATCH_FORMAT) return 1;
  try {
    const dec = decoding.createDecoder(data.subarray(0, 11));
    decoding.readUint8(dec);
    return Math.max(1, Math.min(decoding.readVarUint(dec), GOSSIP_BATCH_MAX_ENTRIES));
  } catch {
    return 1;
  }
}

function splitBatch(data: Uint8Array): Uint8Array[] {
  const dec = decoding.createDecoder(data);
  try {
    decoding.readUint8(dec);
    const n = decoding.readVarUint(dec);
    if (n < 2 || n > GOSSIP_BATCH_MAX_ENTRIES)
      throw new MalformedEntryError(`a batch carries 2 to ${GOSSIP_BATCH_MAX_ENTRIES} entries, not ${n}`);
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const len = decoding.readVarUint(dec);
      if (len > data.length - dec.pos) throw new MalformedEntryError('batch entry length overruns the message');
      out.push(decoding.readUint8Array(dec, len));
    }
    if (decoding.hasContent(dec)) throw new MalformedEntryError('trailing bytes after the batch');
    // Canonical: the varuints as encodeGossipMessage writes them (one message, one encoding).
    if (!bytesEqual(encodeGossipMessage(out), data)) throw new MalformedEntryError('batch is not canonically encoded');
    return out;
  } catch (e) {
    if (e instanceof MalformedEntryError) throw e;
    throw new MalformedEntryError(`undecodable batch: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** One author, consecutive ascending seqs, each prev the hash of the entry before it. */
function checkRun(entries: readonly HashedEntry[]): void {
  for (let i = 1; i < entries.length; i++) {
    const a = entries[i - 1];
    const b = entries[i];
    if (!bytesEqual(a.entry.author, b.entry.author)) throw new MalformedEntryError('batch mixes authors');
    if (b.entry.seq !== a.entry.seq + 1) throw new MalformedEntryError('batch seqs are not consecutive');
    if (!bytesEqual(b.entry.prev, a.hash)) throw new MalformedEntryError('batch entries do not link');
  }
}

function varUintBytes(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes++;
  }
  return bytes;
}
