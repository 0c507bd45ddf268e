// Discovery announcements (@libp2p/pubsub-peer-discovery's `Peer` protobuf: field 1 `publicKey`
// bytes, field 2 `addrs` repeated bytes), decoded without libp2p so the check that binds an
// announcement to its sender stays pure: the announced key's PeerId must equal the gossip
// message's signed `from`. Only Ed25519 keys are understood (every Tabula node uses one).
import { base58btc } from '../peer-id.js';
import { FORGED_ANNOUNCEMENT } from './offences.js';

/** Largest announcement accepted (a key and a few dozen multiaddrs fit in well under 4 KiB). */
export const MAX_ANNOUNCEMENT_BYTES = 4096;
/** Addresses per announcement at most. */
export const MAX_ANNOUNCEMENT_ADDRS = 64;

/** protobuf PublicKey { Type: Ed25519 (1), Data: 32 bytes }. */
const ED25519_KEY_PREFIX = [0x08, 0x01, 0x12, 0x20];

export interface Announcement {
  /** The announced libp2p public key, protobuf-encoded. */
  publicKey: Uint8Array;
  /** Multiaddrs, binary. */
  addrs: Uint8Array[];
}

/** Why an announcement was dropped: `forged-announcement` (a ban offence) or `malformed` / `unsupported-key` (ignored). */
export type AnnouncementVerdict = 'ok' | typeof FORGED_ANNOUNCEMENT | 'malformed' | 'unsupported-key';

function varint(b: Uint8Array, at: number): [value: number, next: number] {
  let v = 0;
  for (let shift = 0, i = at; i < b.length && shift < 35; shift += 7, i++) {
    v += (b[i] & 0x7f) * 2 ** shift;
    if ((b[i] & 0x80) === 0) return [v, i + 1];
  }
  throw new RangeError('bad varint');
}

/** Decodes an announcement; throws RangeError on anything malformed or over the caps. */
export function decodeAnnouncement(bytes: Uint8Array): Announcement {
  if (bytes.length > MAX_ANNOUNCEMENT_BYTES) throw new RangeError('announcement too large');
  let publicKey: Uint8Array | undefined;
  const addrs: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const [tag, afterTag] = varint(bytes, at);
    if ((tag & 7) !== 2) throw new RangeError('unexpected wire type');
    const [len, start] = varint(bytes, afterTag);
    if (start + len > bytes.length) throw new RangeError('truncated field');
    const value = bytes.subarray(start, start + len);
    const field = tag >>> 3;
    if (field === 1) publicKey = value;
    else if (field === 2) {
      if (addrs.length >= MAX_ANNOUNCEMENT_ADDRS) throw new RangeError('too many addresses');
      addrs.push(value);
    }
    at = start + len;
  }
  if (publicKey === undefined) throw new RangeError('no public key');
  return { publicKey, addrs };
}

/** PeerId string of a protobuf-encoded Ed25519 public key, or null for other key types. */
export function peerIdOfPublicKeyProto(key: Uint8Array): string | null {
  if (key.length !== 36 || ED25519_KEY_PREFIX.some((b, i) => key[i] !== b)) return null;
  // identity multihash (0x00), length 36, then the protobuf key.
  return base58btc(Uint8Array.from([0x00, 0x24, ...key]));
}

/**
 * Checks an announcement against the PeerId that signed the gossip message carrying it
 * (`from`; undefined for unsigned messages, which are never accepted).
 */
export function checkAnnouncement(bytes: Uint8Array, from: string | undefined): AnnouncementVerdict {
  let a: Announcement;
  try {
    a = decodeAnnouncement(bytes);
  } catch {
    return 'malformed';
  }
  const announced = peerIdOfPublicKeyProto(a.publicKey);
  if (announced === null) return 'unsupported-key';
  return from !== undefined && announced === from ? 'ok' : FORGED_ANNOUNCEMENT;
}
