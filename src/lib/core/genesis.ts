// Genesis: canonical binary encoding, validation and the network id (SHA-256 of the encoding).
// Byte layout in PROTOCOL.md §2. Decoding accepts only the canonical form (re-encode and compare).
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import type { Genesis } from './types.js';
import { InvalidGenesisError } from './errors.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import { sha256 } from './hash.js';
import {
  DEFAULT_GENESIS_CREATED_AT,
  DEFAULT_MAX_ENTRY_BYTES,
  DEFAULT_NETWORK_NAME,
  GENESIS_FORMAT_V1,
  MAX_GENESIS_BYTES,
  MAX_GENESIS_OPERATORS,
  MAX_MAX_ENTRY_BYTES,
  MAX_NETWORK_NAME_BYTES,
  MIN_MAX_ENTRY_BYTES,
  NETWORK_TAG_BYTES,
  PUBLIC_KEY_BYTES
} from './constants.js';

const utf8 = new TextEncoder();
const utf8dec = new TextDecoder();
const OPERATOR_HEX = /^[0-9a-f]{64}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

export function defaultGenesis(): Genesis {
  return {
    v: 1,
    name: DEFAULT_NETWORK_NAME,
    createdAt: DEFAULT_GENESIS_CREATED_AT,
    maxEntryBytes: DEFAULT_MAX_ENTRY_BYTES,
    operators: []
  };
}

/** Throws InvalidGenesisError unless `g` is acceptable. Operators may be in any order here. */
export function validateGenesis(g: Genesis): void {
  if (g === null || typeof g !== 'object') throw new InvalidGenesisError('genesis must be an object');
  if (g.v !== GENESIS_FORMAT_V1) throw new InvalidGenesisError(`unsupported genesis version ${String(g.v)}`);
  if (typeof g.name !== 'string') throw new InvalidGenesisError('name must be a string');
  const nameBytes = utf8.encode(g.name).length;
  if (nameBytes < 1 || nameBytes > MAX_NETWORK_NAME_BYTES)
    throw new InvalidGenesisError(`name must be 1..${MAX_NETWORK_NAME_BYTES} UTF-8 bytes`);
  if (CONTROL_CHARS.test(g.name)) throw new InvalidGenesisError('name contains control characters');
  if (utf8dec.decode(utf8.encode(g.name)) !== g.name) throw new InvalidGenesisError('name is not well-formed Unicode');
  if (!Number.isSafeInteger(g.createdAt) || g.createdAt < 0)
    throw new InvalidGenesisError('createdAt must be a non-negative safe integer');
  if (
    !Number.isSafeInteger(g.maxEntryBytes) ||
    g.maxEntryBytes < MIN_MAX_ENTRY_BYTES ||
    g.maxEntryBytes > MAX_MAX_ENTRY_BYTES
  )
    throw new InvalidGenesisError(`maxEntryBytes must be in ${MIN_MAX_ENTRY_BYTES}..${MAX_MAX_ENTRY_BYTES}`);
  if (!Array.isArray(g.operators)) throw new InvalidGenesisError('operators must be an array');
  if (g.operators.length > MAX_GENESIS_OPERATORS)
    throw new InvalidGenesisError(`at most ${MAX_GENESIS_OPERATORS} operators`);
  const seen = new Set<string>();
  for (const op of g.operators) {
    if (typeof op !== 'string' || !OPERATOR_HEX.test(op))
      throw new InvalidGenesisError('operator must be 64 lowercase hex characters');
    if (seen.has(op)) throw new InvalidGenesisError('duplicate operator');
    seen.add(op);
  }
}

/** Canonical encoding; operators are sorted here, so any input order gives the same bytes. */
export function encodeGenesis(g: Genesis): Uint8Array {
  validateGenesis(g);
  const enc = encoding.createEncoder();
  encoding.writeUint8(enc, GENESIS_FORMAT_V1);
  encoding.writeVarString(enc, g.name);
  encoding.writeVarUint(enc, g.createdAt);
  encoding.writeVarUint(enc, g.maxEntryBytes);
  const ops = [...g.operators].sort();
  encoding.writeVarUint(enc, ops.length);
  for (const op of ops) encoding.writeUint8Array(enc, fromHex(op));
  return encoding.toUint8Array(enc);
}

/** Decodes and validates; refuses more than `maxBytes` before parsing, and any non-canonical form. */
export function decodeGenesis(bytes: Uint8Array, maxBytes = MAX_GENESIS_BYTES): Genesis {
  if (!(bytes instanceof Uint8Array)) throw new InvalidGenesisError('genesis must be bytes');
  if (bytes.length > maxBytes) throw new InvalidGenesisError(`genesis larger than ${maxBytes} bytes`);
  let g: Genesis;
  try {
    const dec = decoding.createDecoder(bytes);
    if (!decoding.hasContent(dec)) throw new InvalidGenesisError('empty genesis');
    const v = decoding.readUint8(dec);
    if (v !== GENESIS_FORMAT_V1) throw new InvalidGenesisError(`unsupported genesis version ${v}`);
    const name = decoding.readVarString(dec);
    const createdAt = decoding.readVarUint(dec);
    const maxEntryBytes = decoding.readVarUint(dec);
    const count = decoding.readVarUint(dec);
    if (count > MAX_GENESIS_OPERATORS) throw new InvalidGenesisError('too many operators');
    const operators: string[] = [];
    for (let i = 0; i < count; i++) operators.push(toHex(decoding.readUint8Array(dec, PUBLIC_KEY_BYTES)));
    if (decoding.hasContent(dec)) throw new InvalidGenesisError('trailing bytes after genesis');
    g = { v: 1, name, createdAt, maxEntryBytes, operators };
  } catch (e) {
    if (e instanceof InvalidGenesisError) throw e;
    throw new InvalidGenesisError(`undecodable genesis: ${(e as Error).message}`);
  }
  validateGenesis(g);
  // Canonical form only: rejects unsorted operators, non-minimal varints, invalid UTF-8.
  if (!bytesEqual(encodeGenesis(g), bytes)) throw new InvalidGenesisError('genesis is not canonically encoded');
  return g;
}

/** The network id: SHA-256 of the canonical genesis encoding (32 bytes). */
export function networkId(g: Genesis): Uint8Array {
  return sha256(encodeGenesis(g));
}

/** First NETWORK_TAG_BYTES of the network id; carried in every entry. */
export function networkTag(id: Uint8Array): Uint8Array {
  return id.slice(0, NETWORK_TAG_BYTES);
}
