// Red team (s28): client.ts put() checked the value with validateValue in the page, then posted
// the ORIGINAL value (structured clone), not the checked copy validateValue returns.
// (1) A Proxy of a plain object (every Svelte 5 `$state` object) passed the page check, and
//     postMessage still threw DataCloneError: not the node's typed InvalidRecordValueError.
// (2) A class instance was accepted before (structured clone makes it a plain object, which the
//     worker accepts); the page then refused it ("objects must be plain objects").
// Fixed: write-check.ts checkedPut clones as postMessage would, checks that, and the plain copy is sent.
import { describe, expect, it } from 'vitest';
import { validateValue } from '../../src/lib/core/state/record-value.js';
import { checkedPut } from '../../src/lib/client/write-check.js';

/** What client.put does before posting, then what crossing to the worker does. */
function pageThenPost(value: unknown): string {
  let sent: unknown;
  try {
    sent = checkedPut('k', value).value;
  } catch (e) {
    return `page: ${(e as Error).name}`;
  }
  let posted: unknown;
  try {
    posted = structuredClone(sent); // worker.postMessage({ args: [key, value] })
  } catch (e) {
    return `postMessage: ${(e as Error).name}`;
  }
  try {
    validateValue(posted); // the worker's check (Records.put)
  } catch (e) {
    return `worker: ${(e as Error).name}`;
  }
  return 'stored';
}

describe('redteam s28: page-side value check vs what crosses to the worker', () => {
  it('a proxied plain object ($state) is stored, or refused with a typed error, never DataCloneError', () => {
    const state = new Proxy({ title: 'x', n: 1 }, {});
    expect(pageThenPost(state)).toBe('stored');
    expect(checkedPut('k', state).value).toEqual({ title: 'x', n: 1 });
  });

  it('what the worker accepted after the structured clone is not refused by the page', () => {
    class Point {
      constructor(
        public x: number,
        public y: number
      ) {}
    }
    // Before this change: postMessage turned it into {x, y} and the worker stored it.
    expect(validateValue(structuredClone(new Point(1, 2)))).toEqual({ x: 1, y: 2 });
    expect(pageThenPost(new Point(1, 2))).toBe('stored');
  });

  it('bad keys and values fail in the page with the typed errors', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 5000; i++) deep = [deep];
    expect(pageThenPost(deep)).toBe('page: InvalidRecordValueError');
    expect(pageThenPost(new Date(0))).toBe('page: InvalidRecordValueError');
    expect(pageThenPost(() => 1)).toBe('page: InvalidRecordValueError');
    expect(() => checkedPut('', 1)).toThrow(expect.objectContaining({ name: 'InvalidRecordKeyError' }));
    expect(() => checkedPut('k'.repeat(257), 1)).toThrow(expect.objectContaining({ name: 'InvalidRecordKeyError' }));
  });
});
