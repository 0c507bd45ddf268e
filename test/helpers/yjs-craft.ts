// Hand-made Yjs updates for red-team tests: items with any origins, and honest edits to compare.
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

/** One string item at (client, clock) with the given origin and right origin. */
export function craftedText(
  client: number,
  origin: Y.ID | null,
  right: Y.ID | null,
  text: string,
  clock = 0
): Uint8Array {
  const enc = new Y.UpdateEncoderV1();
  encoding.writeVarUint(enc.restEncoder, 1);
  encoding.writeVarUint(enc.restEncoder, 1);
  enc.writeClient(client);
  encoding.writeVarUint(enc.restEncoder, clock);
  new Y.Item(Y.createID(client, clock), null, origin, null, right, null, null, new Y.ContentString(text)).write(enc, 0);
  encoding.writeVarUint(enc.restEncoder, 0);
  return enc.toUint8Array();
}

/** `client` typing `text` into text type 't', one update per character. */
export function typed(client: number, text = 'abcdefgh'): Uint8Array[] {
  const w = new Y.Doc({ gc: false });
  w.clientID = client;
  const out: Uint8Array[] = [];
  w.on('update', (u: Uint8Array) => out.push(u));
  for (const [i, ch] of [...text].entries()) w.getText('t').insert(i, ch);
  return out;
}

/** `client`'s insert of `ch` at `pos` into a document holding `seen`. */
export function insertAfter(seen: readonly Uint8Array[], client: number, pos: number, ch: string): Uint8Array {
  const d = new Y.Doc({ gc: false });
  for (const u of seen) Y.applyUpdate(d, u);
  const sv = Y.encodeStateVector(d);
  d.clientID = client;
  d.getText('t').insert(pos, ch);
  return Y.encodeStateAsUpdate(d, sv);
}
