/** Independent LEB128 (unsigned varint) encoder, to check the codecs against PROTOCOL.md. */
export function leb128(n: number): Uint8Array {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return new Uint8Array(out);
}
