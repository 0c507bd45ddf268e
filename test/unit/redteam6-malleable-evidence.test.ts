// Red team 6: forging fork evidence against an honest author from ONE of its entries. A second
// valid signature for the same bytes (S + L, PROTOCOL.md §5.1 rule 3) would give a second hash at
// the same seq: "two validly signed entries of one author at one seq", i.e. a void feed, with no
// key. Also: the same entry with its deps or payload re-encoded differently.
import { describe, expect, it } from 'vitest';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function addL(sig: Uint8Array): Uint8Array {
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]);
  s += L;
  const out = sig.slice();
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out;
}

describe('redteam6: fork evidence forged from one honest entry', () => {
  it('S + L and re-encodings are refused; the honest feed is never void', async () => {
    const h = await openLedger(memoryLocation(), 231, { compactEvery: 0 });
    await h.ledger.put('a', 1);
    await h.ledger.put('b', 2);
    await h.ledger.close();
    const [e1, e2] = h.log;
    const bytes = encodeEntry(e2.entry);
    const malleated = bytes.slice();
    malleated.set(addL(e2.entry.sig), bytes.length - 64);
    // An over-long varint for seq (0x82 0x00 instead of 0x02): not canonical.
    const seqAt = 1 + 8 + 32; // format, network tag, author
    const overlong = new Uint8Array([...bytes.slice(0, seqAt), bytes[seqAt] | 0x80, 0x00, ...bytes.slice(seqAt + 1)]);
    const n = await openLedger(memoryLocation(), 232, { compactEvery: 0 });
    const r = await n.ledger.ingest([e1, e2, malleated, overlong]);
    expect(r.forks).toBe(0);
    expect(r.rejected.map((x) => x.code).sort()).toEqual(['bad-signature', 'malformed-entry']);
    expect(n.ledger.voidFrom(toHex(e1.entry.author))).toBeUndefined();
    expect(n.ledger.get('b')).toBe(2);
    await n.ledger.close();
  });
});
