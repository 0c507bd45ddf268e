// LinkLiveness: when the RTT probe gives up on a connection (consecutive unanswered pings only).
import { describe, expect, it } from 'vitest';
import { LINK_PING_FAILURES_TO_CLOSE, LinkLiveness } from '../../src/lib/worker/link-liveness.js';

const timeout = (): Error =>
  Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });

describe('LinkLiveness', () => {
  it(`closes after ${LINK_PING_FAILURES_TO_CLOSE} failures in a row, not before`, () => {
    const l = new LinkLiveness();
    for (let i = 1; i < LINK_PING_FAILURES_TO_CLOSE; i++) expect(l.failed('p', timeout())).toBe(false);
    expect(l.failed('p', timeout())).toBe(true);
    // The count starts again after a close.
    expect(l.failed('p', timeout())).toBe(false);
  });

  it('an answered ping resets the count; peers are counted apart', () => {
    const l = new LinkLiveness(2);
    expect(l.failed('p', timeout())).toBe(false);
    l.answered('p');
    expect(l.failed('p', timeout())).toBe(false);
    expect(l.failed('q', timeout())).toBe(false);
    expect(l.failed('p', timeout())).toBe(true);
  });

  it('our own overlapping ping streams are not the peer failing', () => {
    const l = new LinkLiveness(1);
    const refused = Object.assign(new Error('Too many outbound protocol streams'), {
      name: 'TooManyOutboundProtocolStreamsError'
    });
    expect(l.failed('p', refused)).toBe(false);
    expect(l.failed('p', timeout())).toBe(true);
  });

  it('forgets peers that are no longer connected', () => {
    const l = new LinkLiveness(2);
    l.failed('p', timeout());
    l.keepOnly(new Set(['q']));
    expect(l.failed('p', timeout())).toBe(false);
  });
});
