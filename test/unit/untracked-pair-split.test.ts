// A direct change to the document (outside Ledger.transact: an editor binding, an undo manager,
// Ledger.doc) that splits a surrogate pair in a way its payload does not show. Yjs replaces both
// halves of a pair it splits with U+FFFD and may merge them back by the end of the transaction,
// so a format changing nothing that starts inside an emoji (no update at all), or an emoji deleted
// one UTF-16 unit at a time, changed only this node's document; a lone surrogate stayed in the
// document while the payload carried U+FFFD (state/local-strings.ts). Ledger.transact refused and
// undid such edits since fee59f7; the untracked path took them. Now the same watch runs on every
// direct change: it is undone by a rebuild from the store (stats().untracked.undone), changes made
// before it are signed, and the node, its peers and its restart agree.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { expectPeerAndRestartAgree } from '../helpers/text-agreement.js';

const EDITOR = Symbol('editor'); // a binding's own transaction origin

async function undoneDirect(keyByte: number, edit: (t: Y.Text) => void, before?: (t: Y.Text) => void): Promise<void> {
  const loc = memoryLocation();
  const a = await openLedger(loc, keyByte, { compactEvery: 0 });
  const t = a.ledger.registerType('notes', 'text');
  await a.ledger.transact(() => t.insert(0, 'x\u{1F600}y'));
  if (before) a.ledger.doc.transact(() => before(t), EDITOR); // an honest direct change first
  a.ledger.doc.transact(() => edit(t), EDITOR);
  await a.ledger.put('after', 1); // the queue runs the direct changes first
  const shown = a.ledger.registerType('notes', 'text').toString();
  expect(shown).toBe(before ? 'wx\u{1F600}y' : 'x\u{1F600}y');
  expect(a.ledger.stats().untracked).toEqual({ signed: before ? 1 : 0, undone: 1 });
  await expectPeerAndRestartAgree(a, loc, keyByte + 1, shown);
}

describe('direct changes that split a surrogate pair', () => {
  it('a format changing nothing, starting inside an emoji, is undone', async () => {
    await undoneDirect(121, (t) => t.format(2, 2, { bold: null }));
  });

  it('an emoji deleted one UTF-16 unit at a time in one transaction is undone', async () => {
    await undoneDirect(123, (t) => {
      t.delete(2, 1);
      t.delete(1, 1);
    });
  });

  it('a lone surrogate is undone', async () => {
    await undoneDirect(125, (t) => t.insert(0, 'ab\uD83D'));
  });

  it('an honest direct change made before the bad one is signed', async () => {
    await undoneDirect(
      127,
      (t) => t.format(3, 2, { bold: null }), // inside the emoji, after the 'w' inserted first
      (t) => t.insert(0, 'w')
    );
  });

  it('is undone without any later write, and a change made after it goes with it', async () => {
    const a = await openLedger(memoryLocation(), 131, { compactEvery: 0 });
    const t = a.ledger.registerType('notes', 'text');
    await a.ledger.transact(() => t.insert(0, 'x\u{1F600}y'));
    a.ledger.doc.transact(() => t.format(2, 2, { bold: null }), EDITOR);
    a.ledger.doc.transact(() => t.insert(0, 'v'), EDITOR);
    await a.ledger.idle();
    expect(a.ledger.registerType('notes', 'text').toString()).toBe('x\u{1F600}y');
    expect(a.ledger.stats().untracked).toEqual({ signed: 0, undone: 2 });
    await a.ledger.close();
  });

  it('honest direct edits around emoji are signed', async () => {
    const a = await openLedger(memoryLocation(), 129, { compactEvery: 0 });
    const t = a.ledger.registerType('notes', 'text');
    a.ledger.doc.transact(() => t.insert(0, '\u{1F600}\u{1F601}\u{1F44D}\u{1F3FD}'), EDITOR);
    a.ledger.doc.transact(() => t.insert(2, '-'), EDITOR);
    a.ledger.doc.transact(() => t.delete(0, 2), EDITOR);
    a.ledger.doc.transact(() => t.format(0, 3, { bold: true }), EDITOR);
    await a.ledger.put('k', 1);
    expect(a.ledger.registerType('notes', 'text').toString()).toBe('-\u{1F601}\u{1F44D}\u{1F3FD}');
    expect(a.ledger.stats().untracked).toEqual({ signed: 4, undone: 0 });
    const peer = await openLedger(memoryLocation(), 130);
    expect((await peer.ledger.ingest(a.log)).rejected).toEqual([]);
    expect(peer.ledger.stats().stateDigest).toBe(a.ledger.stats().stateDigest);
    for (const n of [a, peer]) await n.ledger.close();
  });
});
