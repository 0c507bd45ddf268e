// The libp2p PeerId string of an Ed25519 author key, computed without libp2p (the core stays
// pure): base58btc of the identity multihash of the protobuf-encoded public key. Nodes derive
// their PeerId from their author key, so a beacon's author names its PeerId.
import { fromHex } from './bytes.js';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
/** identity multihash (0x00), length 36, protobuf { Type: Ed25519 (1), Data: 32 bytes }. */
const PREFIX = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20];

/** Base58btc (Bitcoin alphabet) of `bytes`; leading zero bytes become '1'. */
export function base58btc(bytes: Uint8Array): string {
  const digits: number[] = [];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i++) {
      carry += digits[i] * 256;
      digits[i] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  let out = '';
  for (let i = 0; i < bytes.length && bytes[i] === 0; i++) out += '1';
  for (let i = digits.length - 1; i >= 0; i--) out += ALPHABET[digits[i]];
  return out;
}

/** PeerId string ("12D3KooW…") of a 64-hex Ed25519 public key. Throws on malformed hex. */
export function peerIdOfAuthor(authorHex: string): string {
  const key = fromHex(authorHex);
  if (key.length !== 32) throw new RangeError('author must be a 32-byte key');
  return base58btc(Uint8Array.from([...PREFIX, ...key]));
}
