import { SYNC_PROTOCOL_VERSION } from '../../src/lib/core/sync/constants.js';
import { describe, expect, it } from 'vitest';
import { SyncEngine } from '../../src/lib/core/sync/engine.js';
import type { SyncReplica } from '../../src/lib/core/sync/replica.js';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { SyncMsg } from '../../src/lib/core/sync/messages.js';
import type { FeedHead } from '../../src/lib/core/types.js';
import { HeadsTree } from '../../src/lib/core/sync/merkle.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { mulberry32, randomBytes } from '../helpers/fake-feed.js';
import { randomHead } from '../helpers/sync-fixtures.js';

const NET = new Uint8Array(32).fill(7);

function fakeReplica(heads: FeedHead[]) {
  let listener: ((hs: FeedHead[], complete?: boolean) => void) | undefined;
  const replica: SyncReplica = {
    networkId: NET,
    role: 'full',
    heads: () => heads,
    entryCount: () => heads.length,
    coverage: () => [],
    getRange: async () => [new Uint8Array(10)],
    ingest: async (b) => ({ added: b.length, forks: 0, rejected: [] }),
    onHeadsChanged(cb) {
      listener = cb;
      return () => (listener = undefined);
    }
  };
  return { replica, emit: (hs: FeedHead[], complete?: boolean) => listener?.(hs, complete) };
}

function setup(heads: FeedHead[] = []) {
  const rand = mulberry32(5);
  const sent: { peer: string; msg: SyncMsg }[] = [];
  const rejected: { peer: string; code: string }[] = [];
  const fake = fakeReplica(heads);
  let t = 0;
  const engine = new SyncEngine({
    replica: fake.replica,
    now: () => t,
    randomBytes: (n) => randomBytes(n, rand),
    send: (peer, bytes) => sent.push({ peer, msg: decodeSyncMessage(bytes) }),
    onPeerRejected: (peer, e) => rejected.push({ peer, code: e.code })
  });
  return { engine, sent, rejected, fake, advance: (ms: number) => (t += ms) };
}

const hello = (over: Partial<Extract<SyncMsg, { t: 'hello' }>> = {}): Uint8Array =>
  encodeSyncMessage({
    t: 'hello',
    version: SYNC_PROTOCOL_VERSION,
    network: NET,
    role: 'full',
    root: new HeadsTree().rootHash(),
    feeds: 0,
    entries: 0,
    coverage: [],
    salt: new Uint8Array(16),
    ...over
  });

describe('SyncEngine', () => {
  it('says hello on connect and refuses a peer of another network', async () => {
    const { engine, sent, rejected } = setup();
    engine.addPeer('p', { initiator: true });
    expect(sent[0].msg.t).toBe('hello');
    await engine.receive('p', hello({ network: new Uint8Array(32).fill(8) }));
    expect(sent[1].msg).toMatchObject({ t: 'error', code: 'sync-wrong-network' });
    expect(rejected).toEqual([{ peer: 'p', code: 'sync-wrong-network' }]);
    expect(engine.status().rejectedPeers).toBe(1);
    await engine.receive('p', hello());
    expect(sent).toHaveLength(2); // nothing more is read from a refused peer
  });

  it('refuses a hello of another protocol version (sync 1.1.0 ended at version 4) like another network', async () => {
    const { engine, sent, rejected } = setup();
    engine.addPeer('p', { initiator: true });
    await engine.receive('p', hello({ version: SYNC_PROTOCOL_VERSION - 1 }));
    expect(sent[1].msg).toMatchObject({ t: 'error', code: 'sync-wrong-network' });
    expect(rejected).toEqual([{ peer: 'p', code: 'sync-wrong-network' }]);
    expect(SYNC_PROTOCOL_VERSION).toBe(5);
  });

  it('equal roots in the hellos: no exchange; different roots: the initiator begins', async () => {
    const a = setup();
    a.engine.addPeer('p', { initiator: true });
    await a.engine.receive('p', hello());
    expect(a.sent.map((s) => s.msg.t)).toEqual(['hello']);
    expect(a.engine.status().lastEqualRootAt).not.toBeNull();
    const b = setup([randomHead(mulberry32(1))]);
    b.engine.addPeer('p', { initiator: true });
    await b.engine.receive('p', hello());
    expect(b.sent.map((s) => s.msg.t)).toEqual(['hello', 'begin']);
  });

  it('asks for the hello again when a message comes first, and refuses malformed bytes', async () => {
    const { engine, sent, rejected } = setup();
    engine.addPeer('p', { initiator: false });
    await engine.receive(
      'p',
      encodeSyncMessage({ t: 'get', rid: 1, author: '00'.repeat(32), from: 1, to: 2, maxBytes: 10 })
    );
    expect(sent[1].msg).toMatchObject({ t: 'error', code: 'sync-no-hello' });
    await engine.receive('p', encodeSyncMessage({ t: 'error', rid: 0, xid: 0, code: 'sync-no-hello', message: '' }));
    expect(sent[2].msg.t).toBe('hello');
    await engine.receive('p', Uint8Array.of(4, 1));
    expect(rejected.map((r) => r.code)).toEqual(['sync-malformed']);
  });

  it('an on-demand range asked before any hello waits for one (one request timeout at most)', async () => {
    const { engine, sent } = setup();
    engine.addPeer('p', { initiator: false });
    const author = 'ab'.repeat(32);
    let outcome: string | undefined;
    void engine.requestRange(author, 1, 5).then(
      (r) => (outcome = `${r.peer}:${r.entries.length}`),
      (e: Error) => (outcome = e.name)
    );
    await Promise.resolve();
    expect(engine.onDemandInFlight).toBe(1); // waiting for a hello, nothing sent yet
    expect(sent.some((x) => x.msg.t === 'get')).toBe(false);
    await engine.receive('p', hello());
    await new Promise((r) => setTimeout(r, 0));
    const get = sent.find((x) => x.msg.t === 'get')!.msg as Extract<SyncMsg, { t: 'get' }>;
    expect(get).toMatchObject({ author, from: 1, to: 5 });
    // A valid-looking prefix answer of one entry: bytes whose prefix parses as this author's seq 1.
    const entry = new Uint8Array(200);
    entry[0] = 2;
    entry.set(Uint8Array.from(Buffer.from(author, 'hex')), 9);
    entry[41] = 1;
    await engine.receive('p', encodeSyncMessage({ t: 'entries', rid: get.rid, entries: [entry] }));
    await new Promise((r) => setTimeout(r, 0));
    expect(outcome).toBe('p:1');
    // With no peer at all, the wait ends after one request timeout: SyncUnavailableError.
    const lonely = setup();
    let failed: string | undefined;
    void lonely.engine.requestRange(author, 1, 5).catch((e: Error) => (failed = e.name));
    lonely.advance(10_000);
    lonely.engine.tick();
    await new Promise((r) => setTimeout(r, 0));
    expect(failed).toBe('SyncUnavailableError');
  });

  it('serves range requests, refuses invalid ranges as protocol errors', async () => {
    const { engine, sent, rejected } = setup();
    engine.addPeer('p', { initiator: false });
    await engine.receive('p', hello());
    await engine.receive(
      'p',
      encodeSyncMessage({ t: 'get', rid: 9, author: '00'.repeat(32), from: 1, to: 5, maxBytes: 100 })
    );
    expect(sent.at(-1)!.msg).toMatchObject({ t: 'entries', rid: 9 });
    await engine.receive(
      'p',
      encodeSyncMessage({ t: 'get', rid: 10, author: '00'.repeat(32), from: 5, to: 1, maxBytes: 100 })
    );
    expect(rejected.map((r) => r.code)).toEqual(['sync-protocol']);
  });

  it('keeps its tree in step with the replica, including a complete reset', () => {
    const rand = mulberry32(2);
    const heads = Array.from({ length: 50 }, () => randomHead(rand));
    const { engine, fake } = setup(heads);
    const root0 = engine.status().root;
    const moved = { ...heads[3], seq: heads[3].seq + 1, hash: toHex(randomBytes(32, rand)) };
    fake.emit([moved]);
    expect(engine.status().root).not.toBe(root0);
    fake.emit([{ ...heads[3], seq: 1 }]); // an older head is ignored outside a reset
    expect(engine.tree.get(heads[3].author)).toEqual(moved);
    fake.emit(heads.slice(0, 40), true);
    expect(engine.status().root).toBe(toHex(HeadsTree.from(heads.slice(0, 40)).rootHash()));
  });
});
