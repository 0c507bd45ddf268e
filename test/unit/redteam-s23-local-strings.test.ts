// Review (s23): a node's own Y.Text edit can change its document in ways the signed payload does
// not show (state/local-strings.ts). Yjs splits a string inside a surrogate pair by replacing both
// halves with U+FFFD (ContentString.splice) and may merge the halves back by the end of the
// transaction: a format that changes nothing (no update, no entry) or an emoji deleted one UTF-16
// unit at a time (the delete set joins to one clean range) left the author showing "x\uFFFD\uFFFDy"
// or holding other deleted content than its peers, with another digest; a lone surrogate stayed
// in the author's document while the payload carried U+FFFD. Such a write is now refused and the
// state rebuilt from the store: author, peer and restart agree.
import { describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { expectPeerAndRestartAgree } from '../helpers/text-agreement.js';

async function refusedEdit(keyByte: number, edit: (t: Y.Text) => void): Promise<void> {
  const loc = memoryLocation();
  const a = await openLedger(loc, keyByte);
  const t = a.ledger.registerType('notes', 'text');
  await a.ledger.transact(() => t.insert(0, 'x\u{1F600}y'));
  await expect(a.ledger.transact(() => edit(t))).rejects.toThrow(/half a character/);
  // Rebuilt from the store: the type is fetched again (the document was replaced).
  const after = a.ledger.registerType('notes', 'text');
  expect(after.toString()).toBe('x\u{1F600}y');
  await a.ledger.transact(() => after.insert(4, 'z')); // still writes
  await expectPeerAndRestartAgree(a, loc, keyByte + 1, 'x\u{1F600}yz');
}

describe('red team s23: local edits that split a surrogate pair', () => {
  it('a format changing nothing, starting inside an emoji, is refused and undone', async () => {
    await refusedEdit(61, (t) => t.format(2, 2, { bold: null }));
  });

  it('an emoji deleted one UTF-16 unit at a time in one transaction is refused and undone', async () => {
    await refusedEdit(63, (t) => {
      t.delete(2, 1);
      t.delete(1, 1);
    });
  });

  it('a lone surrogate typed locally is refused and undone', async () => {
    await refusedEdit(65, (t) => t.insert(0, 'ab\uD83D'));
  });

  it('honest edits around emoji are taken: whole emoji deleted, inserts between and after them', async () => {
    const a = await openLedger(memoryLocation(), 67);
    const t = a.ledger.registerType('notes', 'text');
    await a.ledger.transact(() => t.insert(0, '\u{1F600}\u{1F601}\u{1F44D}\u{1F3FD}'));
    await a.ledger.transact(() => t.insert(2, '-'));
    await a.ledger.transact(() => t.insert(t.length, '!'));
    await a.ledger.transact(() => t.delete(0, 2));
    await a.ledger.transact(() => t.format(0, 3, { bold: true }));
    expect(t.toString()).toBe('-\u{1F601}\u{1F44D}\u{1F3FD}!');
    const peer = await openLedger(memoryLocation(), 68);
    expect((await peer.ledger.ingest(a.log)).rejected).toEqual([]);
    expect(peer.ledger.stats().stateDigest).toBe(a.ledger.stats().stateDigest);
    for (const n of [a, peer]) await n.ledger.close();
  });
});
